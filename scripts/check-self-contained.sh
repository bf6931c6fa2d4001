#!/usr/bin/env bash
# The repository must stand alone for whoever clones it: no file may point at documents that
# live outside it (the design notes and style guide the project started from, in a sibling
# `shared` folder). What those said is in docs/ now (docs/README.md lists it). This fails,
# printing the offending lines, if any tracked file (or new, not yet ignored one) refers to
# them again.
#
#   scripts/check-self-contained.sh     (CI, `make lint`)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Built from pieces so that this script does not match itself.
design="DES""IGN"
shared="sha""red"
style="STY""LE"
pattern="\.\./${shared}|${shared}/(seed|${design})|${style}\.md|(^|[^A-Za-z_])${design}([^A-Za-z_]|\$)"

status=0
hits="$(git grep -n -I -E --untracked -e "$pattern" -- .)" || status=$?
case "$status" in
  0)
    printf '%s\n' "$hits" >&2
    echo "check-self-contained: the lines above refer to documents outside the repository;" \
      "point to docs/ instead (docs/architecture.md, docs/protocols.md, docs/decisions.md…)" >&2
    exit 1
    ;;
  1) echo "check-self-contained: no references outside the repository" ;;
  *)
    echo "check-self-contained: git grep failed (status $status)" >&2
    exit "$status"
    ;;
esac
