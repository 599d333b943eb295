#!/usr/bin/env bash
# bench/dispatch/run.sh — the dispatch benchmark in one command: builds hpt,
# prepares bench/.venv (optuna + psycopg2-binary), runs hpt with 1, 8, 64 and
# 256 noop workers and Optuna's RDB storage with 8 processes on one dedicated
# PostgreSQL, then Ray Tune (in memory, no database) with 1 and 8 concurrent
# trials, and writes bench/results/dispatch.md and dispatch.csv.
#
#   bench/dispatch/run.sh                    # 20,000 trials per hpt run
#   TRIALS=5000 WORKERS=8,64 bench/dispatch/run.sh
#
# Environment: BUILD_DIR (default /tmp/hpt-bench-build), TRIALS (20000),
# WORKERS (1,8,64,256), OPTUNA_TRIALS (2000), OPTUNA_PROCS (8),
# RAY_CONCURRENCY (1,8; empty: no Ray Tune), RAY_MODES (fresh,reuse),
# RAY_TRIALS (1000, with reuse_actors), RAY_FRESH_TRIALS (100, Ray's defaults),
# NO_BUILD=1 (use BUILD_DIR as it is), KEEP=1 (keep the cluster, logs, pcaps),
# PCAP=0 (no tcpdump: no latency columns), MD=/CSV= (other output files).
# Needs: cmake + the hpt build deps, python3-venv, tcpdump (for the latency;
# installed with apt-get when missing and running as root), psql.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-/tmp/hpt-bench-build}
venv=$repo/bench/.venv
results=$repo/bench/results

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "[dispatch] building hpt in $build" >&2
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target hpt hpt-worker >/dev/null
fi

if ! command -v tcpdump >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y tcpdump >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y tcpdump >/dev/null; } || true
fi
command -v tcpdump >/dev/null || echo "[dispatch] no tcpdump: latency columns will be empty" >&2

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import optuna, psycopg2' 2>/dev/null; then
  "$venv/bin/pip" install -q optuna psycopg2-binary
fi
if [ -n "${RAY_CONCURRENCY-1,8}" ] && ! "$venv/bin/python" -c 'import ray.tune' 2>/dev/null; then
  "$venv/bin/pip" install -q 'ray[tune]'
fi

mkdir -p "$results"
args=(--build-dir "$build" --trials "${TRIALS:-20000}" --workers "${WORKERS:-1,8,64,256}"
      --optuna-trials "${OPTUNA_TRIALS:-2000}" --optuna-procs "${OPTUNA_PROCS:-8}"
      --md "$results/dispatch.md" --csv "$results/dispatch.csv"
      --ray-concurrency "${RAY_CONCURRENCY-1,8}" --ray-modes "${RAY_MODES:-fresh,reuse}"
      --ray-trials "${RAY_TRIALS:-1000}" --ray-fresh-trials "${RAY_FRESH_TRIALS:-100}")
[ "${KEEP:-0}" = 1 ] && args+=(--keep)
[ "${PCAP:-1}" = 0 ] && args+=(--no-pcap)
[ -n "${MD:-}" ] && args+=(--md "$MD")
[ -n "${CSV:-}" ] && args+=(--csv "$CSV")
exec "$venv/bin/python" "$here/driver.py" "${args[@]}"
