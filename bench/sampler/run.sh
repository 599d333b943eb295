#!/usr/bin/env bash
# bench/sampler/run.sh — the sampler benchmark: hpt's TPE (univariate and
# multivariate) and random sampler against Optuna's TPESampler and
# RandomSampler, and hyperopt's TPE (tpe.suggest, univariate only), on six
# functions, plus the time one suggestion takes with 100, 1,000 and 10,000
# finished trials. Not part of the test suite.
#
#   bench/sampler/run.sh            # SEEDS=20 TRIALS=200 JOBS=2
#   SEEDS=5 bench/sampler/run.sh    # quicker
#   PREBUILT=1 BUILD=dir run.sh     # use the libraries already in dir
#   HYPEROPT=0 run.sh               # without hyperopt
#   CSV=/tmp/s.csv MD=/tmp/s.md run.sh   # other output files
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
HYPEROPT=${HYPEROPT:-1}
if [ "$HYPEROPT" = 1 ] && ! "$py" -c 'import hyperopt' 2>/dev/null; then
  "$venv/bin/pip" install -q hyperopt
fi
csv=${CSV:-$results/sampler.csv}
md=${MD:-$results/sampler.md}

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
  if [ "$HYPEROPT" = 1 ]; then
    echo "$py $here/hyperopt_bench.py regret tpe $f 0 $SEEDS $TRIALS > $work/hyperopt_tpe_$f.csv" >>"$jobs"
  fi
done
# The Python jobs (Optuna's, hyperopt's) are the slow ones: run them first.
grep -v "^$bench " "$jobs" >"$jobs.py" || true
grep "^$bench " "$jobs" >"$jobs.c" || true
cat "$jobs.py" "$jobs.c" | xargs -P "$JOBS" -I{} sh -c '{}'
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
      if [ "$HYPEROPT" = 1 ] && [ "$s" = tpe ]; then
        "$py" "$here/hyperopt_bench.py" timing "$f" "$n" "$reps" tpe \
          >>"$timing" 2>>"$work/timing.log"
      fi
    done
  done
done
total_s=$(($(date +%s) - start))

{
  echo "kind,impl,sampler,function,seed_or_n,trial_or_rep,value"
  cat "$work"/hpt_*.csv "$work"/optuna_*.csv | sed 's/^/regret,/'
  if [ "$HYPEROPT" = 1 ]; then cat "$work"/hyperopt_*.csv | sed 's/^/regret,/'; fi
  sed 's/^/timing,/' "$timing"
} >"$csv"
"$py" "$here/summarize.py" "$csv" "$SEEDS" "$TRIALS" \
  "$regret_s" "$total_s" >"$md"
echo "wrote $md and $csv (${total_s}s)"
