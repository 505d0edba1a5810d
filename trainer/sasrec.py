"""SASRec (Kang & McAuley, ICDM'18), the standard ID-based sequential baseline: item embeddings +
learned positions, causal self-attention blocks (pre-LayerNorm), the next item scored by the dot
product of the last hidden state with every item embedding (tied).

Trained on every position of every training sequence (windows of `max_len` items; each item after
a window's first is a target exactly once) with full cross-entropy over the catalogue (the
"SASRec with CE" of Klenitskiy & Vasilev, RecSys'23), or a sampled softmax (`loss: sampled`:
`negatives` items drawn uniformly per batch, shared by its rows, the positive's own column in
front). Early stopping on validation NDCG@10 (full ranking, the user's history items masked, as
semrec's models serve by default): training stops after `patience` epochs without improvement and
the best epoch's weights are kept.

Input (written by src/training/sasrec.ts): `train.tokens.i32` / `train.offsets.i64`, each user's
training sequence as item numbers (index row + 1; 0 is padding); `valid.*`, per validation
example its history then its target. Output: `checkpoint.pt` and an ONNX graph
`items` int64 [batch, max_len] (histories right-aligned, 0-padded) -> `logprobs` float32
[batch, items] (log-softmax over the catalogue at the last position)."""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import read_ragged
from .train import emit


class Block(torch.nn.Module):
    def __init__(self, d, heads, dropout, d_ff):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.ff1 = torch.nn.Linear(d, d_ff)
        self.ff2 = torch.nn.Linear(d_ff, d)
        self.drop = torch.nn.Dropout(dropout)

    def forward(self, x, causal):
        B, T, D = x.shape
        H = self.heads
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4).unbind(0)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        att = self.drop(torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1))
        x = x + self.drop(self.proj((att @ v).transpose(1, 2).reshape(B, T, D)))
        return x + self.drop(self.ff2(self.drop(F.gelu(self.ff1(self.ln2(x))))))


def code_offsets(code_sizes):
    """First row of each level in the code table (levels stacked in order)."""
    return np.concatenate([[0], np.cumsum(code_sizes)[:-1]]).astype(np.int64)


class SASRec(torch.nn.Module):
    """`items` catalogue items (numbered 1..items; 0 = padding). With `codes` (int array [items,
    levels], the index's semantic-ID tuples) and `code_sizes` (codes per level), an item's
    embedding is its own learned vector plus the sum of its codes' embeddings (one table per
    level), both where it is read in a history and where it is scored as the next item: items
    that share a code prefix share parameters, so rare items borrow from their neighbours."""

    def __init__(self, items, max_len, d=64, layers=2, heads=2, dropout=0.5, d_ff=None, codes=None, code_sizes=None):
        super().__init__()
        self.items = items
        self.max_len = max_len
        self.item = torch.nn.Embedding(items + 1, d, padding_idx=0)
        self.code = None
        if codes is not None:
            codes = torch.as_tensor(np.asarray(codes), dtype=torch.long)
            if codes.shape[0] != items or codes.shape[1] != len(code_sizes):
                raise ValueError(f"codes must be [{items}, {len(code_sizes)}], got {list(codes.shape)}")
            if (codes < 0).any() or (codes >= torch.as_tensor(code_sizes)[None]).any():
                raise ValueError("a code is outside its level's codebook")
            offsets = torch.as_tensor(code_offsets(code_sizes), dtype=torch.long)
            total = int(sum(code_sizes))
            # Row 0 (padding) points at the zero padding row `total` of the code table.
            rows = torch.cat([torch.full((1, codes.shape[1]), total, dtype=torch.long), codes + offsets[None]])
            self.register_buffer("code_rows", rows)
            self.code = torch.nn.Embedding(total + 1, d, padding_idx=total)
            self.code_sizes = [int(k) for k in code_sizes]
        self.pos = torch.nn.Embedding(max_len, d)
        self.drop = torch.nn.Dropout(dropout)
        self.blocks = torch.nn.ModuleList(Block(d, heads, dropout, d_ff or 4 * d) for _ in range(layers))
        self.ln = torch.nn.LayerNorm(d)
        self.scale = math.sqrt(d)
        for m in self.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.zeros_(m.bias)
        with torch.no_grad():
            self.item.weight[0].zero_()
            if self.code is not None:
                self.code.weight[-1].zero_()

    def table(self):
        """Every item's embedding [items + 1, d] (row 0 = padding, zero)."""
        if self.code is None:
            return self.item.weight
        return self.item.weight + self.code(self.code_rows).sum(1)

    def hidden(self, seq, table=None):
        """seq [B, T] (right-aligned, 0 = padding) -> hidden states [B, T, d] (zero at padding);
        `table`: the item embeddings when the caller already has them (else computed)."""
        B, T = seq.shape
        keep = (seq > 0).unsqueeze(-1).to(self.item.weight.dtype)
        x = F.embedding(seq, self.table() if table is None else table) * self.scale + self.pos(torch.arange(T, device=seq.device))[None]
        x = self.drop(x) * keep
        causal = torch.ones(T, T, dtype=torch.bool, device=seq.device).tril()
        for b in self.blocks:
            x = b(x, causal) * keep
        return self.ln(x)

    def item_logits(self, h, table=None):
        """Scores of items 1..items (column j = item j + 1) for hidden states h [..., d]."""
        return h @ (self.table() if table is None else table)[1:].t()

    def forward(self, seq):
        """Log-softmax over the catalogue after the whole sequence: [B, items] (the item
        embeddings composed once, for reading and scoring)."""
        t = self.table()
        return torch.log_softmax(self.item_logits(self.hidden(seq, t)[:, -1], t), dim=-1)


def windows(seqs, max_len):
    """Training windows of at most max_len + 1 items: every item after a sequence's first is a
    target exactly once. Returns (inputs, targets) int64 arrays [N, max_len], right-aligned."""
    W = max_len + 1
    xs, ys = [], []
    for s in seqs:
        e = len(s)
        while e > 1:
            st = max(0, e - W)
            w = s[st:e]
            x = np.zeros(max_len, dtype=np.int64)
            y = np.zeros(max_len, dtype=np.int64)
            x[max_len - len(w) + 1:] = w[:-1]
            y[max_len - len(w) + 1:] = w[1:]
            xs.append(x)
            ys.append(y)
            e = st + 1
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def right_align(hists, max_len):
    out = np.zeros((len(hists), max_len), dtype=np.int64)
    for i, h in enumerate(hists):
        h = h[-max_len:]
        if len(h):
            out[i, max_len - len(h):] = h
    return torch.from_numpy(out)


@torch.no_grad()
def rank_metrics(model, hists, targets, k=10, batch=512):
    """Recall@k and NDCG@k of full-catalogue ranking, history items masked (items >= 1)."""
    model.eval()
    hit = ndcg = 0.0
    for a in range(0, len(hists), batch):
        hs = hists[a:a + batch]
        lp = model(right_align(hs, model.max_len))
        for i, h in enumerate(hs):
            known = h[(h >= 1) & (h <= model.items)] - 1
            lp[i, known] = float("-inf")
        tgt = torch.as_tensor(targets[a:a + batch], dtype=torch.long) - 1
        t = lp.gather(1, tgt[:, None])
        rank = (lp > t).sum(1)  # 0-based rank of the target (ties in its favour)
        inside = rank < k
        hit += inside.sum().item()
        ndcg += (1.0 / torch.log2(rank[inside].double() + 2)).sum().item()
    model.train()
    return hit / max(1, len(hists)), ndcg / max(1, len(hists))


def loss_of(model, xb, yb, loss, negatives, gen, level_loss=0.0):
    # The composed item embeddings are built separately for reading and for scoring: sharing one
    # build is the same loss but sums its gradients in another order (±1e-8), and the documented
    # Beauty figures (docs/results.md) reproduce digit for digit with this order.
    h = model.hidden(xb)
    m = yb > 0
    h, y = h[m], yb[m] - 1
    if loss == "ce":
        out = F.cross_entropy(model.item_logits(h), y)
        if level_loss and model.code is not None:
            # Auxiliary objective over every level of the next tuple: a softmax over each level's
            # codes (scored by the same code embeddings), weighted by level_loss.
            rows = model.code_rows[y + 1]
            start = 0
            for lvl, k in enumerate(model.code_sizes):
                out = out + level_loss * F.cross_entropy(h @ model.code.weight[start:start + k].t(), rows[:, lvl] - start)
                start += k
        return out
    neg = torch.randint(0, model.items, (negatives,), generator=gen)
    emb = model.table()[1:]
    pos = (h * emb[y]).sum(-1, keepdim=True)
    negs = h @ emb[neg].t()
    negs = negs.masked_fill(neg[None] == y[:, None], float("-inf"))  # an accidental hit is not a negative
    return F.cross_entropy(torch.cat([pos, negs], 1), torch.zeros(len(y), dtype=torch.long))


def train_sasrec(cfg):
    """cfg: data (dir), items, max_len, d, layers, heads, dropout, lr, weight_decay, batch, epochs,
    patience, loss (ce | sampled), negatives, seed, threads, valid_sample, out (dir); code_sizes
    (optional: semantic-ID inputs, the tuples read from `data`/codes.i32, items × levels);
    level_loss (with code_sizes and loss ce: weight of the auxiliary per-level code softmax)."""
    torch.manual_seed(cfg.get("seed", 0))
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    items, L = cfg["items"], cfg["max_len"]
    train = [s.astype(np.int64) for s in read_ragged(cfg["data"] + "/train")]
    valid = [s.astype(np.int64) for s in read_ragged(cfg["data"] + "/valid")]
    for s in train + valid:
        if len(s) and (s.min() < 1 or s.max() > items):
            raise ValueError(f"item numbers must be in 1..{items}")
    X, Y = windows(train, L)
    rng = np.random.default_rng(cfg.get("seed", 0))
    vs = cfg.get("valid_sample", 0)
    pick = rng.permutation(len(valid))[:vs] if vs and vs < len(valid) else np.arange(len(valid))
    v_hist = [valid[i][:-1] for i in pick]
    v_tgt = [int(valid[i][-1]) for i in pick]
    codes = None
    if cfg.get("code_sizes"):
        codes = np.fromfile(cfg["data"] + "/codes.i32", dtype=np.int32).reshape(items, len(cfg["code_sizes"]))
    model = model_of(cfg, codes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.get("lr", 1e-3), weight_decay=cfg.get("weight_decay", 0.0))
    gen = torch.Generator().manual_seed(cfg.get("seed", 0))
    loss_kind, negatives = cfg.get("loss", "ce"), cfg.get("negatives", 256)
    bs, epochs, patience = cfg.get("batch", 128), cfg.get("epochs", 200), cfg.get("patience", 10)
    steps = math.ceil(len(X) / bs)
    emit({"event": "start", "windows": len(X), "targets": int((Y > 0).sum()), "valid_users": len(v_hist),
          "params": sum(p.numel() for p in model.parameters())})
    best, best_epoch, best_state, t0 = -1.0, 0, None, time.time()
    for epoch in range(1, epochs + 1):
        te = time.time()
        perm = torch.randperm(len(X), generator=gen)
        total = 0.0
        model.train()
        for s in range(steps):
            idx = perm[s * bs:(s + 1) * bs]
            loss = loss_of(model, X[idx], Y[idx], loss_kind, negatives, gen, cfg.get("level_loss", 0.0))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            if s % 50 == 0 or s == steps - 1:
                emit({"event": "progress", "epoch": epoch, "step": s + 1, "steps": steps, "loss": total / (s + 1)})
        r10, n10 = rank_metrics(model, v_hist, v_tgt)
        improved = n10 > best
        if improved:
            best, best_epoch = n10, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        emit({"event": "epoch", "epoch": epoch, "epochs": epochs, "train_loss": total / steps, "valid_recall10": r10,
              "valid_ndcg10": n10, "best": improved, "seconds": time.time() - te})
        if epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    torch.save(model.state_dict(), cfg["out"] + "/checkpoint.pt")
    export_sasrec(model, cfg["out"] + "/model.onnx")
    emit({"event": "done", "epochs": epoch, "best_epoch": best_epoch, "valid_ndcg10": best,
          "valid_recall10": rank_metrics(model, v_hist, v_tgt)[0], "seconds": time.time() - t0})


def model_of(cfg, codes=None, state=None):
    """The model of a recipe; with semantic-ID inputs (`code_sizes`), the tuples come from `codes`
    or, when loading, from the checkpoint's `state` (its `code_rows` buffer)."""
    sizes = cfg.get("code_sizes")
    if sizes and codes is None:
        codes = state["code_rows"][1:].numpy() - code_offsets(sizes)[None]
    return SASRec(cfg["items"], cfg["max_len"], cfg.get("d", 64), cfg.get("layers", 2), cfg.get("heads", 2),
                  cfg.get("dropout", 0.5), codes=codes if sizes else None, code_sizes=sizes)


def export_sasrec(model, path):
    model.eval()
    dummy = torch.zeros(2, model.max_len, dtype=torch.long)
    dummy[:, -1] = 1
    torch.onnx.export(model, (dummy,), path, input_names=["items"], output_names=["logprobs"],
                      dynamic_axes={"items": {0: "batch"}, "logprobs": {0: "batch"}}, opset_version=14)


def sasrec_logits(cfg, checkpoint, histories):
    """Reference scores for tests: PyTorch's log-softmax over the catalogue per history."""
    state = torch.load(checkpoint, map_location="cpu")
    model = model_of(cfg, state=state)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        return model(right_align([np.asarray(h, dtype=np.int64) for h in histories], model.max_len))
