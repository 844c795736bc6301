#!/usr/bin/env bash
# Fuzzes the decoders a peer or the disk reaches (native/src/fuzzing) with AFL++ through
# cargo-afl, on stable Rust, and prints per target its run time, executions, coverage, crashes
# and hangs. Not part of CI: it runs as long as it is told.
#
#   scripts/fuzz.sh [target|all] [seconds per target]     (default: all, 300)
#
# Installs cargo-afl and builds AFL++ the first time. Seeds are generated valid inputs
# (tests/fuzz/src/seeds.rs); findings stay in build/fuzz/<target>/out/default/{crashes,hangs},
# and `tests/fuzz/target/release/fuzz <target> < file` replays one with its backtrace.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
which=${1:-all}
seconds=${2:-300}
work=build/fuzz

command -v cargo-afl >/dev/null 2>&1 || cargo install --locked cargo-afl@0.18.2
# `config --build` refuses when AFL++ is built already for this toolchain: that is fine.
if ! built=$(cargo afl config --build 2>&1); then
  grep -q "already built" <<<"$built" || { echo "$built" >&2; exit 1; }
fi
(cd tests/fuzz && nice -n 19 cargo afl build --release --quiet)
bin=tests/fuzz/target/release

rm -rf "$work/seeds"
if [ "$which" = all ]; then
  targets=$("$bin/seeds" "$work/seeds")
else
  targets=$("$bin/seeds" "$work/seeds" "$which")
fi
[ -n "$targets" ] || { echo "no target named $which" >&2; exit 2; }

# A shared machine: no CPU pinning, no frequency check; crashes abort rather than dump core.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
for target in $targets; do
  out="$work/$target/out"
  rm -rf "$out"
  mkdir -p "$out"
  echo "== $target: $seconds s"
  nice -n 19 cargo afl fuzz -V "$seconds" -i "$work/seeds/$target" -o "$out" \
    -- "$bin/fuzz" "$target" >"$work/$target/afl.log" 2>&1 || true
  stats="$out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "$target: AFL++ did not start, see $work/$target/afl.log" >&2
    continue
  fi
  awk -F' *: ' -v t="$target" '
    { s[$1] = $2 }
    END {
      printf "%s: %s s, %s execs (%s/s), corpus %s, edges %s of %s (%s), crashes %s, hangs %s\n",
        t, s["run_time"], s["execs_done"], s["execs_per_sec"], s["corpus_count"],
        s["edges_found"], s["total_edges"], s["bitmap_cvg"], s["saved_crashes"], s["saved_hangs"]
    }' "$stats"
done
