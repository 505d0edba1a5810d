"""pytest: the SASRec baseline (trainer/sasrec.py) — training windows that make every item after a
sequence's first a target exactly once, causality (a later item never changes an earlier
position), padding that changes nothing, the sampled softmax that never counts the positive as a
negative, the ranking metrics against a brute-force loop, and the ONNX graph against PyTorch."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from trainer.sasrec import SASRec, export_sasrec, loss_of, rank_metrics, right_align, windows


def test_windows_make_every_later_item_a_target_once():
    seqs = [np.arange(1, 12), np.array([5, 6]), np.array([7])]
    X, Y = windows(seqs, 4)
    targets = sorted(Y[Y > 0].tolist())
    assert targets == sorted(list(range(2, 12)) + [6])
    # each target's input at the same position is the item just before it in its sequence
    for x, y in zip(X.tolist(), Y.tolist()):
        for a, b in zip(x, y):
            if b:
                assert a == b - 1 or (a, b) == (5, 6)
    assert X.shape[1] == 4


def test_causal_and_padding_invariant():
    torch.manual_seed(0)
    m = SASRec(30, 6, d=16, layers=2, heads=2, dropout=0.0).eval()
    a = torch.tensor([[0, 0, 3, 4, 5, 6]])
    b = torch.tensor([[0, 0, 3, 4, 5, 9]])
    with torch.no_grad():
        ha, hb = m.hidden(a), m.hidden(b)
    assert torch.allclose(ha[0, :5], hb[0, :5], atol=1e-6)  # the last item does not reach earlier positions
    assert not torch.allclose(ha[0, 5], hb[0, 5])
    assert torch.all(ha[0, :2] == m.ln(torch.zeros(16)))  # padding positions carry nothing but the final norm's bias


def test_sampled_softmax_never_counts_the_positive_as_a_negative():
    torch.manual_seed(0)
    m = SASRec(3, 4, d=8, layers=1, heads=1, dropout=0.0)
    x = torch.tensor([[0, 1, 2, 3]])
    y = torch.tensor([[0, 2, 3, 1]])
    # 64 negatives over 3 items: each row's own item is drawn many times and must never count
    gen = torch.Generator().manual_seed(1)
    sampled = loss_of(m, x, y, "sampled", 64, gen)
    # reference: the positive against the drawn items that are not it (duplicates kept, as drawn)
    h = m.hidden(x)[y > 0]
    t = y[y > 0] - 1
    gen = torch.Generator().manual_seed(1)
    neg = torch.randint(0, 3, (64,), generator=gen)
    logits = h @ m.item.weight[1:].t()
    ref = []
    for i in range(len(t)):
        others = logits[i, neg][neg != t[i]]
        ref.append(-logits[i, t[i]] + torch.logsumexp(torch.cat([logits[i, t[i]][None], others]), 0))
    assert math.isclose(sampled.item(), torch.stack(ref).mean().item(), rel_tol=1e-5)


def test_rank_metrics_match_a_brute_force_loop():
    torch.manual_seed(2)
    m = SASRec(25, 5, d=8, layers=1, heads=1, dropout=0.0)
    rng = np.random.default_rng(0)
    hists = [rng.integers(1, 26, size=rng.integers(1, 6)) for _ in range(40)]
    tg = [int(rng.integers(1, 26)) for _ in range(40)]
    r10, n10 = rank_metrics(m, hists, tg, k=10, batch=7)
    hit = ndcg = 0.0
    with torch.no_grad():
        for h, t in zip(hists, tg):
            lp = m(right_align([h], 5))[0].numpy().copy()
            lp[h - 1] = -np.inf
            order = [i + 1 for i in np.argsort(-lp, kind="stable")]
            # ties broken in the target's favour, as rank_metrics does
            rank = int((lp > lp[t - 1]).sum())
            assert order.index(t) >= rank
            if rank < 10:
                hit += 1
                ndcg += 1 / math.log2(rank + 2)
    assert math.isclose(r10, hit / 40) and math.isclose(n10, ndcg / 40)


def test_onnx_export_writes_an_eval_mode_graph(tmp_path):
    # the graph's outputs are checked against PyTorch on the Node side (test/src/sasrec.test.ts)
    torch.manual_seed(3)
    m = SASRec(40, 6, d=16, layers=2, heads=2, dropout=0.3)
    path = str(tmp_path / "m.onnx")
    export_sasrec(m, path)
    assert (tmp_path / "m.onnx").stat().st_size > 0
    assert not m.training  # exported in eval mode: dropout off


def test_semantic_id_embeddings_are_the_item_vector_plus_its_codes_vectors():
    torch.manual_seed(3)
    codes = np.array([[0, 1], [0, 2], [1, 0], [1, 2]])
    m = SASRec(4, 5, d=8, layers=1, heads=2, dropout=0.0, codes=codes, code_sizes=[2, 3]).eval()
    t = m.table()
    assert torch.all(t[0] == 0)  # padding stays zero
    for i, (a, b) in enumerate(codes):
        ref = m.item.weight[i + 1] + m.code.weight[a] + m.code.weight[2 + b]
        assert torch.allclose(t[i + 1], ref)
    # items sharing a code share its vector: moving level-0 code 1 moves items 3 and 4 only
    with torch.no_grad():
        m.code.weight[1] += 1.0
    moved = (m.table() - t).abs().sum(1) > 0
    assert moved.tolist() == [False, False, False, True, True]
    # the scores are the last hidden state against those embeddings
    x = torch.tensor([[0, 0, 1, 2, 3]])
    with torch.no_grad():
        ref = torch.log_softmax(m.hidden(x)[:, -1] @ m.table()[1:].t(), -1)
        assert torch.allclose(m(x), ref)


def test_semantic_ids_refuse_bad_codes_and_load_from_a_checkpoint(tmp_path):
    import pytest
    from trainer.sasrec import model_of
    with pytest.raises(ValueError, match="outside"):
        SASRec(2, 4, d=8, layers=1, heads=1, codes=np.array([[0, 3], [1, 0]]), code_sizes=[2, 3])
    with pytest.raises(ValueError, match="codes must be"):
        SASRec(3, 4, d=8, layers=1, heads=1, codes=np.array([[0, 1], [1, 0]]), code_sizes=[2, 3])
    cfg = {"items": 4, "max_len": 5, "d": 8, "layers": 1, "heads": 2, "dropout": 0.0, "code_sizes": [2, 3]}
    codes = np.array([[0, 1], [0, 2], [1, 0], [1, 2]])
    torch.manual_seed(4)
    m = model_of(cfg, codes).eval()
    torch.save(m.state_dict(), tmp_path / "c.pt")
    back = model_of(cfg, state=torch.load(tmp_path / "c.pt"))
    back.load_state_dict(torch.load(tmp_path / "c.pt"))
    back.eval()
    x = torch.tensor([[0, 4, 1, 2, 3]])
    with torch.no_grad():
        assert torch.allclose(m(x), back(x))


def test_level_loss_adds_one_softmax_per_level_of_the_next_tuple():
    torch.manual_seed(5)
    codes = np.array([[0, 1], [0, 2], [1, 0], [1, 2]])
    m = SASRec(4, 5, d=8, layers=1, heads=2, dropout=0.0, codes=codes, code_sizes=[2, 3])
    x = torch.tensor([[0, 0, 1, 2, 3]])
    y = torch.tensor([[0, 0, 2, 3, 4]])
    gen = torch.Generator()
    base = loss_of(m, x, y, "ce", 0, gen)
    both = loss_of(m, x, y, "ce", 0, gen, level_loss=0.5)
    h = m.hidden(x)[y > 0]
    t = y[y > 0] - 1
    c = torch.as_tensor(codes)[t]
    ref = F.cross_entropy(h @ m.code.weight[:2].t(), c[:, 0]) + F.cross_entropy(h @ m.code.weight[2:5].t(), c[:, 1])
    assert math.isclose(both.item(), base.item() + 0.5 * ref.item(), rel_tol=1e-5)
