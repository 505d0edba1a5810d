"""Decoder-only transformer over semantic-ID tokens (pre-LayerNorm, GELU, causal attention,
learned positions), with an explicit KV cache in the Hugging Face causal-LM convention."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


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
        # x: [B, S, D]; mask: [B, 1, S, P+S] additive; past_k/v: [B, H, P, Dh]
        B, S, D = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(D, dim=-1)
        q = q.view(B, S, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.view(B, S, self.n_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, S, self.n_heads, self.head_dim).transpose(1, 2)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        att = self.drop(torch.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, S, D)
        x = x + self.drop(self.proj(y))
        x = x + self.drop(self.ff2(F.gelu(self.ff1(self.ln2(x)))))
        return x, k, v


class Decoder(nn.Module):
    """forward(input_ids, attention_mask, position_ids, past) -> (logits, presents)

    input_ids, position_ids: [B, S] int64; attention_mask: [B, P+S] (1 = attend);
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

    def forward(self, input_ids, attention_mask, position_ids, past):
        B, S = input_ids.shape
        P = past[0][0].shape[2]
        T = attention_mask.shape[1]
        x = self.drop(self.tok(input_ids) + self.pos(position_ids))
        # query i (absolute P+i) may attend key j if j <= P+i and attention_mask[b, j] == 1
        qpos = torch.arange(S, device=input_ids.device).unsqueeze(1) + P
        kpos = torch.arange(T, device=input_ids.device).unsqueeze(0)
        causal = (kpos <= qpos).unsqueeze(0).unsqueeze(0)  # [1, 1, S, T]
        keep = causal & (attention_mask[:, None, None, :] > 0)
        mask = torch.zeros(keep.shape, dtype=x.dtype, device=x.device).masked_fill(~keep, -1e9)
        presents = []
        for blk, (pk, pv) in zip(self.blocks, past):
            x, k, v = blk(x, mask, pk, pv)
            presents.append((k, v))
        return self.head(self.ln_f(x)), presents
