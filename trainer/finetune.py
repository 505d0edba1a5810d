"""Fine-tuning a Hugging Face checkpoint (llama / qwen2 / qwen3) with semantic-ID tokens.

- `load_base`: the checkpoint's tensors into a LlamaFamily whose vocabulary has grown by the ID
  tokens: rows below the base vocabulary are copied, the ID tokens' rows (embedding, and the
  output head when it is not tied) start at the mean of the base tokenizer's rows (Hewitt 2021,
  "Initializing new word embeddings"; what Hugging Face's `resize_token_embeddings` does with
  `mean_resizing`).
- LoRA (`apply_lora`): every attention and MLP projection gets a trainable low-rank update
  B·A·(alpha / r) over its frozen weight (B starts at zero, so training starts at the base
  model); the embedding and head rows of the ID tokens are always trained (their gradient is
  masked to those rows; no weight decay on them, so the frozen rows stay exactly as loaded).
  `plain_state_dict` merges the updates into the weights: the checkpoint and the exported graph
  are an ordinary model.
- `id_loss`: the loss of a model whose ID-token targets are scored by the restricted head (a
  softmax over the ID tokens only: the distribution decoding draws from, and at a 151k-token
  vocabulary a fraction of the head's arithmetic); any other target (text) by the whole head.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from .llm import LlamaFamily, read_checkpoint, read_config, write_safetensors

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def base_config(d):
    """The checkpoint's config.json (refused unless llama / qwen2 / qwen3)."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    read_config(cfg)
    return cfg


def load_base(model, base_dir, init_rows, id_start, id_count):
    """Load the checkpoint at `base_dir` into `model` (a LlamaFamily of the same shape whose
    vocabulary may be larger); the rows [id_start, id_start + id_count) start at the mean of the
    rows [0, init_rows). Returns the base vocabulary size."""
    c = model.c
    base = read_config(base_config(base_dir))
    for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
              "tie_word_embeddings", "attention_bias", "qk_norm"):
        if base[k] != c[k]:
            raise ValueError(f"{base_dir}: {k} is {base[k]} in the checkpoint, {c[k]} in the model to fine-tune")
    V0, V1 = base["vocab_size"], c["vocab_size"]
    if V1 < V0 or id_start + id_count > V1 or not 0 < init_rows <= V0:
        raise ValueError(f"vocabulary {V0} -> {V1} cannot hold ID rows [{id_start}, {id_start + id_count}) initialised from {init_rows} rows")
    sd = {k: v.float() for k, v in read_checkpoint(base_dir).items()}
    if c["tie_word_embeddings"]:
        sd.pop("lm_head.weight", None)
    names = ["model.embed_tokens.weight"] + ([] if c["tie_word_embeddings"] else ["lm_head.weight"])
    for n in names:
        if n not in sd:
            raise ValueError(f"{base_dir}: tensor {n} is missing")
        w = sd[n]
        if tuple(w.shape) != (V0, c["hidden_size"]):
            raise ValueError(f"{base_dir}: {n} has shape {list(w.shape)}, expected [{V0}, {c['hidden_size']}]")
        grown = torch.cat([w, w.new_zeros(V1 - V0, w.shape[1])]) if V1 > V0 else w.clone()
        grown[id_start:id_start + id_count] = w[:init_rows].mean(0)
        sd[n] = grown
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and c["tie_word_embeddings"])]
    if missing or unexpected:
        raise ValueError(f"{base_dir}: tensors missing {missing[:5]}, unexpected {unexpected[:5]}")
    return V0


class LoraLinear(nn.Module):
    """y = base(x) + (x·Aᵀ)·Bᵀ · alpha / r, the base frozen (peft's initialisation: A Kaiming
    uniform, B zero)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale

    def merged_weight(self):
        return self.base.weight + (self.lora_B @ self.lora_A) * self.scale


def _row_mask_hook(start, count):
    def hook(grad):
        g = torch.zeros_like(grad)
        g[start:start + count] = grad[start:start + count]
        return g
    return hook


def apply_lora(model, r, alpha, id_start, id_count, targets=LORA_TARGETS):
    """Freeze `model`, put a LoRA update on every `targets` projection, and keep the ID tokens'
    embedding / head rows trainable. Returns the optimiser's parameter groups' split:
    (decayed, not decayed)."""
    for p in model.parameters():
        p.requires_grad_(False)
    lora = []
    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name in targets:
                lin = getattr(parent, name, None)
                if isinstance(lin, nn.Linear):
                    wrapped = LoraLinear(lin, r, alpha)
                    setattr(parent, name, wrapped)
                    lora += [wrapped.lora_A, wrapped.lora_B]
    rows = [model.model.embed_tokens.weight]
    if model.lm_head.weight is not model.model.embed_tokens.weight:
        rows.append(model.lm_head.weight)
    for w in rows:
        w.requires_grad_(True)
        w.register_hook(_row_mask_hook(id_start, id_count))
    return lora, rows


def plain_state_dict(model):
    """The state dict with every LoRA update merged into its weight (Hugging Face names)."""
    out = {}
    lora_mods = {n: m for n, m in model.named_modules() if isinstance(m, LoraLinear)}
    for name, t in model.state_dict().items():
        owner = next((n for n in lora_mods if name.startswith(n + ".")), None)
        if owner is None:
            out[name] = t
            continue
        rest = name[len(owner) + 1:]
        if rest == "base.weight":
            out[owner + ".weight"] = lora_mods[owner].merged_weight().detach()
        elif rest == "base.bias":
            out[owner + ".bias"] = t
    return out


def prepare(model, cfg):
    """Load the base checkpoint of `cfg.model.base` into `model` and apply LoRA when asked;
    returns the optimiser's parameter groups."""
    b = cfg["model"]["base"]
    start, count = cfg["model"]["id_rows"]
    load_base(model, b["dir"], int(b["init_rows"]), start, count)
    wd = cfg["train"]["weight_decay"]
    r = int(b.get("lora_r") or 0)
    if r > 0:
        lora, rows = apply_lora(model, r, float(b.get("lora_alpha") or 2 * r), start, count)
        return [{"params": lora, "weight_decay": wd}, {"params": rows, "weight_decay": 0.0}]
    return [{"params": list(model.parameters()), "weight_decay": wd}]


def id_loss(model, ids, mask, pos, labels, past, reduction="mean"):
    """Cross-entropy of the labelled positions: ID-token targets over the restricted head (the
    ID rows `model.id_rows`, through the core model's `head`), other targets over the whole head.
    `model` may be a DDP wrapper. Returns (loss, labelled positions)."""
    core = model.module if hasattr(model, "module") else model
    h, _ = model(ids, mask, pos, past, hidden=True)
    sel = labels != -100
    hs, lab = h[sel], labels[sel]
    start, count = core.id_rows
    is_id = (lab >= start) & (lab < start + count)
    total = h.new_zeros(())
    if is_id.any():
        total = total + F.cross_entropy(core.head(hs[is_id], core.id_rows), lab[is_id] - start, reduction="sum")
    if (~is_id).any():
        total = total + F.cross_entropy(core.head(hs[~is_id]), lab[~is_id], reduction="sum")
    n = int(sel.sum())
    return (total / max(1, n) if reduction == "mean" else total), n


def write_random_checkpoint(cfg, out, dtype="F32", shards=1, seed=0, std=0.02):
    """A random-weight checkpoint of Hugging Face `cfg` at `out` (config.json + safetensors, one
    file or `shards` shards with model.safetensors.index.json), for tests and benchmarks."""
    torch.manual_seed(seed)
    m = LlamaFamily(cfg).init_weights(std)
    with torch.no_grad():  # norms and biases away from their initial values, so that a wrong convention shows
        for n, p in m.named_parameters():
            if n.endswith("norm.weight"):
                p.uniform_(0.8, 1.2)
            elif n.endswith(".bias"):
                p.normal_(0, 0.02)
    dt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    sd = {k: v.to(dt) for k, v in m.state_dict().items()}
    if m.c["tie_word_embeddings"]:
        sd.pop("lm_head.weight")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({**cfg, "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}, f, indent=2)
    names = sorted(sd)
    if shards <= 1:
        write_safetensors(os.path.join(out, "model.safetensors"), sd, {"format": "pt"})
        return
    per = math.ceil(len(names) / shards)
    weight_map = {}
    for i in range(shards):
        fn = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: sd[k] for k in names[i * per:(i + 1) * per]}
        write_safetensors(os.path.join(out, fn), part, {"format": "pt"})
        weight_map.update({k: fn for k in part})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)


def perplexity(base_dir, seqs, batch_size=16):
    """Per-token perplexity of the checkpoint at `base_dir` on token sequences (each scored from
    its second token on; sequences of one token are skipped). Returns (perplexity, tokens)."""
    from .llm import load_pretrained
    model, _ = load_pretrained(base_dir)
    model.eval()
    seqs = [s for s in seqs if len(s) >= 2]
    total, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(seqs), batch_size):
            chunk = seqs[s:s + batch_size]
            T = max(len(x) for x in chunk)
            ids = torch.zeros(len(chunk), T, dtype=torch.long)
            mask = torch.zeros(len(chunk), T, dtype=torch.long)
            for i, x in enumerate(chunk):
                ids[i, :len(x)] = torch.as_tensor(x, dtype=torch.long)
                mask[i, :len(x)] = 1
            logits, _ = model(ids, mask)
            lab = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
            total += F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).double(), lab.reshape(-1), ignore_index=-100, reduction="sum").item()
            n += int((lab != -100).sum())
    return math.exp(total / max(1, n)), n
