#!/usr/bin/env bash
# bench/train_cpu/run.sh — MiniLM fine-tuning on the CPU: hpt's engine
# against PyTorch (same checkpoint, same batches, fp32, AdamW, same thread
# count), then one default `transformer` trial on train.csv's stratified 10%
# split. Writes bench/results/train_cpu.csv and bench/results/train_cpu.md.
#
#   bench/train_cpu/run.sh
#   STEPS=20 LENGTHS="64 128" REPEAT=3 bench/train_cpu/run.sh
#
# Environment: BUILD_DIR (/tmp/hpt-bench-build), THREADS (2), BATCH (16),
# LENGTHS ("64 128"), STEPS (10 timed steps), WARMUP (2 untimed steps),
# REPEAT (2: alternating hpt/torch runs, the best of each is kept),
# TRIAL_EPOCHS (3; 0 skips the trial), TRIAL_MAX_LENGTH (128),
# NO_BUILD=1 (use BUILD_DIR as it is).
# Needs: the hpt build deps, wordnet-dev, python3-venv, models/all-MiniLM-L6-v2
# (./ops/fetch-models); installs torch + transformers into bench/.venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-/tmp/hpt-bench-build}
venv=$repo/bench/.venv
results=$repo/bench/results
model=$repo/models/all-MiniLM-L6-v2
data=$(cd "$repo/../shared/data/extremism" && pwd)/train.csv
threads=${THREADS:-2}
batch=${BATCH:-16}
lengths=${LENGTHS:-64 128}
steps=${STEPS:-10}
warmup=${WARMUP:-2}
repeat=${REPEAT:-2}
trial_epochs=${TRIAL_EPOCHS:-3}
trial_max_length=${TRIAL_MAX_LENGTH:-128}

"$repo/ops/fetch-models"
if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "[train_cpu] building hpt in $build" >&2
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target hpt-worker hpt_engine >/dev/null
fi
# The bench driver links the engine library as hpt-worker does.
cc -O2 -I "$repo/shared" -I "$repo/worker/engine" \
  $(pkg-config --cflags openblas) "$here/bench_train.c" \
  "$build/libhpt_engine.a" "$build/libhpt_common.a" \
  $(pkg-config --libs openblas libutf8proc libpcre2-8 jansson yaml-0.1) \
  -lcsv -lwordnet -lm -lpthread -o "$build/bench_train"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import torch, transformers' 2>/dev/null; then
  echo "[train_cpu] installing torch + transformers into bench/.venv" >&2
  "$venv/bin/pip" install --quiet torch transformers safetensors
fi

mkdir -p "$results"
csv=$results/train_cpu.csv
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for T in $lengths; do
  for r in $(seq "$repeat"); do
    echo "[train_cpu] hpt   B=$batch T=$T run $r" >&2
    OPENBLAS_NUM_THREADS=$threads "$build/bench_train" "$model" "$data" \
      "$batch" "$T" "$steps" "$warmup" "$threads" | tee -a "$raw"
    echo "[train_cpu] torch B=$batch T=$T run $r" >&2
    OMP_NUM_THREADS=$threads "$venv/bin/python" "$here/bench_torch.py" \
      "$model" "$data" "$batch" "$T" "$steps" "$warmup" "$threads" \
      2>/dev/null | tail -n 1 | tee -a "$raw"
  done
done

trial_line=""
if [ "$trial_epochs" -gt 0 ]; then
  echo "[train_cpu] one default trial: $trial_epochs epochs, max_length" \
    "$trial_max_length" >&2
  trial_out=$(mktemp)
  start=$SECONDS
  "$build/hpt-worker" run-trial --setting type=transformer \
    --setting model="$model" --setting train="$data" \
    --setting max_length="$trial_max_length" --setting threads="$threads" \
    --param epochs="$trial_epochs" | tee "$trial_out" >&2
  wall=$((SECONDS - start))
  trial_line=$(awk -v wall="$wall" -v e="$trial_epochs" \
    -v T="$trial_max_length" '
    /^step/ {steps = steps (steps ? " " : "") sprintf("%.4f", $3)}
    /^metric samples_per_second/ {sps = $3}
    /^metric epochs_run/ {er = $3}
    /^value/ {v = $2}
    END {printf "%s,%s,%.4f,%s,%.1f,%.1f", e, T, v, steps, sps, wall}' \
    "$trial_out")
  rm -f "$trial_out"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$raw" "$csv" "$results/train_cpu.md" "$load_before" \
  "$load_after" "$trial_line" "$steps" "$warmup" "$threads" <<'EOF'
import sys
raw, csv_path, md_path, load0, load1, trial, steps, warmup, threads = sys.argv[1:]
rows = [l.strip().split(",") for l in open(raw) if l.count(",") == 6]
best = {}
for impl, B, T, th, st, sec, sps in rows:
    key = (impl, int(B), int(T))
    if key not in best or float(sps) > best[key]:
        best[key] = float(sps)
with open(csv_path, "w") as f:
    f.write("impl,batch,max_length,threads,steps,seconds,samples_per_second\n")
    for r in rows:
        f.write(",".join(r) + "\n")
lines = ["| max_length | hpt samples/s | PyTorch samples/s | hpt / PyTorch | "
         "hpt s/epoch (2,250 rows) | PyTorch s/epoch |",
         "|---|---|---|---|---|---|"]
for T in sorted({k[2] for k in best}):
    B = next(k[1] for k in best if k[2] == T)
    h, t = best.get(("hpt", B, T)), best.get(("torch", B, T))
    ratio = f"{h / t:.2f}x" if h and t else "-"
    lines.append(f"| {T} | {h:.2f} | {t:.2f} | {ratio} | {2250 / h:.0f} | "
                 f"{2250 / t:.0f} |" if h and t else f"| {T} | {h} | {t} | - | - | - |")
table = "\n".join(lines)
trial_md = "not run (TRIAL_EPOCHS=0)"
if trial:
    e, T, v, st, sps, wall = trial.split(",")
    trial_md = (f"`hpt-worker run-trial --setting type=transformer` with "
                f"model=models/all-MiniLM-L6-v2, train.csv, val_fraction 0.1, "
                f"seed 42, max_length {T}, default params except epochs={e}: "
                f"**best validation accuracy {float(v):.4f}** (per epoch: {st}); "
                f"training throughput {sps} samples/s with dynamic padding; "
                f"{wall} s wall for the whole trial.")
open(md_path, "w").write(f"""# MiniLM fine-tuning on the CPU: hpt vs PyTorch

Produced by `bench/train_cpu/run.sh` (raw runs in `train_cpu.csv`).

**What is timed.** sentence-transformers/all-MiniLM-L6-v2 (6 layers,
hidden 384, 22.7M parameters) with a fresh 2-way classification head, fp32,
{threads} threads on both sides (OpenBLAS threads for hpt,
`torch.set_num_threads` for PyTorch). The first rows of
extremism/train.csv, cleaned, tokenised and **padded to exactly
max_length** so both sides do the same work; batch 16; per step: zero
grad, forward in train mode (dropout 0.1), backward, global-norm clipping
at 1.0, AdamW. {warmup} untimed steps, then {steps} timed steps; each side
run alternately several times, best run kept. Seconds per epoch are
extrapolated from the timed steps: 2,250 rows / samples per second (with
fixed-length padding; real epochs pad each batch only to its longest row
and are faster, see the trial below).

Load average on the machine (shared with other jobs): {load0} before,
{load1} after. Figures on a loaded machine are noisy; compare the two
columns of one row, which ran back to back.

{table}

**One default trial.** {trial_md}
""")
print(open(md_path).read())
EOF
