"""The dense bare loop: the reference a training epoch's cost is measured against (bench/train).
The same model and optimiser as `train`, on random token batches of one fixed length (no padding,
no data pipeline, no validation, no DDP), one process with the configured threads. Emits
{"event": "bare", "tokens_per_s": ...} after `steps` timed steps (after `warmup` untimed ones)."""
import json
import sys
import time

import torch
import torch.nn.functional as F

from .train import model_from_config, seed_all


def bare(cfg, steps=30, warmup=3, seq_len=None):
    threads = cfg.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    seed_all(cfg["seed"])
    model = model_from_config(cfg)
    model.train()
    t = cfg["train"]
    opt = torch.optim.AdamW(model.parameters(), lr=t["lr"], weight_decay=t["weight_decay"], betas=(0.9, 0.98))
    B = t["batch_size"]
    T = seq_len or cfg["model"]["max_positions"] - 8
    V = cfg["vocab_size"]
    gen = torch.Generator().manual_seed(cfg["seed"])
    tokens = 0
    t0 = time.time()
    for s in range(warmup + steps):
        if s == warmup:
            t0, tokens = time.time(), 0
        ids = torch.randint(4, V, (B, T), generator=gen)
        mask = torch.ones((B, T), dtype=torch.long)
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        logits, _ = model(ids, mask, pos, model.empty_past(B))
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["clip"])
        opt.step()
        tokens += B * T
    dt = time.time() - t0
    sys.stdout.write(json.dumps({"event": "bare", "tokens_per_s": tokens / dt, "steps": steps, "batch_size": B, "seq_len": T}) + "\n")
    sys.stdout.flush()
