fn main() -> std::process::ExitCode {
    shipline_cli::main::<shipline_doctor::Doctor>()
}
