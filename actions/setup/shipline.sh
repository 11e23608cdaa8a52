#!/usr/bin/env bash
# shipline's installer and launcher, called by every shipline action from its own folder.
#
#   shipline.sh install             install the binaries; outputs `bin-dir` and `version`
#   shipline.sh run TOOL [ARGS...]  install if needed, then run `shipline-TOOL`
#   shipline.sh dispatch            the root action: `INPUT_COMMAND` is "TOOL [COMMAND]"
#
# The version is read from VERSION beside this script (not `github.action_ref`, which is empty
# inside composite steps). A release archive is verified against sha256.txt, committed beside
# it, before it is unpacked: an archive whose checksum is missing or different is never run.
# VERSION `dev` builds from the action's own source with `cargo build --release --locked`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools=(deploy migrate rollback backup-check notify probe doctor)

fail() {
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
    echo "::error title=shipline setup::$1"
  else
    echo "error: $1" >&2
  fi
  exit "${2:-1}"
}

# Sets TARGET, the release target of this runner.
TARGET=""
target_triple() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os" in
    Linux) os=unknown-linux-musl ;;
    macOS | Darwin) os=apple-darwin ;;
    *) fail "runner OS \`$os\` is not supported; shipline ships Linux and macOS binaries (use a \`ubuntu-*\` or \`macos-*\` runner)" ;;
  esac
  case "$arch" in
    X64 | x86_64 | amd64) arch=x86_64 ;;
    ARM64 | aarch64 | arm64) arch=aarch64 ;;
    *) fail "runner architecture \`$arch\` is not supported; shipline ships x86_64 and aarch64 binaries" ;;
  esac
  TARGET="$arch-$os"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Set by `install`: where the binaries are, and which version they are.
BIN_DIR=""
VERSION=""
WORK_DIR=""
trap 'rm -rf "$WORK_DIR"' EXIT

# The `setup` action's outputs, and PATH for the job's later steps.
write_outputs() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    { echo "bin-dir=$BIN_DIR"; echo "version=$VERSION"; } >>"$GITHUB_OUTPUT"
  fi
  if [ -n "${GITHUB_PATH:-}" ]; then
    echo "$BIN_DIR" >>"$GITHUB_PATH"
  fi
}

# Installs the binaries when needed and sets BIN_DIR and VERSION. It prints only progress, on
# stderr, and failures as annotations: it never runs inside `$(...)`, where they would be lost.
install() {
  local version
  version="$(tr -d '[:space:]' <"$here/VERSION")"
  [ -n "$version" ] || fail "$here/VERSION is empty"
  VERSION="$version"

  if [ "$version" = "dev" ]; then
    command -v cargo >/dev/null 2>&1 || fail "VERSION is \`dev\`, which builds from source, but \`cargo\` is not on PATH; install Rust first (e.g. \`dtolnay/rust-toolchain\`) or use a released version"
    local args=(build --release --locked --manifest-path "$root/Cargo.toml") t
    for t in "${tools[@]}"; do args+=(--bin "shipline-$t"); done
    echo "building shipline from source ($root)" >&2
    cargo "${args[@]}" >&2 || fail "\`cargo build --release --locked\` failed (see above)"
    BIN_DIR="${CARGO_TARGET_DIR:-$root/target}/release"
    return
  fi

  local target archive cache dest
  target_triple
  target="$TARGET"
  archive="shipline-v$version-$target.tar.gz"
  cache="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/shipline"
  dest="$cache/$version/$target"
  if [ -x "$dest/shipline-probe" ]; then
    BIN_DIR="$dest"
    return
  fi

  local expected
  expected="$(awk -v a="$archive" '$2 == a || $2 == "*"a { print $1 }' "$here/sha256.txt")"
  [ -n "$expected" ] || fail "no checksum for \`$archive\` in $here/sha256.txt; this shipline version does not ship a build for \`$target\`, or the release commit is incomplete"

  local base="${SHIPLINE_DOWNLOAD_URL:-https://github.com/shipline/shipline/releases/download}"
  local url="$base/v$version/$archive"
  mkdir -p "$cache"
  WORK_DIR="$(mktemp -d "$cache/.download.XXXXXX")"
  local work="$WORK_DIR"
  echo "downloading $url" >&2
  curl --fail --silent --show-error --location --retry 3 --retry-delay 2 --connect-timeout 20 \
    --output "$work/$archive" "$url" || fail "could not download \`$url\`"
  local actual
  actual="$(sha256_of "$work/$archive")"
  [ "$actual" = "$expected" ] || fail "checksum mismatch for \`$archive\`: expected $expected, got $actual; refusing to run it"

  mkdir -p "$work/unpacked"
  tar -xzf "$work/$archive" -C "$work/unpacked" || fail "could not unpack \`$archive\`"
  local t
  for t in "${tools[@]}"; do
    [ -x "$work/unpacked/shipline-$t" ] || fail "\`$archive\` has no \`shipline-$t\`"
  done
  mkdir -p "$(dirname "$dest")"
  # A rename, so a concurrent job sees either no install or a whole one (`dest` did not exist
  # above; if another job won the race, its install is used).
  mv "$work/unpacked" "$dest" 2>/dev/null || true
  [ -x "$dest/shipline-probe" ] || fail "could not install into \`$dest\`"
  BIN_DIR="$dest"
}

run_tool() {
  local tool="$1"
  shift
  local known=" ${tools[*]} "
  [[ "$known" == *" $tool "* ]] || fail "unknown shipline tool \`$tool\`; use one of: ${tools[*]}" 2
  # The install's own outputs belong to `setup`, not to the tool's step.
  install
  rm -rf "$WORK_DIR"
  exec "$BIN_DIR/shipline-$tool" "$@"
}

case "${1:-}" in
  install)
    install
    write_outputs
    ;;
  run)
    shift
    [ $# -ge 1 ] || fail "usage: shipline.sh run TOOL [ARGS...]" 2
    run_tool "$@"
    ;;
  dispatch)
    read -r tool rest <<<"${INPUT_COMMAND:-}"
    [ -n "${tool:-}" ] || fail "invalid input \`command\`: is required; write the tool and, for migrate, its command, e.g. \`deploy\` or \`migrate up\`" 2
    export INPUT_COMMAND="${rest:-}"
    run_tool "$tool"
    ;;
  *) fail "usage: shipline.sh install | run TOOL [ARGS...] | dispatch" 2 ;;
esac
