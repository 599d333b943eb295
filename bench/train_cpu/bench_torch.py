"""bench_torch.py — PyTorch's CPU training step, timed as bench_train.c
times hpt's: the first rows of a labelled CSV, cleaned as hpt cleans them,
tokenised with the model's tokenizer (transformers), truncated and padded to
exactly max_length, batches in order; per step: zero grad, forward in train
mode (dropout from the config), backward, clip_grad_norm_(1.0),
torch.optim.AdamW (fp32). `warmup` steps untimed, then `steps` timed.

    python bench_torch.py MODEL_DIR CSV BATCH MAX_LENGTH STEPS WARMUP THREADS

Prints one CSV line: impl,batch,max_length,threads,steps,seconds,
samples_per_second.
"""
import csv
import re
import sys
import time

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def clean(text):
    """hpt's text_clean: short posts -> "empty post", runs of 3+ -> 2."""
    if len(text.strip(" \t\n\r\f\v")) < 5:
        return "empty post"
    return re.sub(r"(.)\1{2,}", r"\1\1", text, flags=re.S)


def main():
    model_dir, path = sys.argv[1], sys.argv[2]
    B, T, steps, warmup, threads = map(int, sys.argv[3:8])
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    total = warmup + steps
    n = B * total
    texts = [clean(rows[i % len(rows)]["Original_Message"]) for i in range(n)]
    labels = [int(rows[i % len(rows)]["Extremism_Label"] == "EXTREMIST")
              for i in range(n)]
    tok = AutoTokenizer.from_pretrained(model_dir)
    enc = tok(texts, truncation=True, max_length=T, padding="max_length",
              return_tensors="pt")
    y = torch.tensor(labels)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=2)
    model.train()
    head = [p for n_, p in model.named_parameters() if "classifier" in n_
            or "pooler" in n_]
    ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.AdamW([{"params": body, "lr": 5e-5},
                             {"params": head, "lr": 1e-3}],
                            weight_decay=0.01)
    start = 0.0
    for s in range(total):
        if s == warmup:
            start = time.perf_counter()
        sl = slice(s * B, (s + 1) * B)
        opt.zero_grad(set_to_none=False)
        out = model(input_ids=enc["input_ids"][sl],
                    attention_mask=enc["attention_mask"][sl],
                    token_type_ids=enc.get("token_type_ids")[sl]
                    if "token_type_ids" in enc else None,
                    labels=y[sl])
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - start
    print(f"torch,{B},{T},{threads},{steps},{seconds:.3f},"
          f"{steps * B / seconds:.2f}")


if __name__ == "__main__":
    main()
