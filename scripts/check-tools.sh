#!/usr/bin/env bash
# Checks that every tool the scripts and tests require comes from a Debian package that
# scripts/install-deps.sh installs or pulls in (its dependencies, recursively), or is one of
# the tools it takes from wherever they are (Node, cargo). A tool that is only on this machine
# by chance (stop 11: `xwd`, from x11-apps, which install-deps did not install) makes
# `make test` fail on a fresh machine while CI stays green; this catches that class.
#
# Where the required tools are declared:
#   - shell scripts: `require_tools TOOL…` (scripts/lib/common.sh); `"$var"` arguments are
#     resolved from the `var=…` line of the same script (its default, for `${X:-default}`);
#   - Rust tests: `require_tool("TOOL")` (a helper each test crate that runs tools has).
# Run after scripts/install-deps.sh (CI: `.ci/run`). Needs dpkg and apt-cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'check-tools: %s\n' "$*"; }

# tool<TAB>where it is required
required="$(
  for file in $(git ls-files 'scripts/*.sh' 'scripts/**/*.sh'); do
    grep -E '^[[:space:]]*require_tools ' "$file" | sed -E 's/^[[:space:]]*require_tools //' | tr ' ' '\n' |
      while read -r word; do
        [ -n "$word" ] || continue
        if [[ "$word" =~ ^\"?\$\{?([A-Za-z_][A-Za-z_0-9]*)\}?\"?$ ]]; then
          var="${BASH_REMATCH[1]}"
          line="$(grep -E "^[[:space:]]*${var}=" "$file" | head -n1 || true)"
          [ -n "$line" ] || { say "$file: cannot resolve \$$var" >&2; echo "UNRESOLVED:$var	$file"; continue; }
          value="${line#*=}"
          value="${value%%#*}"
          value="$(echo "$value" | sed -E 's/^"//; s/"[[:space:]]*$//; s/^\$\{[A-Za-z_0-9]+:-(.*)\}$/\1/')"
          word="$value"
        fi
        printf '%s\t%s\n' "${word//\"/}" "$file"
      done
  done
  { git ls-files '*.rs' | xargs grep -ho 'require_tool("[^"]*")' 2>/dev/null || true; } |
    sed -E 's/require_tool\("([^"]*)"\)/\1\tRust tests/'
)"
required="$(printf '%s\n' "$required" | sort -u)"

mapfile -t listed < <(scripts/install-deps.sh --list)
packages=()
user_tools=()
for item in "${listed[@]}"; do
  case "$item" in
    tool:*) user_tools+=("${item#tool:}") ;;
    *) packages+=("$item") ;;
  esac
done

# What installing those packages brings: the packages and everything they depend on.
closure="$(
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${packages[@]}" 2>/dev/null |
    sed -E 's/^[[:space:]]*(\|?(Pre)?Depends: )?//; s/[<>]//g' | sed -E 's/:any$//' | sort -u
)"
in_closure() { grep -qxF "$1" <<<"$closure"; }

# The package a file belongs to (usr-merged systems record /bin and /sbin paths).
owner() {
  local path="$1" candidate
  for candidate in "$path" "$(readlink -f "$path")" "${path#/usr}" "$(readlink -f "$path" | sed 's#^/usr##')"; do
    [ -n "$candidate" ] || continue
    if out="$(dpkg -S "$candidate" 2>/dev/null)"; then
      echo "${out%%:*}" | cut -d, -f1 | sed -E 's/:.*//'
      return 0
    fi
  done
  return 1
}

failures=0
checked=0
while IFS=$'\t' read -r tool where; do
  [ -n "$tool" ] || continue
  checked=$((checked + 1))
  if [[ "$tool" == UNRESOLVED:* ]]; then
    say "FAILED: $where requires \$${tool#UNRESOLVED:}, which this check cannot resolve" >&2
    failures=$((failures + 1))
    continue
  fi
  if printf '%s\n' "${user_tools[@]}" | grep -qxF "$(basename "$tool")"; then
    continue
  fi
  path="$(command -v "$tool" 2>/dev/null || true)"
  if [ -z "$path" ]; then
    say "FAILED: $tool (required by $where) is not on this machine after install-deps" >&2
    failures=$((failures + 1))
    continue
  fi
  if ! package="$(owner "$path")"; then
    say "FAILED: $tool (required by $where) is $path, which no Debian package installed; add its package to install-deps" >&2
    failures=$((failures + 1))
    continue
  fi
  if ! in_closure "$package"; then
    say "FAILED: $tool (required by $where) comes from $package, which install-deps neither installs nor pulls in" >&2
    failures=$((failures + 1))
  fi
done <<<"$required"

if ((failures)); then
  say "$failures of $checked required tools are not provided by scripts/install-deps.sh" >&2
  exit 1
fi
say "all $checked required tools come from packages install-deps installs"
