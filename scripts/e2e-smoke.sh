#!/usr/bin/env bash
# End-to-end smoke test of the real desktop app: builds the UI and `duet-app`, starts a private
# Xvfb server, launches the app with an empty temporary data directory, waits for the window
# titled "Duet", screenshots the screen to target/e2e/foundation.png and checks the picture is
# not blank (more than 10 colours: a window that failed to render its page is one flat colour).
# Everything it starts is stopped on exit, whatever happens.
#
#   scripts/e2e-smoke.sh              build, then test
#   scripts/e2e-smoke.sh --no-build   test the binary and ui/dist already built
#   DUET_APP=path/to/duet-app scripts/e2e-smoke.sh --no-build   test another binary
#
# Needs: xvfb, x11-utils, imagemagick (scripts/install-deps.sh installs them).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${DUET_APP:-$root/target/debug/duet-app}"
out_dir="$root/target/e2e"
shot="$out_dir/foundation.png"
window_timeout=60   # seconds to wait for the window
render_timeout=30   # seconds to wait for the page to paint once the window exists
# Debian's ImageMagick: /usr/local/bin/convert on some machines is something else.
convert="${CONVERT:-/usr/bin/convert}"
identify="${IDENTIFY:-/usr/bin/identify}"

script_name=e2e-smoke
# shellcheck source=lib/common.sh
. "$root/scripts/lib/common.sh"
parse_build_flag "$@"

require_tools Xvfb xwininfo xwd "$convert" "$identify"

build_app

work="$(mktemp -d -t duet-e2e.XXXXXX)"
xvfb_pid=""
app_pid=""
cleanup() {
  local status=$?
  set +e # a process that already died must not stop the clean-up
  stop "$app_pid"
  stop "$xvfb_pid"
  rm -rf "$work"
  exit "$status"
}
stop() { # pid: TERM, then KILL if it is still there after 5 s
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting Xvfb"
start_xvfb
xvfb_pid="${pids[-1]}"
say "Xvfb is on display $display"

mkdir -p "$work/data" "$out_dir"
say "launching $app (data in $work/data)"
# No keyring runs here: the data is locked with a passphrase given in the environment.
DISPLAY="$display" DUET_DATA_DIR="$work/data" DUET_PASSPHRASE="duet test passphrase" "$app" >"$work/app.log" 2>&1 &
app_pid=$!

app_log() { sed 's/^/    app: /' "$work/app.log" >&2; }

deadline=$((SECONDS + window_timeout))
until xwininfo -display "$display" -root -tree 2>/dev/null | grep -q '"Duet": '; do
  if ! kill -0 "$app_pid" 2>/dev/null; then
    app_log
    fail "duet-app exited before opening its window"
  fi
  ((SECONDS < deadline)) || { app_log; fail "no window titled Duet after ${window_timeout} s"; }
  sleep 0.5
done
say "the Duet window is open"

# The window appears before the webview paints; take screenshots until the page shows.
colours=0
deadline=$((SECONDS + render_timeout))
while :; do
  sleep 1
  kill -0 "$app_pid" 2>/dev/null || { app_log; fail "duet-app exited after opening its window"; }
  xwd -root -silent -display "$display" | "$convert" xwd:- "$shot"
  colours="$("$identify" -format '%k' "$shot")"
  ((colours > 10)) && break
  ((SECONDS < deadline)) || break
done

if ((colours <= 10)); then
  app_log
  fail "the screenshot $shot has only $colours colours: the window looks blank"
fi
say "screenshot $shot has $colours colours"
say "passed"
