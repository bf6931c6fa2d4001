#!/usr/bin/env bash
# The UI's TypeScript types (ui/src/lib/backend/bindings/) are generated from the Rust types
# by ts-rs (src-tauri/src/bindings.rs). This regenerates them and fails if the committed files
# differ, so a Rust change that alters what the UI receives cannot land without its bindings.
#
#   scripts/check-bindings.sh           regenerate, fail on drift (CI, `make lint`)
#   scripts/check-bindings.sh --write   regenerate only (after changing a Rust type)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindings="ui/src/lib/backend/bindings"

write_only=0
case "${1:-}" in
  "") ;;
  --write) write_only=1 ;;
  *) echo "check-bindings: unknown argument '$1' (expected --write or nothing)" >&2; exit 2 ;;
esac

cd "$root"
DUET_WRITE_BINDINGS=1 cargo test -q -p duet-app --features ts --bin duet-app -- bindings:: >/dev/null
((write_only)) && { echo "check-bindings: $bindings regenerated"; exit 0; }

# Changed, deleted, or new and not yet committed: all are drift.
if ! git diff --exit-code --stat -- "$bindings" || [ -n "$(git ls-files --others --exclude-standard -- "$bindings")" ]; then
  git ls-files --others --exclude-standard -- "$bindings" | sed 's/^/new, not committed: /' >&2
  echo "check-bindings: $bindings is out of date with the Rust types; run scripts/check-bindings.sh --write and commit the result" >&2
  exit 1
fi
echo "check-bindings: $bindings matches the Rust types"
