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

from contextlib import nullcontext

from .data import collate, read_ragged, read_targets, suffix_examples, train_windows, valid_examples
from .finetune import id_loss, plain_state_dict, prepare
from .llm import LlamaFamily
from .model import Decoder


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_from_config(cfg):
    """The model a trainer config describes: semrec's GPT-2-style Decoder (default), or with
    `model.block == "llm"` the Llama-family decoder (trainer/llm.py) of `model.hf`, a Hugging Face
    config dict."""
    m = cfg["model"]
    if m.get("block") == "llm":
        model = LlamaFamily(m["hf"], dropout=m.get("dropout", 0.0)).init_weights()
        if m.get("id_rows"):  # fine-tuned from a text checkpoint: logits over the ID tokens only
            model.id_rows = (int(m["id_rows"][0]), int(m["id_rows"][1]))
        return model
    return Decoder(cfg["vocab_size"], m["layers"], m["d_model"], m["heads"], m["d_ff"], m["dropout"], m["max_positions"])


def lr_at(step, total, base, warmup):
    """Warmup + cosine over a fixed number of steps (schedule "cosine")."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


class WSD:
    """Warmup-stable-decay: the schedule follows when training actually stops instead of a fixed
    length. Linear warmup, then the peak rate until the validation loss stops improving for
    `patience` epochs, the epoch cap is near, or a time budget is nearly spent; then a linear decay
    to zero over `decay_frac` x the epochs run so far (at least one epoch), and training ends
    (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
    Durations"). Decisions are made at epoch ends from values all DDP ranks share."""

    def __init__(self, base, warmup_steps, steps_per_epoch, max_epochs, patience, decay_frac, time_budget_s):
        self.base, self.warmup, self.spe = base, warmup_steps, steps_per_epoch
        self.max_epochs, self.patience, self.decay_frac, self.budget = max_epochs, patience, decay_frac, time_budget_s
        self.decay_start = None  # step at which the decay began
        self.decay_steps = 0
        self.reason = None

    def lr(self, step):
        if self.decay_start is not None:
            p = (step - self.decay_start) / max(1, self.decay_steps)
            return self.base * max(0.0, 1.0 - p)
        if step < self.warmup:
            return self.base * (step + 1) / self.warmup
        return self.base

    def decay_epochs(self, epoch):
        return max(1, math.ceil(self.decay_frac * epoch))

    def end_of_epoch(self, epoch, step, bad, elapsed):
        """Called after epoch `epoch`; returns True when training is over."""
        if self.decay_start is not None:
            return step >= self.decay_start + self.decay_steps or epoch >= self.max_epochs
        d = self.decay_epochs(epoch)
        per_epoch = elapsed / max(1, epoch)
        if bad >= self.patience:
            self.reason = f"validation loss flat for {bad} epochs"
        elif epoch + d >= self.max_epochs:
            self.reason = f"epoch cap {self.max_epochs}"
        elif self.budget and elapsed + d * per_epoch >= self.budget:
            self.reason = f"time budget {self.budget:.0f} s"
        else:
            return epoch >= self.max_epochs
        if epoch >= self.max_epochs:
            return True
        d = min(d, self.max_epochs - epoch)
        self.decay_start, self.decay_steps = step, d * self.spe
        return False


def valid_sample(examples, n, seed):
    """A fixed seeded random sample of at most n validation examples (per-epoch loss; the full set
    adds a forward pass over every validation user to each epoch), sorted by length so that
    batches carry little padding."""
    idx = list(range(len(examples)))
    if n and len(idx) > n:
        random.Random(seed + 7).shuffle(idx)
        idx = idx[:n]
    idx.sort(key=lambda i: len(examples[i][0]))
    return [examples[i] for i in idx]


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


def batch_loss(model, core, ids, mask, pos, labels, reduction="mean"):
    """The training loss of one batch: cross-entropy over the whole vocabulary, or for a model with
    a restricted head (`id_rows`) the ID targets over the ID tokens (finetune.id_loss)."""
    past = core.empty_past(ids.shape[0], ids.device)
    if getattr(core, "id_rows", None) is not None:
        return id_loss(model, ids, mask, pos, labels, past, reduction)[0]
    logits, _ = model(ids, mask, pos, past)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, reduction=reduction)


def load_examples(cfg, split):
    """A split's (input_ids, labels) examples in the config's data format."""
    prefix = os.path.join(cfg["data_dir"], split)
    seqs = read_ragged(prefix)
    if cfg.get("data_format", "windows") == "examples":
        return suffix_examples(seqs, read_targets(prefix, len(seqs)))
    if split == "train":
        return train_windows(seqs, cfg["levels"], cfg["max_history"])
    return valid_examples(seqs, cfg["levels"])


def evaluate(model, examples, batch_size, device, amp=nullcontext):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(examples), batch_size):
            ids, mask, pos, labels = (t.to(device) for t in collate(examples[s:s + batch_size]))
            with amp():
                loss = batch_loss(model, model, ids, mask, pos, labels, reduction="sum")
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
    t = cfg["train"]
    windows = load_examples(cfg, "train")
    valid = valid_sample(load_examples(cfg, "valid"), int(t.get("valid_sample") or 0), cfg["seed"])
    if not windows:
        raise SystemExit("no training windows (sequences too short?)")
    model = model_from_config(cfg)
    # fine-tuning: the checkpoint's weights (vocabulary grown by the ID tokens), LoRA when asked
    groups = prepare(model, cfg) if cfg["model"].get("base") else [{"params": list(model.parameters()), "weight_decay": t["weight_decay"]}]
    model = model.to(device)
    core = model
    # bf16 autocast on CUDA for fine-tuning (weights and optimiser state stay float32)
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" and t.get("bf16") else nullcontext
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = torch.optim.AdamW(groups, lr=t["lr"], weight_decay=t["weight_decay"], betas=(0.9, 0.98))
    trainable = [p for g in groups for p in g["params"]]
    bs = t["batch_size"]
    # batch_size is the global batch: every rank walks the same shuffled order and takes its own
    # slice of each batch, so N processes follow the same optimisation path as one
    steps_per_epoch = math.ceil(len(windows) / bs)
    lengths = [len(w[0]) for w in windows]
    max_steps = int(t.get("max_steps") or 0)  # 0 = no limit (benchmarks cap the run)
    schedule = t.get("schedule", "wsd")
    total_steps = steps_per_epoch * t["epochs"]
    if max_steps:
        total_steps = min(total_steps, max_steps)
    if schedule == "cosine":
        warmup = max(1, int(t["warmup"] * total_steps))
        lr_of = lambda step: lr_at(step, total_steps, t["lr"], warmup)  # noqa: E731
        sched = None
    else:
        # warmup is a fraction of the first epoch's steps here (the total is not known in advance)
        sched = WSD(t["lr"], max(1, int(t["warmup"] * steps_per_epoch)), steps_per_epoch, t["epochs"], t["patience"],
                    float(t.get("decay_frac", 0.2)), float(t.get("time_budget_s") or 0))
        lr_of = sched.lr
    gen = random.Random(cfg["seed"])
    best, best_epoch, bad, step = float("inf"), -1, 0, 0
    ckpt = os.path.join(cfg["out_dir"], "checkpoint.pt")
    t_start = time.time()
    all_tokens = 0
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
            lr = lr_of(step)
            for g in opt.param_groups:
                g["lr"] = lr
            with amp():
                loss = batch_loss(model, core, ids, mask, pos, labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, t["clip"])
            opt.step()
            step += 1
            tokens += int(mask.sum()) * world  # approximately: ranks' slices are near-equal
            run_loss += loss.item()
            run_n += 1
            if rank == 0 and (s % max(1, steps_per_epoch // 20) == 0 or s == steps_per_epoch - 1):
                emit({"event": "progress", "epoch": epoch, "epochs": t["epochs"], "step": s + 1, "steps": steps_per_epoch,
                      "loss": run_loss / run_n, "lr": lr, "tokens_per_s": tokens / max(1e-9, time.time() - t0)})
        vl, vn = evaluate(core, valid[rank::world], bs * 2, device, amp)
        if world > 1:
            tt = torch.tensor([vl, vn], dtype=torch.float64)
            dist.all_reduce(tt)
            vl, vn = tt[0].item(), tt[1].item()
        valid_loss = vl / max(1, vn)
        improved = valid_loss < best - 1e-6
        if improved:
            best, best_epoch, bad = valid_loss, epoch, 0
            if rank == 0:
                torch.save(plain_state_dict(core), ckpt)  # LoRA updates merged: an ordinary model
        else:
            bad += 1
        all_tokens += tokens
        elapsed = time.time() - t_start
        if world > 1:  # every rank must take the same schedule decision: use rank 0's clock
            tt = torch.tensor([elapsed], dtype=torch.float64)
            dist.broadcast(tt, 0)
            elapsed = tt[0].item()
        phase = "decay" if sched and sched.decay_start is not None else "stable"
        if rank == 0:
            # tokens_per_s: real (non-padding) training tokens per wall-clock second of the epoch,
            # validation included
            emit({"event": "epoch", "epoch": epoch, "train_loss": run_loss / max(1, run_n), "valid_loss": valid_loss,
                  "best": improved, "phase": phase, "lr": lr_of(max(0, step - 1)), "seconds": time.time() - t0,
                  "tokens_per_s": tokens / max(1e-9, time.time() - t0)})
        if max_steps and step >= max_steps:
            break
        if sched is not None:
            was_stable = sched.decay_start is None
            if sched.end_of_epoch(epoch, step, bad, elapsed):
                break
            if was_stable and sched.decay_start is not None and rank == 0:
                emit({"event": "decay", "epoch": epoch, "reason": sched.reason, "decay_epochs": sched.decay_steps // steps_per_epoch})
        elif bad >= t["patience"]:
            break
    wall = time.time() - t_start
    if rank == 0:
        emit({"event": "done", "best_epoch": best_epoch, "valid_loss": best, "steps": step, "world_size": world, "epochs": epoch,
              "seconds": wall, "tokens_per_s": all_tokens / max(1e-9, wall), "decay_reason": sched.reason if sched else None})
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
