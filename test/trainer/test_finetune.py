"""pytest: fine-tuning a checkpoint (trainer/finetune.py) — the vocabulary grown by the ID tokens
with mean-initialised rows, the restricted head against the full head, LoRA merged against
unmerged, LoRA training that moves only the updates and the ID tokens' rows, random checkpoints
(sharded, bf16) that load to the tensors written, and the perplexity of a checkpoint."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from trainer.finetune import LoraLinear, apply_lora, id_loss, load_base, perplexity, plain_state_dict, write_random_checkpoint
from trainer.llm import LlamaFamily, read_checkpoint


def cfg(model_type="qwen3", **kw):
    c = {"model_type": model_type, "vocab_size": 40, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 4, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "tie_word_embeddings": model_type != "llama"}
    c.update(kw)
    return c


@pytest.mark.parametrize("family", ["llama", "qwen2", "qwen3"])
def test_grown_vocabulary_keeps_the_base_and_mean_initialises_the_id_rows(tmp_path, family):
    base = cfg(family)
    write_random_checkpoint(base, str(tmp_path), seed=3)
    m = LlamaFamily({**base, "vocab_size": 50})
    V0 = load_base(m, str(tmp_path), init_rows=36, id_start=38, id_count=12)
    assert V0 == 40
    ref = read_checkpoint(str(tmp_path))
    emb = m.model.embed_tokens.weight.detach()
    assert torch.equal(emb[:38], ref["model.embed_tokens.weight"][:38])
    mean = ref["model.embed_tokens.weight"][:36].mean(0)
    assert torch.allclose(emb[38:50], mean.expand(12, -1))
    if family == "llama":  # untied head: grown the same way
        assert torch.allclose(m.lm_head.weight.detach()[38:], ref["lm_head.weight"][:36].mean(0).expand(12, -1))
    # the base model's logits over the rows it keeps are unchanged by the growth (rows 38, 39 of the
    # base vocabulary — padding rows past its tokenizer — were taken by ID tokens)
    ids = torch.randint(0, 36, (2, 7))
    base_model = LlamaFamily(base)
    base_model.load_state_dict({k: v for k, v in ref.items()}, strict=False)
    if base["tie_word_embeddings"]:
        base_model.lm_head.weight = base_model.model.embed_tokens.weight
    with torch.no_grad():
        a, _ = base_model(ids)
        b, _ = m(ids)
    assert torch.allclose(a[..., :38], b[..., :38], atol=1e-5)


def test_a_checkpoint_of_another_shape_is_refused(tmp_path):
    write_random_checkpoint(cfg(), str(tmp_path))
    with pytest.raises(ValueError, match="hidden_size"):
        load_base(LlamaFamily(cfg(hidden_size=32, head_dim=8)), str(tmp_path), 40, 40, 0)


def test_restricted_head_is_the_slice_of_the_full_head_and_id_loss_uses_it():
    torch.manual_seed(0)
    m = LlamaFamily(cfg()).init_weights()
    ids = torch.randint(0, 40, (3, 6))
    with torch.no_grad():
        full, _ = m(ids)
        m.id_rows = (30, 8)
        part, _ = m(ids)
    assert part.shape == (3, 6, 8)
    assert torch.allclose(part, full[..., 30:38], atol=1e-6)
    labels = torch.full((3, 6), -100, dtype=torch.long)
    labels[:, 3] = torch.tensor([30, 33, 37])  # ID targets: over the 8 ID rows
    labels[0, 1] = 5  # a text target: over the whole vocabulary
    loss, n = id_loss(m, ids, torch.ones(3, 6, dtype=torch.long), torch.arange(6)[None].expand(3, 6), labels, m.empty_past(3), "sum")
    want = F.cross_entropy(part[:, 3], labels[:, 3] - 30, reduction="sum") + F.cross_entropy(full[0, 1:2], labels[0, 1:2], reduction="sum")
    assert n == 4
    assert torch.allclose(loss, want, atol=1e-5)


@pytest.mark.parametrize("family", ["llama", "qwen2", "qwen3"])
def test_lora_merged_equals_lora_unmerged(family):
    torch.manual_seed(1)
    m = LlamaFamily(cfg(family)).init_weights()
    apply_lora(m, r=4, alpha=8, id_start=36, id_count=4)
    with torch.no_grad():  # B starts at zero: give the updates values so that merging matters
        for mod in m.modules():
            if isinstance(mod, LoraLinear):
                mod.lora_B.normal_(0, 0.05)
    ids = torch.randint(0, 40, (2, 9))
    plain = LlamaFamily(cfg(family))
    plain.load_state_dict(plain_state_dict(m))
    with torch.no_grad():
        a, _ = m(ids)
        b, _ = plain(ids)
    assert torch.allclose(a, b, atol=1e-5)
    assert not any(".lora_" in k or ".base." in k for k in plain_state_dict(m))


def test_lora_training_moves_only_the_updates_and_the_id_rows():
    torch.manual_seed(2)
    m = LlamaFamily(cfg("llama")).init_weights()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    lora, rows = apply_lora(m, r=2, alpha=4, id_start=36, id_count=4)
    opt = torch.optim.AdamW([{"params": lora, "weight_decay": 0.1}, {"params": rows, "weight_decay": 0.0}], lr=1e-2)
    m.id_rows = (36, 4)
    ids = torch.randint(0, 40, (4, 8))  # ID tokens among the inputs too: their embedding rows get gradients
    labels = torch.full((4, 8), -100, dtype=torch.long)
    labels[:, -1] = torch.randint(36, 40, (4,))
    for _ in range(5):
        loss, _ = id_loss(m, ids, torch.ones(4, 8, dtype=torch.long), torch.arange(8)[None].expand(4, 8), labels, m.empty_past(4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = m.state_dict()
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        assert torch.equal(after[name][:36], before[name][:36]), name
        assert not torch.equal(after[name][36:], before[name][36:]), name
    assert torch.equal(after["model.layers.0.self_attn.q_proj.base.weight"], before["model.layers.0.self_attn.q_proj.weight"])
    assert torch.equal(after["model.norm.weight"], before["model.norm.weight"])
    merged = plain_state_dict(m)
    assert not torch.equal(merged["model.layers.0.self_attn.q_proj.weight"], before["model.layers.0.self_attn.q_proj.weight"])


@pytest.mark.parametrize("dtype,shards", [("F32", 1), ("BF16", 3), ("F16", 2)])
def test_random_checkpoints_load_to_the_tensors_written(tmp_path, dtype, shards):
    write_random_checkpoint(cfg("qwen2"), str(tmp_path), dtype=dtype, shards=shards, seed=4)
    one = tmp_path / "one"
    write_random_checkpoint(cfg("qwen2"), str(one), dtype=dtype, shards=1, seed=4)
    a, b = read_checkpoint(str(tmp_path)), read_checkpoint(str(one))
    assert sorted(a) == sorted(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (shards > 1) == (tmp_path / "model.safetensors.index.json").exists()
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "qwen2"


def test_perplexity_is_the_exponent_of_the_mean_next_token_loss(tmp_path):
    write_random_checkpoint(cfg("llama"), str(tmp_path), seed=5)
    seqs = [[1, 2, 3, 4], [5, 6], [7]]
    ppl, n = perplexity(str(tmp_path), seqs)
    assert n == 4  # 3 + 1 predicted tokens; the one-token sequence is skipped
    from trainer.llm import load_pretrained
    model, _ = load_pretrained(str(tmp_path))
    total = 0.0
    with torch.no_grad():
        for s in seqs[:2]:
            logits, _ = model(torch.tensor([s]))
            total += F.cross_entropy(logits[0, :-1].double(), torch.tensor(s[1:]), reduction="sum").item()
    assert math.isclose(ppl, math.exp(total / 4), rel_tol=1e-6)
    assert 30 < ppl < 50  # random weights: near the vocabulary size (40)
