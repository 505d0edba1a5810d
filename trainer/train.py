"""Training loop: AdamW, linear warmup + cosine decay, gradient clipping, seeded, early stopping on
the validation loss of the held-out item's tokens, best-epoch checkpoint. Runs on CPU or CUDA, and
unchanged under torchrun (DDP; gloo on CPU)."""
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .data import collate, read_ragged, train_windows, valid_examples
from .model import Decoder


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_from_config(cfg):
    m = cfg["model"]
    return Decoder(cfg["vocab_size"], m["layers"], m["d_model"], m["heads"], m["d_ff"], m["dropout"], m["max_positions"])


def lr_at(step, total, base, warmup):
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def length_bucketed_batches(order, lengths, bs, gen, chunk_batches=50):
    """Cut a shuffled order into batches of similar-length windows (less padding): sort each run of
    `chunk_batches` batches' worth of examples by length, cut it into batches, shuffle the batches.
    Deterministic given `gen`, so every DDP rank builds the same batches."""
    batches = []
    span = bs * chunk_batches
    for c in range(0, len(order), span):
        chunk = sorted(order[c:c + span], key=lambda i: lengths[i])
        batches += [chunk[b:b + bs] for b in range(0, len(chunk), bs)]
    gen.shuffle(batches)
    return batches


def evaluate(model, examples, batch_size, device):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(examples), batch_size):
            ids, mask, pos, labels = (t.to(device) for t in collate(examples[s:s + batch_size]))
            logits, _ = model(ids, mask, pos, model.empty_past(ids.shape[0], device))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, reduction="sum")
            total += loss.item()
            count += int((labels != -100).sum().item())
    return total, count


def train(cfg):
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device(cfg.get("device", "cpu"))
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    threads = cfg.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    seed_all(cfg["seed"])
    L = cfg["levels"]
    t = cfg["train"]
    data_dir = cfg["data_dir"]
    windows = train_windows(read_ragged(os.path.join(data_dir, "train")), L, cfg["max_history"])
    valid = valid_examples(read_ragged(os.path.join(data_dir, "valid")), L)
    if not windows:
        raise SystemExit("no training windows (sequences too short?)")
    model = model_from_config(cfg).to(device)
    core = model
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = torch.optim.AdamW(core.parameters(), lr=t["lr"], weight_decay=t["weight_decay"], betas=(0.9, 0.98))
    bs = t["batch_size"]
    # batch_size is the global batch: every rank walks the same shuffled order and takes its own
    # slice of each batch, so N processes follow the same optimisation path as one
    steps_per_epoch = math.ceil(len(windows) / bs)
    lengths = [len(w[0]) for w in windows]
    max_steps = int(t.get("max_steps") or 0)  # 0 = no limit (benchmarks cap the run)
    total_steps = steps_per_epoch * t["epochs"]
    if max_steps:
        total_steps = min(total_steps, max_steps)
    warmup = max(1, int(t["warmup"] * total_steps))
    gen = random.Random(cfg["seed"])
    best, best_epoch, bad, step = float("inf"), -1, 0, 0
    ckpt = os.path.join(cfg["out_dir"], "checkpoint.pt")
    for epoch in range(1, t["epochs"] + 1):
        model.train()
        order = list(range(len(windows)))
        gen.shuffle(order)
        batches = length_bucketed_batches(order, lengths, bs, gen)
        t0, tokens, run_loss, run_n = time.time(), 0, 0.0, 0
        for s in range(steps_per_epoch):
            if max_steps and step >= max_steps:
                break
            chunk = batches[s][rank::world]
            if not chunk:
                chunk = order[:1]
            ids, mask, pos, labels = (x.to(device) for x in collate([windows[i] for i in chunk]))
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total_steps, t["lr"], warmup)
            logits, _ = model(ids, mask, pos, core.empty_past(ids.shape[0], device))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(core.parameters(), t["clip"])
            opt.step()
            step += 1
            tokens += int(mask.sum().item()) * world  # approximately: ranks' slices are near-equal
            run_loss += loss.item()
            run_n += 1
            if rank == 0 and (s % max(1, steps_per_epoch // 20) == 0 or s == steps_per_epoch - 1):
                emit({"event": "progress", "epoch": epoch, "epochs": t["epochs"], "step": s + 1, "steps": steps_per_epoch,
                      "loss": run_loss / run_n, "tokens_per_s": tokens / max(1e-9, time.time() - t0)})
        vl, vn = evaluate(core, valid[rank::world], bs * 2, device)
        if world > 1:
            tt = torch.tensor([vl, vn], dtype=torch.float64)
            dist.all_reduce(tt)
            vl, vn = tt[0].item(), tt[1].item()
        valid_loss = vl / max(1, vn)
        improved = valid_loss < best - 1e-6
        if improved:
            best, best_epoch, bad = valid_loss, epoch, 0
            if rank == 0:
                torch.save(core.state_dict(), ckpt)
        else:
            bad += 1
        if rank == 0:
            emit({"event": "epoch", "epoch": epoch, "train_loss": run_loss / max(1, run_n), "valid_loss": valid_loss,
                  "best": improved, "tokens_per_s": tokens / max(1e-9, time.time() - t0)})
        if bad >= t["patience"] or (max_steps and step >= max_steps):
            break
    if rank == 0:
        emit({"event": "done", "best_epoch": best_epoch, "valid_loss": best, "steps": step, "world_size": world})
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
