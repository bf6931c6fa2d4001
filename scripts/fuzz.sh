#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (see fuzz/README.md) briefly: first replays the saved crash
# inputs in fuzz/regressions/<target>/ (they must all pass once the bug is fixed), then fuzzes
# each target for the given number of seconds, growing fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh              every target, 30 s each
#   scripts/fuzz.sh 60           every target, 60 s each
#   scripts/fuzz.sh 10 payload event     only these targets
#
# Needs cargo-fuzz (installed here if missing) and nightly (or stable, unlocked; see below). Builds go to
# fuzz/target, crash inputs to fuzz/artifacts/<target>/, logs to fuzz/target/fuzz-logs/.
# Exits non-zero if a regression input fails or fuzzing finds a crash; prints a summary with
# libFuzzer's execution count per target either way.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/fuzz"
seconds="${1:-30}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [seconds] [target...]" >&2
    exit 2
fi

# libFuzzer needs nightly's -Z flags. Where only the stable toolchain is installed (a machine
# that cannot fetch another), stable is told to accept them (RUSTC_BOOTSTRAP=1): the same
# compiler, its unstable options unlocked, which is all cargo-fuzz asks of nightly.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    echo "fuzz.sh: no nightly toolchain; using the default one with RUSTC_BOOTSTRAP=1" >&2
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 2
fi

cd "$fuzz_dir" || exit 2
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi

echo "== building ${#targets[@]} fuzz targets"
cargo "${toolchain[@]}" fuzz build || exit 1

logs="$fuzz_dir/target/fuzz-logs"
mkdir -p "$logs"
failed=()
summary=()
for t in "${targets[@]}"; do
    # 1. Replay the saved regressions, one by one (a directory of files given to libFuzzer
    #    runs each file once).
    if compgen -G "regressions/$t/*" >/dev/null; then
        echo "== $t: replaying regressions/$t"
        if ! cargo "${toolchain[@]}" fuzz run "$t" regressions/"$t"/* >"$logs/$t.regressions.log" 2>&1; then
            echo "!! $t: a regression input fails (see $logs/$t.regressions.log)"
            grep -m1 -A3 "panicked at" "$logs/$t.regressions.log" || true
            failed+=("$t (regression)")
        fi
    fi

    # 2. Fuzz.
    echo "== $t: fuzzing for ${seconds}s"
    mkdir -p "corpus/$t"
    cargo "${toolchain[@]}" fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$logs/$t.log" 2>&1
    status=$?
    execs="$(grep -m1 'stat::number_of_executed_units' "$logs/$t.log" | awk '{print $2}')"
    cov="$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1 | grep -oE 'cov: [0-9]+' | awk '{print $2}')"
    if [ "$status" -ne 0 ]; then
        echo "!! $t: crash found (see $logs/$t.log and fuzz/artifacts/$t/)"
        grep -m1 -A3 "panicked at" "$logs/$t.log" || tail -20 "$logs/$t.log"
        failed+=("$t")
        summary+=("$(printf '%-16s CRASH   execs=%s' "$t" "${execs:-?}")")
    else
        summary+=("$(printf '%-16s ok      execs=%-10s cov=%s' "$t" "${execs:-?}" "${cov:-?}")")
    fi
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
