"""pytest: the Llama-family decoder (trainer/llm.py) against closed forms — RMSNorm, the
half-split rotary embedding, grouped-query attention as multi-head attention over repeated
key/value heads, Qwen2 biases and Qwen3 q/k norms as switches with Hugging Face tensor names,
causality and the KV cache — and safetensors files (one or sharded; F32, F16, BF16)."""
import json
import math

import pytest
import torch

from trainer.llm import LlamaFamily, RMSNorm, UnsupportedModel, apply_rotary, load_pretrained, read_checkpoint, read_config, repeat_kv, rotary_cos_sin, write_safetensors


def tiny(model_type="llama", **kw):
    c = {"model_type": model_type, "vocab_size": 50, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "max_position_embeddings": 64, "tie_word_embeddings": False}
    c.update(kw)
    return c


def model(cfg, seed=0):
    torch.manual_seed(seed)
    m = LlamaFamily(cfg)
    with torch.no_grad():  # norms away from 1 and biases away from 0, so that every switch matters
        for n, p in m.named_parameters():
            if n.endswith("norm.weight") or n.endswith("layernorm.weight"):
                p.uniform_(0.5, 1.5)
            elif n.endswith(".bias"):
                p.normal_(0, 0.5)
    return m.eval()


def test_rmsnorm_closed_form():
    torch.manual_seed(1)
    n = RMSNorm(6, 1e-5)
    with torch.no_grad():
        n.weight.copy_(torch.arange(1, 7, dtype=torch.float32))
    x = torch.randn(3, 6)
    want = x / torch.sqrt((x ** 2).mean(-1, keepdim=True) + 1e-5) * torch.arange(1, 7, dtype=torch.float32)
    assert torch.allclose(n(x), want, atol=1e-6)


def test_rotary_is_the_half_split_complex_rotation():
    # half-split layout: (x[i], x[i + d/2]) is one complex number, rotated by pos · theta^(-2i/d)
    d, theta = 8, 10000.0
    x = torch.randn(1, 1, 3, d)
    pos = torch.tensor([[0, 5, 17]])
    cos, sin = rotary_cos_sin(pos, d, theta)
    got = apply_rotary(x, cos, sin)
    for s in range(3):
        for i in range(d // 2):
            ang = pos[0, s].item() * theta ** (-2 * i / d)
            z = complex(x[0, 0, s, i].item(), x[0, 0, s, i + d // 2].item()) * complex(math.cos(ang), math.sin(ang))
            assert got[0, 0, s, i].item() == pytest.approx(z.real, abs=1e-5)
            assert got[0, 0, s, i + d // 2].item() == pytest.approx(z.imag, abs=1e-5)
    # and the dot product of a rotated query and key depends only on the distance
    q, k = torch.randn(1, 1, 1, d), torch.randn(1, 1, 1, d)
    def dot(m, n):
        cq, sq = rotary_cos_sin(torch.tensor([[m]]), d, theta)
        ck, sk = rotary_cos_sin(torch.tensor([[n]]), d, theta)
        return (apply_rotary(q, cq, sq) * apply_rotary(k, ck, sk)).sum().item()
    assert dot(7, 3) == pytest.approx(dot(24, 20), abs=1e-4)


def test_gqa_is_multi_head_attention_over_repeated_kv_heads():
    kv = torch.arange(2 * 3).float().view(1, 2, 3, 1)
    rep = repeat_kv(kv, 3)
    # query head h reads key/value head h // 3
    for h in range(6):
        assert torch.equal(rep[0, h], kv[0, h // 3])
    # a GQA model equals the same model with its k/v projections duplicated per query head (MHA)
    g = model(tiny())
    mha_cfg = tiny(num_key_value_heads=4)
    m = LlamaFamily(mha_cfg).eval()
    sd = g.state_dict()
    for i in range(2):
        for w in ("k_proj", "v_proj"):
            W = sd[f"model.layers.{i}.self_attn.{w}.weight"].view(2, 8, 32)
            sd[f"model.layers.{i}.self_attn.{w}.weight"] = W.repeat_interleave(2, dim=0).reshape(32, 32)
    m.load_state_dict(sd)
    ids = torch.randint(0, 50, (2, 7))
    assert torch.allclose(g(ids)[0], m(ids)[0], atol=1e-5)


@pytest.mark.parametrize("family,bias,qk", [("llama", False, False), ("qwen2", True, False), ("qwen3", False, True)])
def test_family_switches_and_hugging_face_names(family, bias, qk):
    m = model(tiny(family))
    names = set(m.state_dict())
    assert "model.embed_tokens.weight" in names and "model.norm.weight" in names and "lm_head.weight" in names
    assert "model.layers.1.mlp.gate_proj.weight" in names and "model.layers.0.post_attention_layernorm.weight" in names
    assert ("model.layers.0.self_attn.q_proj.bias" in names) == bias
    assert ("model.layers.0.self_attn.o_proj.bias" in names) is False
    assert ("model.layers.0.self_attn.q_norm.weight" in names) == qk
    assert m.model.layers[0].self_attn.q_norm is None or m.model.layers[0].self_attn.q_norm.weight.shape == (8,)


def test_unsupported_model_type_is_refused():
    with pytest.raises(UnsupportedModel, match="gpt2"):
        read_config(tiny("gpt2"))
    assert read_config(tiny("qwen2"))["attention_bias"] is True


@pytest.mark.parametrize("family", ["llama", "qwen2", "qwen3"])
def test_causal_and_the_kv_cache_gives_the_full_forward(family):
    m = model(tiny(family, tie_word_embeddings=family == "qwen3"))
    ids = torch.randint(0, 50, (2, 9))
    with torch.no_grad():
        full, _ = m(ids)
        changed = ids.clone()
        changed[:, 6:] = (changed[:, 6:] + 1) % 50
        assert torch.allclose(m(changed)[0][:, :6], full[:, :6], atol=1e-5)  # the future does not leak
        logits, past = m(ids[:, :5])
        steps = [logits]
        for t in range(5, 9):
            lt, past = m(ids[:, t:t + 1], past=past)
            steps.append(lt)
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)


def test_tied_head_shares_the_embedding():
    m = model(tiny(tie_word_embeddings=True))
    assert m.lm_head.weight is m.model.embed_tokens.weight


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_safetensors_round_trip_one_file_and_sharded(tmp_path, dtype):
    m = model(tiny("qwen3"))
    sd = {k: v.to(dtype) for k, v in m.state_dict().items()}
    cfg = tiny("qwen3")
    # one file
    one = tmp_path / "one"
    one.mkdir()
    write_safetensors(str(one / "model.safetensors"), sd, {"format": "pt"})
    (one / "config.json").write_text(json.dumps(cfg))
    back = read_checkpoint(str(one))
    assert set(back) == set(sd)
    for k in sd:
        assert back[k].dtype == dtype and torch.equal(back[k], sd[k])
    # two shards with an index
    sh = tmp_path / "sharded"
    sh.mkdir()
    keys = sorted(sd)
    parts = {"model-00001-of-00002.safetensors": keys[::2], "model-00002-of-00002.safetensors": keys[1::2]}
    for fn, ks in parts.items():
        write_safetensors(str(sh / fn), {k: sd[k] for k in ks})
    (sh / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {k: fn for fn, ks in parts.items() for k in ks}}))
    (sh / "config.json").write_text(json.dumps(cfg))
    a, _ = load_pretrained(str(one))
    b, _ = load_pretrained(str(sh))
    ids = torch.randint(0, 50, (1, 6))
    with torch.no_grad():
        assert torch.equal(a(ids)[0], b(ids)[0])
        if dtype == torch.float32:
            assert torch.allclose(a(ids)[0], m(ids)[0], atol=1e-6)


def test_bf16_bytes_are_read_as_written(tmp_path):
    # 1.0, -2.0 and 0.5 are exact in bfloat16: 0x3f80, 0xc000, 0x3f00 (little-endian on disk)
    t = torch.tensor([1.0, -2.0, 0.5], dtype=torch.bfloat16)
    write_safetensors(str(tmp_path / "x.safetensors"), {"t": t})
    raw = (tmp_path / "x.safetensors").read_bytes()
    assert raw.endswith(bytes([0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F]))
    from trainer.llm import read_safetensors
    assert read_safetensors(str(tmp_path / "x.safetensors"))["t"].float().tolist() == [1.0, -2.0, 0.5]
