"""bench_torch.py -- PyTorch eager training throughput on the same random-init
models, shapes and step as hpt-gpu-bench (bench_gpu.c): random token ids,
full mask, train mode (config dropout), bf16 autocast, backward, clip 1.0,
AdamW (torch default: foreach). On the GPU; on the CPU where there is none
(ops/gpu-check --rehearse). One CSV line per (config, B, T):
impl,model,batch,length,amp,samples_per_second,step_ms,peak_gib,params

  python3 bench_torch.py STEPS WARMUP CONFIG:B:T [CONFIG:B:T ...]
"""
import json, os, sys, time
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()

def peak_gib():
    return torch.cuda.max_memory_allocated() / 2**30 if DEVICE == "cuda" else 0.0

def run(path, B, T, steps, warmup):
    cfg = json.load(open(path))
    mt = cfg.pop("model_type")
    config = AutoConfig.for_model(mt, **cfg)
    torch.manual_seed(42)
    model = AutoModelForSequenceClassification.from_config(config).to(DEVICE).train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    ids = torch.randint(5, config.vocab_size - 1, (B, T), device=DEVICE)
    mask = torch.ones_like(ids)
    labels = torch.arange(B, device=DEVICE) % 2
    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for s in range(warmup + steps):
        if s == warmup:
            sync(); t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(DEVICE, dtype=torch.bfloat16):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    sync(); dt = time.perf_counter() - t0
    n = sum(p.numel() for p in model.parameters())
    name = os.path.basename(path)[:-5]
    print(f"torch,{name},{B},{T},bf16,{B*steps/dt:.1f},{1e3*dt/steps:.3f},"
          f"{peak_gib():.2f},{n}", flush=True)
    del model, opt

if __name__ == "__main__":
    steps, warmup = int(sys.argv[1]), int(sys.argv[2])
    for spec in sys.argv[3:]:
        path, B, T = spec.rsplit(":", 2)
        try:
            run(path, int(B), int(T), steps, warmup)
        except Exception as e:  # report and go on with the next row
            print(f"torch,{os.path.basename(path)[:-5]},{B},{T},bf16,error: {e}",
                  flush=True)
