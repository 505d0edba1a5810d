"""Benchmark helpers for serving a Llama-family generator at language-model size (bench/llm-serve.ts).

- `bench_export(cfg, out)`: a random-weight LlamaFamily of the Hugging Face config `cfg["hf"]`
  (seeded), exported three ways from the same weights (`OUT/NAME/model.onnx`): `tree-ids` (semrec's fast path: 3-D
  mask, new keys/values, `logits_from`, the head restricted to the ID rows `cfg["id_rows"]`),
  `tree-full` (the same with the whole head) and `causal-full` (the Optimum-style graph:
  2-D mask, `present.*`, whole head — the per-beam path).
- `bench_peer(cfg, inp)`: the PyTorch peer at that shape — eager forward with a KV cache and beam
  search over a Python dict trie that masks every beam's logits to its allowed next tokens (the
  method of ../shared/bench/torch_beam.py: TIGER / LETTER / LC-Rec style), whole head, on the same
  weights (same seed). Emits p50 / p99 ms of one request.
"""
import json
import os
import statistics
import sys
import time

import torch

from .export import export_model
from .llm import LlamaFamily


def _model(cfg):
    torch.manual_seed(int(cfg.get("seed", 0)))
    # std 0.02 random weights; latency does not depend on their values
    return LlamaFamily(cfg["hf"]).init_weights().eval()


def bench_export(cfg, out):
    threads = cfg.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    os.makedirs(out, exist_ok=True)
    m = _model(cfg)
    V = cfg["hf"]["vocab_size"]
    t0 = time.time()
    # each graph in its own directory: above 2 GB torch writes the weights as external files beside it
    for name, rows, tree in (("tree-ids", tuple(cfg["id_rows"]), True), ("tree-full", None, True), ("causal-full", None, False)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        m.id_rows = rows
        export_model(m, V, os.path.join(out, name, "model.onnx"), tree=tree, new_kv=tree)
    sys.stdout.write(json.dumps({"event": "exported", "seconds": time.time() - t0, "params": sum(p.numel() for p in m.parameters())}) + "\n")


def bench_peer(cfg, inp):
    """inp: {"prompts": [[ids]], "codes": [[model token ids of each item]], "beams": B, "warmup": n}."""
    torch.set_num_threads(int(cfg.get("threads") or 1))
    m = _model(cfg)
    codes = [tuple(c) for c in inp["codes"]]
    levels = len(codes[0])
    trie = {}
    for c in codes:
        for l in range(levels):
            trie.setdefault(c[:l], set()).add(c[l])
    trie = {p: sorted(s) for p, s in trie.items()}
    beams_n = int(inp["beams"])

    @torch.no_grad()
    def recommend(prompt):
        ids = torch.tensor([prompt])
        logits, past = m(ids, keep=torch.tensor([len(prompt) - 1]))
        beams = [((), 0.0)]
        step = logits[:, -1]
        for l in range(levels):
            logp = torch.log_softmax(step.float(), -1)
            mask = torch.full_like(logp, float("-inf"))
            for bi, (p, _) in enumerate(beams):
                mask[bi, trie[p]] = 0.0
            scores = logp + mask + torch.tensor([s for _, s in beams])[:, None]
            top = torch.topk(scores.view(-1), min(beams_n, int(torch.isfinite(scores).sum())))
            V = logp.shape[-1]
            nb, src, nxt = [], [], []
            for s, flat in zip(top.values.tolist(), top.indices.tolist()):
                bi, t = divmod(flat, V)
                nb.append((beams[bi][0] + (t,), s))
                src.append(bi)
                nxt.append(t)
            beams = nb
            if l == levels - 1:
                break
            idx = torch.tensor(src)
            past = [(k.index_select(0, idx), v.index_select(0, idx)) for k, v in past]
            P = past[0][0].shape[2]
            out, past = m(torch.tensor(nxt)[:, None], torch.ones(len(src), P + 1, dtype=torch.long),
                          torch.full((len(src), 1), P), past)
            step = out[:, -1]
        return beams

    valid = set(codes)
    prompts = inp["prompts"]
    for p in prompts[:int(inp.get("warmup", 1))]:
        recommend(p)
    times = []
    for p in prompts:
        t = time.perf_counter()
        out = recommend(p)
        times.append((time.perf_counter() - t) * 1000)
        assert len(out) == beams_n and all(b[0] in valid for b in out), "the peer returned an item that is not in the catalogue"
    times.sort()
    sys.stdout.write(json.dumps({"event": "peer", "p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
                                 "requests": len(times)}) + "\n")
