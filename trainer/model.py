"""Decoder-only transformer over semantic-ID tokens (pre-LayerNorm, GELU, causal attention,
learned positions), with an explicit KV cache in the Hugging Face causal-LM convention."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_mask(attention_mask, S, P, dtype):
    """Additive attention mask [B, 1, S, P+S]: query i (absolute position P+i) may attend key j
    when j <= P+i and attention_mask[b, j] == 1; -1e9 elsewhere.

    A 3-D attention_mask [B, S, P+S] is taken as it is (1 = query i may attend key j): the caller
    states every query's keys, e.g. tree attention, where the beams of one request are decoded as
    one sequence and each attends only the prompt, its own ancestors and itself."""
    device = attention_mask.device
    if attention_mask.dim() == 3:
        keep = attention_mask[:, None, :, :] > 0
        return torch.zeros(keep.shape, dtype=dtype, device=device).masked_fill(~keep, -1e9)
    T = attention_mask.shape[1]
    qpos = torch.arange(S, device=device).unsqueeze(1) + P
    kpos = torch.arange(T, device=device).unsqueeze(0)
    keep = (kpos <= qpos).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
    return torch.zeros(keep.shape, dtype=dtype, device=device).masked_fill(~keep, -1e9)


def block_forward(x, mask, past_k, past_v, ln1, qkv, proj, ln2, ff1, ff2, n_heads, head_dim, drop=None):
    """One pre-LayerNorm block (GPT-2's): causal self-attention with a KV cache, then a GELU MLP.
    The one definition used by training (Block) and by the GPT-2-named export (export_hf.py).
    x: [B, S, D]; mask: [B, 1, S, P+S] additive; past_k/v: [B, H, P, Dh]. Returns x, k, v."""
    drop = drop or (lambda t: t)
    B, S, D = x.shape
    q, k, v = qkv(ln1(x)).split(D, dim=-1)
    q = q.view(B, S, n_heads, head_dim).transpose(1, 2)
    k = torch.cat([past_k, k.view(B, S, n_heads, head_dim).transpose(1, 2)], dim=2)
    v = torch.cat([past_v, v.view(B, S, n_heads, head_dim).transpose(1, 2)], dim=2)
    att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim) + mask
    att = drop(torch.softmax(att, dim=-1))
    y = torch.matmul(att, v).transpose(1, 2).reshape(B, S, D)
    x = x + drop(proj(y))
    x = x + drop(ff2(F.gelu(ff1(ln2(x)))))
    return x, k, v


class Block(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask, past_k, past_v):
        return block_forward(x, mask, past_k, past_v, self.ln1, self.qkv, self.proj, self.ln2, self.ff1, self.ff2,
                             self.n_heads, self.head_dim, self.drop)


class Decoder(nn.Module):
    """forward(input_ids, attention_mask, position_ids, past) -> (logits, presents)

    input_ids, position_ids: [B, S] int64; attention_mask: [B, P+S] (1 = attend; causal order
    added) or [B, S, P+S] (each query's keys, as given — see causal_mask);
    past: list of (key, value) per layer, each [B, H, P, Dh] (P may be 0).
    """

    def __init__(self, vocab_size, n_layers=4, d_model=128, n_heads=4, d_ff=512, dropout=0.1, max_positions=512):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be divisible by n_heads"
        self.vocab_size = vocab_size
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_model = d_model
        self.head_dim = d_model // n_heads
        self.max_positions = max_positions
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_positions, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff, dropout) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # tied embeddings
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def empty_past(self, batch, device=None):
        z = torch.zeros(batch, self.n_heads, 0, self.head_dim, device=device)
        return [(z, z) for _ in range(self.n_layers)]

    def forward(self, input_ids, attention_mask, position_ids, past, keep=None):
        """`keep`: positions (a 1-D index tensor) whose logits are computed; None: all."""
        S = input_ids.shape[1]
        P = past[0][0].shape[2]
        x = self.drop(self.tok(input_ids) + self.pos(position_ids))
        mask = causal_mask(attention_mask, S, P, x.dtype)
        presents = []
        for blk, (pk, pv) in zip(self.blocks, past):
            x, k, v = blk(x, mask, pk, pv)
            presents.append((k, v))
        if keep is not None:
            x = x.index_select(1, keep)
        return self.head(self.ln_f(x)), presents
