#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed time (FUZZ_SECONDS each, 60 by default), growing
# the corpus in fuzz/corpus/<target>, then minimises each corpus. A crash stops the run and
# leaves its input in fuzz/artifacts/<target>/; fix it, then add the input to the corpus.
#
# libFuzzer's instrumentation needs nightly Rust's flags: a nightly toolchain is used when
# rustup has one, otherwise the stable one with RUSTC_BOOTSTRAP=1. The first run installs
# cargo-fuzz and builds the targets with coverage instrumentation (several minutes).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request config flatgeobuf datetime)
for t in "${targets[@]}"; do
  echo "== $t: ${seconds} s"
  mkdir -p "corpus/$t"
  # The request target shares one in-process server: one job, one worker.
  "${fuzz[@]}" run -j 1 "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1
  "${fuzz[@]}" cmin "$t" "corpus/$t" -- -max_len=8192 >/dev/null 2>&1 || true
done
