#!/usr/bin/env bash
# bench/chaos/run.sh — hpt under SIGKILLs (NOT a test): a 2,000-trial study
# (noop objective with sleep_ms + steps, max_retries 3) on a dedicated
# PostgreSQL, 16 workers started here (independent of the coordinator), a
# random worker SIGKILLed and replaced every ~2 s, the coordinator SIGKILLed
# twice and restarted (`hpt study run NAME --bind ...`); then checks the
# trials table, prints the counts and writes bench/results/chaos.md.
# Exit status 0 when every check passes. Bounded in time (TIME_LIMIT, 480 s
# for the run itself); stops everything it started; loopback only.
#
# Environment: BUILD_DIR (default /tmp/hpt-bench-build), NO_BUILD=1,
# TRIALS (2000), WORKERS (16), SLEEP_MS (500), STEPS (4), KILL_EVERY (2),
# GRACE_MS (3000), TIME_LIMIT (480), SEED (1), KEEP=1 (keep HPT_HOME + logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-/tmp/hpt-bench-build}
if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "[chaos] building hpt in $build" >&2
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target hpt hpt-worker >/dev/null
fi
mkdir -p "$repo/bench/results"
args=(--build-dir "$build" --trials "${TRIALS:-2000}" --workers "${WORKERS:-16}"
      --sleep-ms "${SLEEP_MS:-500}" --steps "${STEPS:-4}" --max-retries 3
      --kill-every "${KILL_EVERY:-2}" --grace-ms "${GRACE_MS:-3000}"
      --time-limit "${TIME_LIMIT:-480}" --seed "${SEED:-1}"
      --md "${MD:-$repo/bench/results/chaos.md}")
[ "${KEEP:-0}" = 1 ] && args+=(--keep)
exec timeout -s INT 570 python3 "$here/chaos.py" "${args[@]}"
