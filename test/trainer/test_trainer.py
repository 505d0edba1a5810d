"""pytest: the trainer's data windows, masking, KV cache, the GPT-2-named export's parity with the
training model, the warmup-stable-decay schedule and the length-bucketed batches. Run by `npm test`
(`python3 -m pytest test/trainer`)."""
import random

import numpy as np
import pytest
import torch

from trainer.data import BOS, collate, train_windows, valid_examples
from trainer.export_hf import Gpt2LMHead
from trainer.model import Decoder, causal_mask
from trainer.train import WSD, length_bucketed_batches, valid_sample


def random_seqs(n, levels, seed, max_items=30):
    r = random.Random(seed)
    return [np.array([4 + r.randrange(20) for _ in range(levels * r.randrange(1, max_items))], dtype=np.int32) for _ in range(n)]


@pytest.mark.parametrize("levels,max_history", [(1, 3), (3, 5), (4, 20)])
def test_every_item_after_the_first_is_a_target_exactly_once(levels, max_history):
    r = random.Random(levels)
    for _ in range(30):
        n = r.randrange(1, 60)
        # item k's tokens are unique to it, so a target tuple names its position in the sequence
        s = np.array([4 + k * levels + lv for k in range(n) for lv in range(levels)], dtype=np.int32)
        seen = []
        for ids, labels in train_windows([s], levels, max_history):
            assert ids[0] == BOS and len(ids) == len(labels)
            assert len(ids) - 1 <= (max_history + 1) * levels - 1  # at most max_history + 1 items (minus the last token)
            lab = [(p, int(labels[p])) for p in range(len(ids)) if labels[p] != -100]
            assert all(p >= levels for p, _ in lab)  # the window's first item is context only
            assert all(p + 1 == len(ids) or t == ids[p + 1] for p, t in lab)
            tokens = [t for _, t in lab]
            assert len(tokens) % levels == 0
            seen += [(tokens[i] - 4) // levels for i in range(0, len(tokens), levels)]
        assert sorted(seen) == list(range(1, n))


def test_valid_examples_take_the_loss_on_the_target_tuple_only():
    levels = 3
    for s in random_seqs(20, levels, seed=9):
        if len(s) < 2 * levels:
            continue
        [(ids, labels)] = valid_examples([s], levels)
        assert ids[0] == BOS
        assert (labels[:-levels] == -100).all()
        assert labels[-levels:].tolist() == s[-levels:].tolist()


def test_causal_mask_matches_its_definition():
    g = torch.Generator().manual_seed(1)
    for P, S in [(0, 5), (3, 1), (2, 4)]:
        am = (torch.rand(3, P + S, generator=g) > 0.3).long()
        m = causal_mask(am, S, P, torch.float32)
        for b in range(3):
            for i in range(S):
                for j in range(P + S):
                    ok = j <= P + i and am[b, j] == 1
                    assert m[b, 0, i, j].item() == (0.0 if ok else -1e9)


def small_decoder(seed=0, vocab=40):
    torch.manual_seed(seed)
    return Decoder(vocab, n_layers=2, d_model=16, n_heads=2, d_ff=32, dropout=0.0, max_positions=32).eval()


def test_prefill_then_kv_steps_equal_a_full_forward_pass():
    model = small_decoder()
    ids = torch.randint(4, 40, (2, 9))
    full, _ = model(ids, torch.ones(2, 9, dtype=torch.long), torch.arange(9).expand(2, 9), model.empty_past(2))
    logits, past = model(ids[:, :6], torch.ones(2, 6, dtype=torch.long), torch.arange(6).expand(2, 6), model.empty_past(2))
    steps = [logits[:, -1]]
    for t in range(6, 9):
        out, past = model(ids[:, t:t + 1], torch.ones(2, t + 1, dtype=torch.long), torch.full((2, 1), t), past)
        steps.append(out[:, -1])
    for k, t in enumerate(range(5, 9)):
        assert torch.allclose(steps[k], full[:, t], atol=1e-5)


def test_tree_mask_siblings_in_one_sequence_equal_their_own_sequences():
    """3-D masks (tree attention): two continuations of one prompt appended to one row, each
    attending the prompt and itself only, at the same position id, give each branch's logits."""
    model = small_decoder(seed=5)
    prompt = torch.randint(4, 40, (1, 6))
    a, b = 7, 11
    P = prompt.shape[1]
    _, past = model(prompt, torch.ones(1, P, dtype=torch.long), torch.arange(P).unsqueeze(0), model.empty_past(1))
    mask = torch.zeros(1, 2, P + 2, dtype=torch.long)
    mask[0, :, :P] = 1
    mask[0, 0, P] = 1
    mask[0, 1, P + 1] = 1
    tree, _ = model(torch.tensor([[a, b]]), mask, torch.tensor([[P, P]]), past)
    for k, tok in enumerate([a, b]):
        seq = torch.cat([prompt, torch.tensor([[tok]])], dim=1)
        ref, _ = model(seq, torch.ones(1, P + 1, dtype=torch.long), torch.arange(P + 1).unsqueeze(0), model.empty_past(1))
        assert torch.allclose(tree[0, k], ref[0, -1], atol=1e-5)
    # a 3-D mask that spells out the causal pattern is the 2-D mask
    am = torch.ones(2, 5, dtype=torch.long)
    am[0, :2] = 0
    m2 = causal_mask(am, 5, 0, torch.float32)
    m3 = causal_mask(torch.tril(torch.ones(5, 5, dtype=torch.long)).unsqueeze(0) * am[:, None, :], 5, 0, torch.float32)
    assert torch.equal(m2, m3)


def test_gpt2_named_export_computes_the_training_model():
    model = small_decoder(seed=3)
    hf = Gpt2LMHead(model, model.tok.weight.detach().clone()).eval()
    ids = torch.randint(4, 40, (3, 7))
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[0, :2] = 0  # left padding
    pos = torch.arange(7).expand(3, 7)
    a, pa = model(ids, mask, pos, model.empty_past(3))
    b, pb = hf(ids, mask, pos, model.empty_past(3))
    keep = mask.bool()
    assert torch.allclose(a[keep], b[keep], atol=1e-5)
    for (ka, va), (kb, vb) in zip(pa, pb):
        assert torch.allclose(ka, kb, atol=1e-6) and torch.allclose(va, vb, atol=1e-6)


def test_collate_right_pads_with_a_mask():
    ids, mask, pos, labels = collate([(np.array([1, 5, 6]), np.array([-100, 6, 7])), (np.array([1, 9]), np.array([-100, 3]))])
    assert ids.tolist() == [[1, 5, 6], [1, 9, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert labels.tolist() == [[-100, 6, 7], [-100, 3, -100]]
    assert pos.tolist() == [[0, 1, 2], [0, 1, 2]]


def test_wsd_decays_after_patience_and_ends_at_zero():
    spe = 10
    s = WSD(base=1.0, warmup_steps=5, steps_per_epoch=spe, max_epochs=100, patience=2, decay_frac=0.2, time_budget_s=0)
    assert s.lr(0) == pytest.approx(0.2) and s.lr(4) == pytest.approx(1.0) and s.lr(50) == 1.0
    step, bad_by_epoch = 0, [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    over = False
    for epoch, bad in enumerate(bad_by_epoch, start=1):
        step += spe
        over = s.end_of_epoch(epoch, step, bad, elapsed=epoch)
        assert not over
    assert s.reason == "validation loss flat for 2 epochs"
    assert s.decay_steps == 2 * spe  # 20 % of 10 epochs
    assert s.lr(step) == 1.0 and s.lr(step + 10) == pytest.approx(0.5) and s.lr(step + 20) == 0.0
    assert not s.end_of_epoch(11, step + spe, 3, 11)
    assert s.end_of_epoch(12, step + 2 * spe, 4, 12)


def test_wsd_leaves_room_for_the_decay_inside_the_time_budget_and_the_epoch_cap():
    s = WSD(1.0, 1, 10, max_epochs=100, patience=5, decay_frac=0.2, time_budget_s=100)
    # 10 s per epoch: after epoch 8, 8 + 2 more epochs reach 100 s
    assert not any(s.end_of_epoch(e, 10 * e, 0, 10.0 * e) for e in range(1, 8)) and s.decay_start is None
    assert not s.end_of_epoch(8, 80, 0, 80.0)
    assert s.reason == "time budget 100 s" and s.decay_steps == 20
    c = WSD(1.0, 1, 10, max_epochs=12, patience=5, decay_frac=0.2, time_budget_s=0)
    assert not any(c.end_of_epoch(e, 10 * e, 0, e) for e in range(1, 10))
    assert not c.end_of_epoch(10, 100, 0, 10) and c.reason == "epoch cap 12" and c.decay_steps == 20


def test_length_bucketed_batches_cover_every_example_once_and_cut_padding():
    r = random.Random(4)
    lengths = [r.randrange(2, 80) for _ in range(1000)]
    order = list(range(1000))
    r.shuffle(order)
    batches = length_bucketed_batches(order, lengths, 32, random.Random(1))
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    naive = sum(len(order[i:i + 32]) * max(lengths[j] for j in order[i:i + 32]) for i in range(0, 1000, 32))
    assert padded < 0.75 * naive


def test_valid_sample_is_a_fixed_seeded_subset_sorted_by_length():
    ex = [(np.zeros(n), np.zeros(n)) for n in range(3, 200)]
    a = valid_sample(ex, 50, seed=2)
    assert len(a) == 50 and [len(x[0]) for x in a] == sorted(len(x[0]) for x in a)
    assert [len(x[0]) for x in a] == [len(x[0]) for x in valid_sample(ex, 50, seed=2)]
    assert len(valid_sample(ex, 0, seed=2)) == len(ex)


def _rqvae_run(tmp_path, x, sizes, seed=0, epochs=30):
    from trainer.rqvae import train_rqvae
    f = tmp_path / f"x{seed}.f32"
    x.astype(np.float32).tofile(f)
    out = tmp_path / f"out{seed}"
    rep = train_rqvae({"embeddings": str(f), "n": x.shape[0], "dim": x.shape[1], "sizes": sizes, "latent_dim": 8,
                       "hidden": [32], "epochs": epochs, "batch_size": 128, "seed": seed, "reinit_every": 5, "out": str(out)})
    return rep, np.fromfile(out / "rqvae.f32", dtype=np.float32)


def test_rqvae_uses_its_codebooks_writes_the_documented_layout_and_is_deterministic(tmp_path, capsys):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 16))
    x = centres[rng.integers(0, 40, 600)] + 0.2 * rng.normal(size=(600, 16))
    sizes = [16, 16]
    rep, w = _rqvae_run(tmp_path, x, sizes)
    assert min(rep["utilisation"]) >= 0.9  # k-means initialisation + dead-code re-initialisation
    assert rep["dims"] == [16, 32, 8]
    n_mlp = 16 * 32 + 32 + 32 * 8 + 8
    assert w.size == n_mlp + sum(k * 8 for k in sizes)
    assert rep["collisions"] == 600 - rep["uniqueTuples"]
    # the documented layout reproduces the encoder: W (out × in) then b, ReLU between layers
    from trainer.rqvae import nearest
    W1 = w[:512].reshape(32, 16); b1 = w[512:544]; W2 = w[544:800].reshape(8, 32); b2 = w[800:808]
    z = np.maximum(x.astype(np.float32) @ W1.T + b1, 0) @ W2.T + b2
    cb0 = torch.from_numpy(w[n_mlp:n_mlp + 128].reshape(16, 8).copy())
    codes0 = nearest(torch.from_numpy(z), cb0).numpy()
    assert len(np.unique(codes0)) / 16 == rep["utilisation"][0]
    rep2, w2 = _rqvae_run(tmp_path, x, sizes, seed=0)
    assert np.array_equal(w, w2)
    _, w3 = _rqvae_run(tmp_path, x, sizes, seed=1)
    assert not np.array_equal(w, w3)
    assert '"event": "done"' in capsys.readouterr().out
