#!/usr/bin/env bash
# bench/sampler/run.sh — the sampler benchmark: hpt's TPE (univariate and
# multivariate) and random sampler against Optuna's TPESampler and
# RandomSampler on six functions, plus the time one suggestion takes with
# 100, 1,000 and 10,000 finished trials. Not part of the test suite.
#
#   bench/sampler/run.sh            # SEEDS=20 TRIALS=200 JOBS=2
#   SEEDS=5 bench/sampler/run.sh    # quicker
#   PREBUILT=1 BUILD=dir run.sh     # use the libraries already in dir
#
# Writes bench/results/sampler.csv (raw rows) and bench/results/sampler.md
# (tables). Needs python3 with venv and network access to PyPI the first
# time (bench/.venv, git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SEEDS=${SEEDS:-20}
TRIALS=${TRIALS:-200}
JOBS=${JOBS:-2}
BUILD=${BUILD:-$root/build-bench}
venv=$root/bench/.venv
results=$root/bench/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q optuna scipy numpy
fi
py=$venv/bin/python

if [ -z "${PREBUILT:-}" ]; then
  cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHPT_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j"$JOBS" --target hpt_coordinator >/dev/null
fi
make -s -C "$here" BUILD="$BUILD" OUT="$BUILD/bench_sampler"
bench=$BUILD/bench_sampler

functions="branin hartmann6 rosenbrock5 ackley5 styblinski_tang5 mixed"
start=$(date +%s)

# ---- regret: one job per (implementation, sampler, function) ------------
jobs=$work/jobs
: >"$jobs"
for f in $functions; do
  for s in tpe tpe_mv random; do
    echo "$bench regret $s $f 0 $SEEDS $TRIALS > $work/hpt_${s}_$f.csv" >>"$jobs"
    echo "$py $here/optuna_bench.py regret $s $f 0 $SEEDS $TRIALS > $work/optuna_${s}_$f.csv" >>"$jobs"
  done
done
# Optuna's jobs are the slow ones: run them first.
sort -r "$jobs" | xargs -P "$JOBS" -I{} sh -c '{}'
regret_s=$(($(date +%s) - start))

# ---- timing: one at a time, nothing else running ------------------------
timing=$work/timing.csv
: >"$timing"
for f in mixed hartmann6; do
  for s in tpe tpe_mv; do
    for n in 100 1000 10000; do
      "$bench" timing "$f" "$n" 21 "$s" >>"$timing" 2>>"$work/timing.log"
      case $n in 100) reps=11 ;; 1000) reps=5 ;; *) reps=3 ;; esac
      "$py" "$here/optuna_bench.py" timing "$f" "$n" "$reps" "$s" \
        >>"$timing" 2>>"$work/timing.log"
    done
  done
done
total_s=$(($(date +%s) - start))

{
  echo "kind,impl,sampler,function,seed_or_n,trial_or_rep,value"
  cat "$work"/hpt_*.csv "$work"/optuna_*.csv | sed 's/^/regret,/'
  sed 's/^/timing,/' "$timing"
} >"$results/sampler.csv"
"$py" "$here/summarize.py" "$results/sampler.csv" "$SEEDS" "$TRIALS" \
  "$regret_s" "$total_s" >"$results/sampler.md"
echo "wrote $results/sampler.md and $results/sampler.csv (${total_s}s)"
