# Shared by the scripts that run the real app (e2e-smoke.sh, e2e-app.sh, e2e-search.sh,
# bench-app.sh, hot-code.sh): messages, the one `--no-build` flag, required tools, building,
# the seeded conversation, tauri-driver, a work folder whose processes are stopped on exit,
# Xvfb, free ports.
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

# The hot-code list's form of symbol names, from stdin to stdout (src-tauri/build.rs): the
# parts that change when a dependency does written as `*`: in a v0 Rust name each crate's
# disambiguator and each back-reference, and the crate a generic function was instantiated
# for (the name's last element, a crate root or a back-reference to one: which crate's copy the
# optimiser keeps varies from build to build); and in any name the number LLVM appends to tell
# local functions of the same name apart (`write_str.127`). A name can also end in an
# identifier that looks like a crate root (`...Cs*_8duet_app4main`): only a root whose length
# is its name's is the instantiating crate.
hot_code_keys() {
  awk '
    /^_R/ { gsub(/Cs[0-9A-Za-z]+_/, "Cs*_"); gsub(/B[0-9A-Za-z]*_/, "B*_") }
    { sub(/\.[0-9]+$/, ".*") }
    /^_R/ && match($0, /B\*_(\.\*)?$/) { $0 = substr($0, 1, RSTART - 1) "*" }
    /^_R/ && match($0, /Cs\*_[0-9]+[A-Za-z_][A-Za-z0-9_]*(\.\*)?$/) {
      crate = substr($0, RSTART + 4)
      sub(/\.\*$/, "", crate)
      digits = crate
      sub(/[^0-9].*$/, "", digits)
      if (length(crate) - length(digits) == digits + 0) $0 = substr($0, 1, RSTART - 1) "*"
    }
    { print }'
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

# A paired couple with $1 direct messages in $seed/alice and $seed/bob (src-tauri/examples/
# seed_conversation.rs, through the node's API), made once per size in target/bench/seed-$1/;
# sets `seed`. Extra arguments go to cargo (e.g. --release). The data is locked with
# $DUET_PASSPHRASE.
ensure_seed() {
  local messages="$1"
  shift
  seed="$root/target/bench/seed-$messages"
  # Raised when the seeding changes what it leaves (2: the words index merged as it grows;
  # 3: the store consolidated as it grows).
  local version=3
  [ "$(cat "$seed/done" 2>/dev/null)" = "$version" ] && return
  say "seeding a conversation of $messages messages in $seed"
  rm -rf "$seed"
  mkdir -p "$seed/alice" "$seed/bob"
  (cd "$root" && cargo run -q -p duet-app "$@" --example seed_conversation -- "$seed/alice" "$seed/bob" "$messages")
  echo "$version" >"$seed/done"
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

# A work folder (`work`, named after $1) and the process groups started for it (`pids`),
# stopped in reverse order on exit (TERM, then KILL); after a failure the tail of each log in
# the folder is shown. Start each process with `setsid … &` and add it with `pids+=($!)`.
use_work_folder() {
  work="$(mktemp -d -t "$1.XXXXXX")"
  pids=()
  trap stop_work EXIT
  trap 'exit 130' INT TERM
}
stop_work() {
  local status=$?
  set +e
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${pids[i]}" 2>/dev/null
    sleep 0.5
    kill -KILL -- "-${pids[i]}" 2>/dev/null
    wait "${pids[i]}" 2>/dev/null
  done
  ((status == 0)) || { tail -n 30 "$work"/*.log >&2; }
  rm -rf "$work"
  exit "$status"
}

free_port() { # a TCP port nobody listens on now
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts a private Xvfb (a work folder's process; it picks a free display itself and writes
# its number to fd 3 once ready); sets `display`. `-noreset`: by default Xvfb resets itself
# each time its last client leaves, and a window opened during that reset fails ("Failed to
# initialize GTK"): the bench closes every window between two launches and lost a launch to it.
start_xvfb() {
  setsid Xvfb -displayfd 3 -noreset -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
  pids+=($!)
  local xvfb=$!
  for _ in $(seq 100); do
    [ -s "$work/display" ] && break
    kill -0 "$xvfb" 2>/dev/null || fail "Xvfb exited: $(cat "$work/xvfb.log")"
    sleep 0.1
  done
  [ -s "$work/display" ] || fail "Xvfb did not start within 10 s"
  display=":$(tr -d '[:space:]' <"$work/display")"
}

# Starts tauri-driver on $display for the app's data in $1 (loopback only, no mDNS) and waits
# until it listens; sets `port`.
start_app_driver() {
  port="$(free_port)"
  local native
  native="$(free_port)"
  DISPLAY="$display" DUET_DATA_DIR="$1" DUET_LISTEN=/ip4/127.0.0.1/tcp/0 DUET_NO_MDNS=1 \
    setsid "$tauri_driver" --port "$port" --native-port "$native" >"$work/driver.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
}
