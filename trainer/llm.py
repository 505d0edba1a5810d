"""The Llama-family decoder (Llama, Qwen2, Qwen3) with Hugging Face `config.json` field names and
safetensors tensor names, so that one implementation trains from scratch and loads a checkpoint.

- RMSNorm (computed in float32, weight applied after casting back, as Hugging Face does);
- rotary positions in the **half-split** layout (`rotate_half`: the first and second halves of a
  head are the real and imaginary parts, not interleaved pairs), `rope_theta` from the config;
- SwiGLU MLP: down(silu(gate(x)) * up(x));
- grouped-query attention: query head h reads key/value head h // (heads / kv_heads) (Hugging
  Face's `repeat_kv` order);
- switches: q/k/v biases (Qwen2: always; Llama / Qwen3: `attention_bias`), per-head q/k RMSNorm
  over head_dim before the rotary step (Qwen3), a tied or untied output head.

The KV cache and the attention mask follow trainer/model.py (`causal_mask`: a 2-D padding mask or
a 3-D per-query mask for tree attention). Safetensors are read and written with torch alone (an
8-byte little-endian header length, a JSON header, raw little-endian tensors): F32, F16, BF16,
one file or sharded with `model.safetensors.index.json`.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import causal_mask

SUPPORTED = ("llama", "qwen2", "qwen3")


class UnsupportedModel(ValueError):
    """A config.json of another model family."""


def read_config(cfg):
    """The fields this implementation uses, from a Hugging Face config dict, with the families'
    defaults; anything but llama / qwen2 / qwen3 is refused."""
    mt = cfg.get("model_type")
    if mt not in SUPPORTED:
        raise UnsupportedModel(f"model_type {mt!r} is not supported: semrec reads {', '.join(SUPPORTED)}")
    heads = int(cfg["num_attention_heads"])
    hidden = int(cfg["hidden_size"])
    out = {
        "model_type": mt,
        "vocab_size": int(cfg["vocab_size"]),
        "hidden_size": hidden,
        "intermediate_size": int(cfg["intermediate_size"]),
        "num_hidden_layers": int(cfg["num_hidden_layers"]),
        "num_attention_heads": heads,
        "num_key_value_heads": int(cfg.get("num_key_value_heads") or heads),
        "head_dim": int(cfg.get("head_dim") or hidden // heads),
        "rms_norm_eps": float(cfg.get("rms_norm_eps", 1e-6)),
        "rope_theta": float(cfg.get("rope_theta", 10000.0)),
        "max_position_embeddings": int(cfg.get("max_position_embeddings", 2048)),
        "tie_word_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        # Qwen2 always has q/k/v biases; Llama and Qwen3 follow `attention_bias` (default False)
        "attention_bias": True if mt == "qwen2" else bool(cfg.get("attention_bias", False)),
        "qk_norm": mt == "qwen3",
    }
    if out["num_attention_heads"] % out["num_key_value_heads"]:
        raise ValueError(f"num_attention_heads {heads} is not a multiple of num_key_value_heads {out['num_key_value_heads']}")
    if out["head_dim"] % 2:
        raise ValueError(f"head_dim {out['head_dim']} must be even for rotary positions")
    return out


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rotary_cos_sin(positions, head_dim, theta, dtype=torch.float32):
    """cos and sin [B, S, head_dim] of the half-split rotary embedding at integer `positions` [B, S]."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    freqs = positions.float()[..., None] * inv
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rotary(x, cos, sin):
    """x [B, H, S, Dh]; cos/sin [B, S, Dh]."""
    return x * cos[:, None] + rotate_half(x) * sin[:, None]


def repeat_kv(x, n_rep):
    """[B, KV, S, Dh] → [B, KV·n_rep, S, Dh], each key/value head repeated n_rep times in place."""
    if n_rep == 1:
        return x
    B, KV, S, D = x.shape
    return x[:, :, None].expand(B, KV, n_rep, S, D).reshape(B, KV * n_rep, S, D)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        bias = c["attention_bias"]
        self.q_proj = nn.Linear(c["hidden_size"], self.heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c["hidden_size"], bias=False)
        if c["qk_norm"]:
            self.q_norm = RMSNorm(self.head_dim, c["rms_norm_eps"])
            self.k_norm = RMSNorm(self.head_dim, c["rms_norm_eps"])
        else:
            self.q_norm = self.k_norm = None

    def forward(self, x, cos, sin, mask, past_k, past_v):
        B, S, _ = x.shape
        q = self.q_proj(x).view(B, S, self.heads, self.head_dim)
        k = self.k_proj(x).view(B, S, self.kv_heads, self.head_dim)
        v = self.v_proj(x).view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.q_norm is not None:  # Qwen3: per head, before the rotary step
            q, k = self.q_norm(q), self.k_norm(k)
        q = apply_rotary(q.transpose(1, 2), cos, sin)
        k = apply_rotary(k.transpose(1, 2), cos, sin)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        rep = self.heads // self.kv_heads
        att = torch.matmul(q, repeat_kv(k, rep).transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        y = torch.matmul(torch.softmax(att.float(), dim=-1).to(q.dtype), repeat_kv(v, rep))
        return self.o_proj(y.transpose(1, 2).reshape(B, S, self.heads * self.head_dim)), k, v


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.mlp.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.mlp.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=False)

    def forward(self, x, cos, sin, mask, past_k, past_v, drop=None):
        drop = drop or (lambda t: t)
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + drop(a)
        h = self.post_attention_layernorm(x)
        return x + drop(self.mlp.down_proj(F.silu(self.mlp.gate_proj(h)) * self.mlp.up_proj(h))), k, v


class LlamaFamily(nn.Module):
    """Causal LM; state-dict names are the Hugging Face ones (`model.layers.0.self_attn.q_proj.weight`, …).

    It has the trainer's model interface (trainer/model.py's Decoder): forward(input_ids,
    attention_mask, position_ids, past, keep=None) -> (logits, presents), empty_past(batch, device),
    and n_layers / n_heads / head_dim, where n_heads is the number of **key/value** heads (the
    cache's shape). `dropout` (semrec's, not a Hugging Face field) drops residual-branch outputs
    while training."""

    def __init__(self, cfg, dropout=0.0):
        super().__init__()
        c = read_config(cfg) if "qk_norm" not in cfg else cfg
        self.c = c
        self.vocab_size = c["vocab_size"]
        self.n_layers = c["num_hidden_layers"]
        self.n_heads = c["num_key_value_heads"]
        self.head_dim = c["head_dim"]
        self.max_positions = c["max_position_embeddings"]
        self.drop = nn.Dropout(dropout)
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.model.layers = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])
        self.model.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight
        # the restricted output head (semrec's, not a Hugging Face field): (start, count) — logits
        # only for the vocabulary rows [start, start + count), the semantic-ID tokens of a model
        # fine-tuned from a text checkpoint; None: the whole vocabulary
        self.id_rows = None

    def init_weights(self, std=0.02):
        """The from-scratch initialisation (normal(0, std) weights, zero biases, unit norms)."""
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, mean=0.0, std=std)
            if isinstance(mod, nn.Linear) and mod.bias is not None:
                nn.init.zeros_(mod.bias)
        return self

    def empty_past(self, B, device=None, dtype=None):
        d = dtype or self.model.embed_tokens.weight.dtype
        z = torch.zeros(B, self.c["num_key_value_heads"], 0, self.c["head_dim"], dtype=d, device=device)
        return [(z, z) for _ in self.model.layers]

    def head(self, h, rows=None):
        """Logits of final hidden states `h` (after the final norm): over the whole vocabulary, or
        over the rows [start, start + count) when `rows` = (start, count) is given."""
        if rows is None:
            return self.lm_head(h)
        start, count = rows
        return F.linear(h, self.lm_head.weight[start:start + count])

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None, keep=None, hidden=False):
        """input_ids [B, S]; attention_mask [B, P+S] (or 3-D [B, S, P+S]); position_ids [B, S]
        (default P..P+S−1); past: per layer (k, v) [B, KV, P, Dh]. Returns logits [B, S, V] — V =
        the ID rows' count when `id_rows` is set — (or with `hidden`, the normed final hidden states
        [B, S, D]) and the new past (with the S new positions appended)."""
        B, S = input_ids.shape
        x = self.model.embed_tokens(input_ids)
        past = past if past is not None else self.empty_past(B, x.device, x.dtype)
        P = past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(B, P + S, dtype=torch.long, device=x.device)
        if position_ids is None:
            position_ids = torch.arange(P, P + S, device=x.device)[None].expand(B, S)
        cos, sin = rotary_cos_sin(position_ids, self.c["head_dim"], self.c["rope_theta"], x.dtype)
        mask = causal_mask(attention_mask, S, P, x.dtype)
        new = []
        for layer, (pk, pv) in zip(self.model.layers, past):
            x, k, v = layer(x, cos, sin, mask, pk, pv, self.drop)
            new.append((k, v))
        if keep is not None:
            x = x.index_select(1, keep)
        x = self.model.norm(x)
        return (x if hidden else self.head(x, self.id_rows)), new


# ---------------------------------------------------------------------------------- safetensors

_DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}
_NAME = {v: k for k, v in _DT.items()}


def read_safetensors(path):
    """{name: tensor} of one .safetensors file (tensors keep their stored dtype)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = _DT.get(meta["dtype"])
        if dt is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {meta['dtype']}")
        b, e = meta["data_offsets"]
        shape = list(meta["shape"])
        count = math.prod(shape)
        if e - b != count * torch.tensor([], dtype=dt).element_size() or base + e > len(raw):
            raise ValueError(f"{path}: tensor {name} has inconsistent offsets")
        buf = bytearray(raw[base + b:base + e])
        t = torch.frombuffer(buf, dtype=dt) if count else torch.empty(0, dtype=dt)
        out[name] = t.reshape(shape)
    return out


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} as one .safetensors file (names sorted, data 8-byte aligned)."""
    header = {}
    chunks = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": _NAME[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        chunks.append(data)
        off += len(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def read_checkpoint(d):
    """Every tensor of a Hugging Face checkpoint directory: `model.safetensors`, or the shards
    named in `model.safetensors.index.json`."""
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        for k, v in read_safetensors(os.path.join(d, fn)).items():
            if k in out:
                raise ValueError(f"{d}: tensor {k} appears in two shards")
            out[k] = v
    return out


def load_pretrained(d, dtype=torch.float32):
    """A LlamaFamily model from a checkpoint directory (config.json + safetensors), in `dtype`."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    m = LlamaFamily(cfg)
    sd = {k: v.to(dtype) for k, v in read_checkpoint(d).items()}
    if m.c["tie_word_embeddings"]:
        sd.pop("lm_head.weight", None)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and m.c["tie_word_embeddings"])]
    if missing or unexpected:
        raise ValueError(f"{d}: tensors missing {missing[:5]}, unexpected {unexpected[:5]}")
    return m.to(dtype), cfg
