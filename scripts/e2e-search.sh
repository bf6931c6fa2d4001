#!/usr/bin/env bash
# End-to-end search in the real app: seeds a couple with a 10,000-message conversation (by the
# node API: src-tauri/examples/seed_conversation.rs), opens Alice's data in the real app under
# a private Xvfb through tauri-driver, and runs ui/e2e/search.mjs: a word from message 1,203 of
# 10,000 is searched, found, and opened in its conversation with the messages around it
# (screenshots target/e2e/search.png and search-opened.png). Everything it starts is stopped on
# exit.
#
#   scripts/e2e-search.sh              build, then test
#   scripts/e2e-search.sh --no-build   test the binary and ui/dist already built
#   DUET_APP=path/to/duet-app E2E_MESSAGES=2000 scripts/e2e-search.sh --no-build
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${DUET_APP:-$root/target/debug/duet-app}"
messages="${E2E_MESSAGES:-10000}"

script_name=e2e-search
# shellcheck source=lib/common.sh
. "$root/scripts/lib/common.sh"
parse_build_flag "$@"

require_tools Xvfb WebKitWebDriver node
ensure_tauri_driver
# The seeded data is locked with this passphrase (no keyring runs here), and opened with it.
export DUET_PASSPHRASE="duet search passphrase"
build_app

work="$(mktemp -d -t duet-search.XXXXXX)"
pids=()
cleanup() {
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
trap cleanup EXIT
trap 'exit 130' INT TERM

say "seeding a conversation of $messages messages"
mkdir -p "$work/alice" "$work/bob"
(cd "$root" && cargo run -q -p duet-app --example seed_conversation -- "$work/alice" "$work/bob" "$messages")

setsid Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || fail "Xvfb did not start"
display=":$(tr -d '[:space:]' <"$work/display")"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port="$(free_port)"
native="$(free_port)"
DISPLAY="$display" DUET_DATA_DIR="$work/alice" DUET_LISTEN=/ip4/127.0.0.1/tcp/0 DUET_NO_MDNS=1 \
  setsid "$tauri_driver" --port "$port" --native-port "$native" >"$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done

say "searching $messages messages in $app"
(cd "$root" && DISPLAY="$display" E2E_APP="$app" E2E_PORT="$port" E2E_MESSAGES="$messages" node ui/e2e/search.mjs)
say "passed"
