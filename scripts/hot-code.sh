#!/usr/bin/env bash
# Writes src-tauri/hot-code.txt.gz: the functions duet-app runs from launch to a conversation
# open and at rest, which the release link lays out first and side by side (src-tauri/build.rs
# says why; docs/desktop-app.md has the figures). Not run in CI; run it again when the list has
# gone stale (bench-app.sh prints how much of it the binary still has).
#
#   scripts/hot-code.sh              build the traced binary (~10-25 min), trace, write the list
#   scripts/hot-code.sh --no-build   trace the binary built before
#   HOT_CODE_SECONDS=50              how long each traced run lasts after its node has started
#                                    (past the app bench's 45 s at rest)
#
# The traced binary is a release build of its own (target/hot-code/) with every function
# aligned to a page of its own (an LLVM option, added to .cargo/config.toml's flags), so that a
# page used is a function used. Its symbol names are the release build's: flags do not enter
# them. It runs twice on a copy of the bench's seeded conversation (10,000 messages) with
# scripts/hot-code/touch.c preloaded, which records each page of the program's own code the
# first time it is used; scripts/hot-code/functions.mjs turns the pages into names, and the
# list keeps them without the parts a dependency update changes (hot_code_keys in
# scripts/lib/common.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/target/hot-code"
app="$target/release/duet-app"
seconds="${HOT_CODE_SECONDS:-50}"

script_name=hot-code
# shellcheck source=lib/common.sh
. "$root/scripts/lib/common.sh"
parse_build_flag "$@"

require_tools Xvfb cc readelf nm gzip node
export DUET_PASSPHRASE="duet bench passphrase"
CARGO_TARGET_DIR="$target" DUET_HOT_CODE=0 \
  build_app --release --config 'build.rustflags = ["-C", "llvm-args=-align-all-functions=12"]'
ensure_seed 10000 --release

use_work_folder duet-hot-code
cc -O2 -shared -fPIC -o "$work/touch.so" "$root/scripts/hot-code/touch.c"
cp -a "$seed/alice" "$work/alice"
start_xvfb

# Starts the app on the copy (extra variables before it) and waits until its node has started;
# sets `app_pid`.
launch() {
  env DISPLAY="$display" DUET_DATA_DIR="$work/alice" "$@" setsid "$app" >"$work/app.log" 2>&1 &
  app_pid=$!
  pids+=("$app_pid")
  for _ in $(seq 600); do grep -q ' started$' "$work/app.log" && return; sleep 0.1; done
  fail "the app's node did not start within 60 s"
}

# Two runs, and a function either used is listed: the first opens the seed as the seeding
# process left it (what bench-app.sh launches on, a fresh copy each time), the second the same
# copy again after the app closed it (as a person's own data is opened). Each open runs some
# code the other does not (sled's recovery of a log another process wrote, for one), and a
# cold function one launch calls maps a whole large folio of the cold part
# (docs/desktop-app.md, "The code a launch uses").
trace() {
  launch TOUCH_EXE=duet-app LD_PRELOAD="$work/touch.so"
  sleep "$seconds"
  cp "/proc/$app_pid/maps" "$work/maps-$1"
  kill -TERM "$app_pid"
  wait "$app_pid" || true
  unset 'pids[-1]'
}
say "tracing $app for $seconds s on the seed as written"
trace first
say "tracing $app for $seconds s on the same data opened again"
trace again
node "$root/scripts/hot-code/functions.mjs" "$app" "$work/hot-code.txt" "$work/maps-first" "$work/maps-again"
# Names as the list keeps them (without the parts a dependency update changes), each once.
hot_code_keys <"$work/hot-code.txt" | awk '!seen[$0]++' | gzip -9n >"$root/src-tauri/hot-code.txt.gz"
say "wrote src-tauri/hot-code.txt.gz; the next release build (cargo build --release -p duet-app) uses it"
