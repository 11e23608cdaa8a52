//! `actions/setup/shipline.sh` against a local release server.

use std::process::Output;

use shipline_testkit::ActionsStep;

use crate::release;

const TARGET: &str = "x86_64-unknown-linux-musl";

struct World {
    _dir: tempfile::TempDir,
    repo: std::path::PathBuf,
    cache: std::path::PathBuf,
    server: shipline_testkit::Fake,
}

fn make_world(checksum: Option<&str>, corrupt: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let bins = release::script_bins(dir.path());
    let releases = dir.path().join("releases");
    let (name, sha) = release::archive(&releases, "1.2.3", TARGET, &bins);
    if corrupt {
        let path = releases.join("v1.2.3").join(&name);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(path, bytes).unwrap();
    }
    let table = match checksum {
        Some("none") => vec![],
        Some(other) => vec![(name, other.to_owned())],
        None => vec![(name, sha)],
    };
    let repo = release::actions_copy(dir.path(), "1.2.3", &table);
    let cache = dir.path().join("toolcache");
    let server = release::server(&releases);
    World {
        _dir: dir,
        repo,
        cache,
        server,
    }
}

fn run(
    world: &World,
    step: &ActionsStep,
    args: &[&str],
) -> (Output, shipline_testkit::actions_env::StepResult) {
    let output = step
        .command("bash")
        .arg(world.repo.join("actions/setup/shipline.sh"))
        .args(args)
        .env("RUNNER_TOOL_CACHE", &world.cache)
        .env("SHIPLINE_DOWNLOAD_URL", world.server.url())
        .output()
        .unwrap();
    let result = step.result(output.clone());
    (output, result)
}

#[test]
fn a_good_archive_is_verified_installed_cached_and_run() {
    let world = make_world(None, false);
    let step = ActionsStep::push();
    let (_, result) = run(&world, &step, &["install"]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let bin_dir = world.cache.join("shipline/1.2.3").join(TARGET);
    assert_eq!(result.outputs["bin-dir"], bin_dir.display().to_string());
    assert_eq!(result.outputs["version"], "1.2.3");
    let path_file = std::fs::read_to_string(step.dir().join("path")).unwrap();
    assert_eq!(
        path_file.trim(),
        bin_dir.display().to_string(),
        "added to GITHUB_PATH"
    );
    assert_eq!(world.server.requests().len(), 1);

    let (output, _) = run(&world, &step, &["run", "probe", "--url", "x"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ran shipline-probe --url x command=[]\n"
    );
    assert_eq!(
        world.server.requests().len(),
        1,
        "the second step downloads nothing"
    );
    let leftovers: Vec<_> = std::fs::read_dir(world.cache.join("shipline"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["1.2.3"], "no download folder is left behind");
}

#[test]
fn a_corrupted_archive_is_refused_and_never_run() {
    let world = make_world(None, true);
    let (output, result) = run(&world, &ActionsStep::push(), &["run", "probe"]);
    assert_eq!(result.code, Some(1));
    assert!(result.stdout.contains("::error title=shipline setup::checksum mismatch for `shipline-v1.2.3-x86_64-unknown-linux-musl.tar.gz`"), "{}", result.everything());
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("ran shipline"),
        "the binary never ran"
    );
    assert!(
        !world.cache.join("shipline/1.2.3").exists(),
        "nothing was cached"
    );
}

#[test]
fn a_missing_archive_or_checksum_fails_plainly() {
    let world = make_world(None, false);
    let step = ActionsStep::push().env("RUNNER_ARCH", "ARM64");
    let (_, result) = run(&world, &step, &["install"]);
    assert_eq!(result.code, Some(1));
    assert!(
        result
            .stdout
            .contains("no checksum for `shipline-v1.2.3-aarch64-unknown-linux-musl.tar.gz`"),
        "{}",
        result.stdout
    );
    assert!(
        world.server.requests().is_empty(),
        "refused before downloading"
    );

    let world = make_world(Some(&"0".repeat(64)), false);
    std::fs::remove_file(
        world
            .repo
            .parent()
            .unwrap()
            .join("releases/v1.2.3/shipline-v1.2.3-x86_64-unknown-linux-musl.tar.gz"),
    )
    .unwrap();
    let (_, result) = run(&world, &ActionsStep::push(), &["install"]);
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("could not download"),
        "{}",
        result.everything()
    );
    assert!(!world.cache.join("shipline/1.2.3").exists());
}

#[test]
fn an_unsupported_runner_is_named() {
    let world = make_world(None, false);
    let (_, result) = run(
        &world,
        &ActionsStep::push().env("RUNNER_OS", "Windows"),
        &["install"],
    );
    assert_eq!(result.code, Some(1));
    assert!(
        result
            .stdout
            .contains("runner OS `Windows` is not supported"),
        "{}",
        result.stdout
    );
}

#[test]
fn the_root_action_dispatches_on_command() {
    let world = make_world(None, false);
    let step = ActionsStep::push().input("command", "migrate up");
    let (output, _) = run(&world, &step, &["dispatch"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ran shipline-migrate  command=[up]\n"
    );
    let step = ActionsStep::push().input("command", "rollout");
    let (_, result) = run(&world, &step, &["dispatch"]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("unknown shipline tool `rollout`"),
        "{}",
        result.stdout
    );
    let (_, result) = run(&world, &ActionsStep::push(), &["dispatch"]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stdout
            .contains("invalid input `command`: is required"),
        "{}",
        result.stdout
    );
}

#[test]
fn dev_builds_from_the_actions_own_source() {
    let world = make_world(None, false);
    std::fs::write(world.repo.join("actions/setup/VERSION"), "dev\n").unwrap();
    // A recording `cargo`: the real release build is what `bench` measures.
    let fake_bin = world.repo.parent().unwrap().join("fake-cargo");
    std::fs::create_dir_all(&fake_bin).unwrap();
    let log = fake_bin.join("log");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > {}\nmkdir -p \"$CARGO_TARGET_DIR/release\"\nfor t in {}; do printf '#!/bin/sh\\necho dev-%s\\n' \"$t\" > \"$CARGO_TARGET_DIR/release/shipline-$t\"; chmod +x \"$CARGO_TARGET_DIR/release/shipline-$t\"; done\n",
        log.display(),
        release::TOOLS.join(" ")
    );
    std::fs::write(fake_bin.join("cargo"), script).unwrap();
    release::make_executable(&fake_bin.join("cargo"));
    let target = world.repo.parent().unwrap().join("target");
    let step = ActionsStep::push()
        .env(
            "PATH",
            &format!("{}:{}", fake_bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("CARGO_TARGET_DIR", &target.display().to_string());
    let (output, result) = run(&world, &step, &["run", "notify"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "dev-notify\n",
        "{}",
        result.everything()
    );
    let args = std::fs::read_to_string(&log).unwrap();
    let manifest = world.repo.join("Cargo.toml");
    assert_eq!(
        args.trim(),
        format!(
            "build --release --locked --manifest-path {} --bin shipline-deploy --bin shipline-migrate --bin shipline-rollback --bin shipline-backup-check --bin shipline-notify --bin shipline-probe --bin shipline-doctor",
            manifest.display()
        )
    );
    assert!(world.server.requests().is_empty());
}
