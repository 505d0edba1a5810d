"""RQ-VAE semantic IDs (TIGER, Rajput et al. 2023): an MLP encoder maps item embeddings to a
latent vector, L residual codebooks quantise it (straight-through), an MLP decoder reconstructs the
embedding. Loss = reconstruction MSE + Σ_l (‖sg(r_l) − e_l‖² + β‖r_l − sg(e_l)‖²), codebooks
initialised by residual k-means on the first latents, unused codes re-initialised from residuals of
the most crowded codes every `reinit_every` epochs and once after the last.

Config (JSON): embeddings (path of an n × dim float32 file), n, dim, sizes, latent_dim, hidden,
epochs, batch_size, lr, beta, seed, device, kmeans_iters, reinit_every, out.
Writes out/rqvae.f32 — encoder layers (W as out × in row-major, then b) followed by the codebooks,
level after level (K × latent_dim) — and out/rqvae.json (shapes and the report). JSON lines on
stdout: `progress` every few epochs and `done`.
"""
import json
import os
import time

import numpy as np
import torch
from torch import nn

from .train import emit


def mlp(dims):
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def nearest(r, cb):
    """Index of the nearest codeword of each row of r (squared Euclidean)."""
    d = (r * r).sum(1, keepdim=True) - 2 * r @ cb.t() + (cb * cb).sum(1)[None, :]
    return d.argmin(1)


def kmeans(x, k, iters, gen):
    """Lloyd's k-means with random distinct data points as seeds; empty clusters reseeded."""
    n = x.shape[0]
    c = x[torch.randperm(n, generator=gen)[:k]].clone()
    if c.shape[0] < k:  # fewer points than codes: pad with jittered copies
        extra = c[torch.randint(0, c.shape[0], (k - c.shape[0],), generator=gen)]
        c = torch.cat([c, extra + 1e-3 * torch.randn(extra.shape, generator=gen)])
    for _ in range(iters):
        a = nearest(x, c)
        for j in range(k):
            m = a == j
            if m.any():
                c[j] = x[m].mean(0)
            else:
                c[j] = x[torch.randint(0, n, (1,), generator=gen)][0]
    return c


class RQVAE(nn.Module):
    def __init__(self, dim, hidden, latent, sizes):
        super().__init__()
        self.encoder = mlp([dim, *hidden, latent])
        self.decoder = mlp([latent, *reversed(hidden), dim])
        self.codebooks = nn.ParameterList([nn.Parameter(torch.zeros(k, latent)) for k in sizes])

    def quantise(self, z):
        """Codes (n × L), the quantised latent, and the per-level (residual, codeword) pairs."""
        r = z
        zq = torch.zeros_like(z)
        codes, pairs = [], []
        for cb in self.codebooks:
            a = nearest(r.detach(), cb.detach())
            e = cb[a]
            codes.append(a)
            pairs.append((r, e))
            zq = zq + e
            r = r - e.detach()
        return torch.stack(codes, 1), zq, pairs

    def forward(self, x, beta):
        z = self.encoder(x)
        codes, zq, pairs = self.quantise(z)
        xh = self.decoder(z + (zq - z).detach())
        recon = ((xh - x) ** 2).sum(1).mean()
        commit = sum(((r.detach() - e) ** 2).sum(1).mean() + beta * ((r - e.detach()) ** 2).sum(1).mean() for r, e in pairs)
        return recon + commit, recon, codes


def usage(codes, sizes):
    return [len(torch.unique(codes[:, l])) / k for l, k in enumerate(sizes)]


@torch.no_grad()
def init_codebooks(model, x, sizes, iters, gen):
    r = model.encoder(x)
    for l, k in enumerate(sizes):
        c = kmeans(r, k, iters, gen)
        model.codebooks[l].data.copy_(c)
        r = r - c[nearest(r, c)]


@torch.no_grad()
def reinit_dead(model, x, sizes, gen):
    """Codes no item uses get the residual of a random item of the most crowded codes."""
    r = model.encoder(x)
    revived = 0
    for l, k in enumerate(sizes):
        cb = model.codebooks[l].data
        a = nearest(r, cb)
        counts = torch.bincount(a, minlength=k)
        dead = (counts == 0).nonzero().flatten()
        if len(dead):
            crowded = counts[a] > 1  # items that share their code with others
            pool = crowded.nonzero().flatten()
            if len(pool) == 0:
                pool = torch.arange(r.shape[0])
            pick = pool[torch.randint(0, len(pool), (len(dead),), generator=gen)]
            cb[dead] = r[pick] + 1e-4 * torch.randn((len(dead), r.shape[1]), generator=gen)
            revived += len(dead)
            a = nearest(r, cb)
        r = r - cb[a]
    return revived


def train_rqvae(cfg):
    t0 = time.time()
    seed = int(cfg.get("seed", 0))
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    device = torch.device(cfg.get("device", "cpu"))
    n, dim = int(cfg["n"]), int(cfg["dim"])
    sizes = [int(k) for k in cfg["sizes"]]
    latent = int(cfg.get("latent_dim", 32))
    hidden = [int(h) for h in cfg.get("hidden", [256, 128])]
    epochs = int(cfg.get("epochs", 300))
    bs = int(cfg.get("batch_size", 1024))
    beta = float(cfg.get("beta", 0.25))
    reinit_every = int(cfg.get("reinit_every", 10))
    x = torch.from_numpy(np.fromfile(cfg["embeddings"], dtype=np.float32).reshape(n, dim).copy())
    model = RQVAE(dim, hidden, latent, sizes)
    init_codebooks(model, x, sizes, int(cfg.get("kmeans_iters", 20)), gen)
    model.to(device)
    xd = x.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=float(cfg.get("lr", 1e-3)))
    revived_total = 0
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        tot = rec = 0.0
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            loss, recon, _ = model(xd[idx], beta)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            rec += recon.item() * len(idx)
        if reinit_every and epoch % reinit_every == 0 and epoch < epochs:
            model.cpu()
            revived_total += reinit_dead(model, x, sizes, gen)
            model.to(device)
        if epoch % max(1, epochs // 20) == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                codes, _, _ = model.quantise(model.encoder(xd))
            emit({"event": "progress", "epoch": epoch, "epochs": epochs, "loss": tot / n, "recon": rec / n,
                  "utilisation": usage(codes.cpu(), sizes)})
    model.cpu().eval()
    if reinit_every:  # codes that died since the last re-initialisation take a crowded item each
        revived_total += reinit_dead(model, x, sizes, gen)
    with torch.no_grad():
        z = model.encoder(x)
        codes, zq, _ = model.quantise(z)
        recon = float(((model.decoder(zq) - x) ** 2).sum(1).mean())
    unique = len({tuple(c) for c in codes.tolist()})
    out = cfg["out"]
    os.makedirs(out, exist_ok=True)
    parts = []
    linears = [m for m in model.encoder if isinstance(m, nn.Linear)]
    for lin in linears:
        parts += [lin.weight.detach().numpy().ravel(), lin.bias.detach().numpy().ravel()]
    parts += [cb.detach().numpy().ravel() for cb in model.codebooks]
    np.concatenate(parts).astype(np.float32).tofile(os.path.join(out, "rqvae.f32"))
    report = {
        "dims": [dim, *hidden, latent],
        "sizes": sizes,
        "utilisation": usage(codes, sizes),
        "collisions": n - unique,
        "uniqueTuples": unique,
        "reconMse": recon,
        "revivedCodes": revived_total,
        "epochs": epochs,
        "seconds": time.time() - t0,
    }
    with open(os.path.join(out, "rqvae.json"), "w") as f:
        json.dump(report, f)
    emit({"event": "done", **report})
    return report
