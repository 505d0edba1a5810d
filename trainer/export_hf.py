"""Export a trained checkpoint as a Hugging Face GPT-2-style causal LM in the Optimum ONNX layout,
with the semantic-ID tokens placed wherever the caller's vocabulary puts them.

The architecture (pre-LN blocks, fused qkv with bias, GELU MLP, learned positions, tied head) is
GPT-2's, so the module tree and tensor names follow GPT-2 (transformer.wte, transformer.wpe,
transformer.h.{i}.ln_1 / attn.c_attn / attn.c_proj / ln_2 / mlp.c_fc / mlp.c_proj,
transformer.ln_f, lm_head tied to wte). A model of the llm block (trainer/llm.py) already has the
Llama / Qwen module tree and names; it is exported as itself with the vocabulary rebuilt. The
vocabulary is rebuilt from a map: native token i
becomes token native_to_hf[i]; tokens with no native counterpart (the text vocabulary) get random
embedding rows, as freshly added tokens would.
"""
import json

import torch
import torch.nn as nn

from .export import export_model
from .llm import LlamaFamily
from .model import block_forward, causal_mask
from .train import emit, model_from_config


class Attn(nn.Module):
    def __init__(self, blk):
        super().__init__()
        self.c_attn, self.c_proj = blk.qkv, blk.proj
        self.n_head, self.head_dim = blk.n_heads, blk.head_dim


class Mlp(nn.Module):
    def __init__(self, blk):
        super().__init__()
        self.c_fc, self.c_proj = blk.ff1, blk.ff2


class Gpt2Block(nn.Module):
    def __init__(self, blk):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = blk.ln1, Attn(blk), blk.ln2, Mlp(blk)

    def forward(self, x, mask, past_k, past_v):
        return block_forward(x, mask, past_k, past_v, self.ln_1, self.attn.c_attn, self.attn.c_proj, self.ln_2,
                             self.mlp.c_fc, self.mlp.c_proj, self.attn.n_head, self.attn.head_dim)


class Gpt2LMHead(nn.Module):
    """forward(input_ids, attention_mask, position_ids, past) -> (logits, presents), like Decoder."""

    def __init__(self, dec, wte_weight):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(wte_weight.shape[0], wte_weight.shape[1])
        self.transformer.wte.weight = nn.Parameter(wte_weight)
        self.transformer.wpe = dec.pos
        self.transformer.h = nn.ModuleList([Gpt2Block(b) for b in dec.blocks])
        self.transformer.ln_f = dec.ln_f
        self.lm_head = nn.Linear(wte_weight.shape[1], wte_weight.shape[0], bias=False)
        self.lm_head.weight = self.transformer.wte.weight
        self.n_layers, self.n_heads, self.head_dim = dec.n_layers, dec.n_heads, dec.head_dim

    def forward(self, input_ids, attention_mask, position_ids, past):
        S = input_ids.shape[1]
        P = past[0][0].shape[2]
        x = self.transformer.wte(input_ids) + self.transformer.wpe(position_ids)
        mask = causal_mask(attention_mask, S, P, x.dtype)
        presents = []
        for blk, (pk, pv) in zip(self.transformer.h, past):
            x, k, v = blk(x, mask, pk, pv)
            presents.append((k, v))
        return self.lm_head(self.transformer.ln_f(x)), presents


def export_hf(cfg, checkpoint, map_file, path):
    with open(map_file) as f:
        spec = json.load(f)
    dec = model_from_config(cfg)
    dec.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    dec.eval()
    native = (dec.model.embed_tokens if isinstance(dec, LlamaFamily) else dec.tok).weight.detach()
    V, d = int(spec["vocab_size"]), native.shape[1]
    to_hf = spec["native_to_hf"]
    if len(to_hf) != native.shape[0] or len(set(to_hf)) != len(to_hf) or min(to_hf) < 0 or max(to_hf) >= V:
        raise SystemExit("map: native_to_hf must be distinct ids in [0, vocab_size), one per native token")
    g = torch.Generator().manual_seed(int(spec.get("seed", 0)))

    def rebuilt(rows):
        w = torch.randn(V, d, generator=g) * 0.02
        w[torch.tensor(to_hf)] = rows
        return w

    if isinstance(dec, LlamaFamily):
        if dec.id_rows is not None:
            raise SystemExit("a model fine-tuned from a text checkpoint already has its own vocabulary; export-hf rebuilds semrec's ID vocabulary only")
        model = LlamaFamily(dict(dec.c, vocab_size=V)).eval()
        sd = dict(dec.state_dict())
        sd["model.embed_tokens.weight"] = rebuilt(sd["model.embed_tokens.weight"])
        if dec.c["tie_word_embeddings"]:
            sd.pop("lm_head.weight", None)
        else:
            sd["lm_head.weight"] = rebuilt(sd["lm_head.weight"])
        model.load_state_dict(sd, strict=False)
        export_model(model, V, path)
        emit({"event": "exported", "path": path, "layers": model.n_layers, "heads": model.n_heads, "head_dim": model.head_dim, "vocab_size": V})
        return
    wte = rebuilt(native)
    model = Gpt2LMHead(dec, wte).eval()
    export_model(model, V, path)
    emit({"event": "exported", "path": path, "layers": model.n_layers, "heads": model.n_heads, "head_dim": model.head_dim, "vocab_size": V})
