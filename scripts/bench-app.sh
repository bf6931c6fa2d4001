#!/usr/bin/env bash
# Benchmark of the real desktop app (not run in CI; prints figures, asserts nothing):
# start-up time to a usable window and idle memory of the app and its WebKit processes, with a
# 10,000-message conversation open, next to the Tauri floor measured the same way in the same
# run (bench/tauri-floor: the same Tauri, one static page). Targets: Duet ≤ the floor + 25 MB
# PSS, window mapped ≤ 0.5 s.
#
#   scripts/bench-app.sh              build (release), seed, measure
#   scripts/bench-app.sh --no-build   measure the binary already built (DUET_APP=… to choose)
#   BENCH_MESSAGES=10000 BENCH_RUNS=3 scripts/bench-app.sh
#
# The conversation is seeded once per size (target/bench/seed-N/, by the node API:
# src-tauri/examples/seed_conversation.rs) and copied for each measurement. The first run
# follows a page-cache drop when this user may drop it (root), so it is a cold start; the others
# are warm. Figures come from ui/e2e/bench.mjs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${BENCH_PROFILE:-release}"
app="${DUET_APP:-$root/target/$profile/duet-app}"
messages="${BENCH_MESSAGES:-10000}"

script_name=bench-app
# shellcheck source=lib/common.sh
. "$root/scripts/lib/common.sh"
parse_build_flag "$@"

require_tools Xvfb xwininfo WebKitWebDriver node
ensure_tauri_driver

cargo_profile=()
[ "$profile" = release ] && cargo_profile=(--release)
# The seeded data is locked with this passphrase (no keyring runs here), and opened with it.
export DUET_PASSPHRASE="duet bench passphrase"
# One cargo call for both, so the floor links Tauri with exactly the app's features.
build_app "${cargo_profile[@]}" -p tauri-floor
floor="$(dirname "$app")/tauri-floor"
[ -x "$floor" ] || fail "$floor does not exist; run without --no-build"

ensure_seed "$messages" "${cargo_profile[@]}"

# How much of the release layout's list (src-tauri/build.rs) this binary still has.
list="$root/src-tauri/hot-code.txt.gz"
if [ "$profile" = release ] && [ -f "$list" ]; then
  listed="$(gzip -dc "$list" | wc -l)"
  present="$(comm -12 <(gzip -dc "$list" | sort -u) <(nm --defined-only "$app" | awk '{print $3}' | hot_code_keys | sort -u) | wc -l)"
  say "hot code: $present of the $listed functions listed are in the binary (scripts/hot-code.sh lists them again)"
  # A function renamed, or a RUSTFLAGS variable (it replaces the v0 names of .cargo/config.toml),
  # leaves functions a launch runs out of the list: ~3 MB more at rest.
  if [ "$present" -lt $((listed * 95 / 100)) ]; then
    say "hot code: the list is stale (under 95% present); figures below are not comparable until it is traced again"
  fi
fi

use_work_folder duet-bench
cp -a "$seed/alice" "$work/alice"
start_xvfb
start_app_driver "$work/alice"

if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
  say "page cache dropped: run 1 is a cold start"
else
  say "cannot drop the page cache here: every run is a warm start"
fi
say "measuring $app with $messages messages"
DISPLAY="$display" DUET_DATA_DIR="$work/alice" E2E_APP="$app" E2E_FLOOR="$floor" E2E_PORT="$port" node "$root/ui/e2e/bench.mjs"
