#!/usr/bin/env bash
# What Duet depends on, checked (`make lint`):
#   - Rust: `cargo deny check` against deny.toml — licenses, bans (wildcards) and sources
#     always; advisories (RustSec: vulnerable, unsound, unmaintained or yanked crates) against
#     the RustSec database, fetched from GitHub;
#   - the window's production npm dependencies: `npm audit --omit=dev`, moderate and above.
# The two advisory databases live on the internet. Where one cannot be reached (a build
# machine with only package registries), that check says so and is skipped, unless
# DUET_REQUIRE_ADVISORIES=1, which makes it fail instead. Everything else is checked offline.
# Installs cargo-deny (cargo install, about five minutes once) when it is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'deny: %s\n' "$*"; }
unreachable() {
  if [ "${DUET_REQUIRE_ADVISORIES:-0}" = 1 ]; then
    say "FAILED: $1 (DUET_REQUIRE_ADVISORIES=1)" >&2
    exit 1
  fi
  say "NOT CHECKED: $1"
}

if ! cargo deny --version >/dev/null 2>&1; then
  say "installing cargo-deny (cargo install cargo-deny --version 0.20.2 --locked)"
  cargo install cargo-deny --version 0.20.2 --locked --quiet
fi

# cargo-deny reads `cargo metadata` offline, which needs the crates of every platform in the
# lock file (windows-sys…), not only this one's that a build fetched: fetched first (quick
# when they are there already).
cargo fetch --locked --quiet
cargo deny --offline check bans licenses sources
# A fresh copy when GitHub answers; else the copy fetched last time, if any (its date is said).
dbs="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
timeout 120 cargo deny fetch db >/dev/null 2>&1 || true
db="$(ls -d "$dbs"/advisory-db-*/ 2>/dev/null | head -n1 || true)"
if [ -n "$db" ]; then
  say "Rust advisories: the RustSec database of $(git -C "$db" log -1 --format=%cs 2>/dev/null || echo 'an unknown date')"
  cargo deny --offline check advisories
else
  unreachable "Rust advisories: the RustSec database (github.com/rustsec/advisory-db) could not be fetched"
fi

# npm answers an audit with a JSON report, or with an error when its audit service is not
# there (code ENOAUDIT, or a failed request).
cd ui
if report="$(timeout 120 npm audit --omit=dev --audit-level=moderate --json 2>/dev/null)"; then
  say "npm audit (production dependencies): no advisories at moderate or above"
elif printf '%s' "$report" | grep -q '"vulnerabilities"'; then
  printf '%s\n' "$report" >&2
  say "FAILED: npm audit found advisories in the window's production dependencies (above)" >&2
  exit 1
else
  unreachable "npm advisories: the registry's audit service could not be reached"
fi
