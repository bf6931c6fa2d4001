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

use_work_folder duet-search

say "seeding a conversation of $messages messages"
mkdir -p "$work/alice" "$work/bob"
(cd "$root" && cargo run -q -p duet-app --example seed_conversation -- "$work/alice" "$work/bob" "$messages")

start_xvfb
start_app_driver "$work/alice"

say "searching $messages messages in $app"
(cd "$root" && DISPLAY="$display" E2E_APP="$app" E2E_PORT="$port" E2E_MESSAGES="$messages" node ui/e2e/search.mjs)
say "passed"
