# Shared by the scripts that run the real app (e2e-smoke.sh, e2e-app.sh, bench-app.sh):
# messages, the one `--no-build` flag, required tools, building, tauri-driver.
# Source it after setting `root`, `app` and `script_name`.

say() { printf '%s: %s\n' "$script_name" "$*"; }
fail() {
  printf '%s: FAILED: %s\n' "$script_name" "$*" >&2
  exit 1
}

# Sets `build` (1 or 0) from the script's only, optional argument.
parse_build_flag() {
  build=1
  case "${1:-}" in
    "") ;;
    --no-build) build=0 ;;
    *) fail "unknown argument '$1' (expected --no-build or nothing)" ;;
  esac
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing; run scripts/install-deps.sh"
  done
}

# Builds ui/dist and duet-app (extra arguments go to cargo, e.g. --release) unless --no-build
# was given, then checks that both are there.
build_app() {
  if ((build)); then
    say "building the UI and duet-app"
    (cd "$root/ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build --silent)
    (cd "$root" && cargo build -p duet-app "$@")
  fi
  [ -x "$app" ] || fail "$app does not exist; run without --no-build"
  [ -f "$root/ui/dist/index.html" ] || fail "ui/dist is missing; run without --no-build"
}

# Sets `tauri_driver`, installing it (cargo install, ~20 s) when it is missing.
ensure_tauri_driver() {
  tauri_driver="$(command -v tauri-driver || true)"
  if [ -z "$tauri_driver" ]; then
    say "installing tauri-driver"
    cargo install tauri-driver --version '^2' --locked --quiet
    tauri_driver="$(command -v tauri-driver || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver")"
  fi
  [ -x "$tauri_driver" ] || fail "tauri-driver could not be installed"
}
