"""ONNX export in the Hugging Face / Optimum causal-LM convention: inputs input_ids,
attention_mask, position_ids, past_key_values.{i}.key|value; outputs logits, present.{i}.key|value;
dynamic batch / sequence / past lengths (past length 0 = prefill).

By default the attention mask is 3-D, [batch, seq, total] (1 = this query may attend this key),
which lets the runner decode all beams of a request as one sequence over one shared prompt cache
(tree attention, no KV copy between steps); `tree=False` exports the 2-D [batch, total] mask of the
Hugging Face convention (causal order added inside the graph).

A tree graph returns only the new positions' keys and values (`new_key_values.{i}.key|value`,
[batch, heads, seq, head_dim]) instead of the whole `present` cache: the runner keeps the cache in
a buffer it owns and appends them, so a step hands back kilobytes, not the cache
(`new_kv=False` keeps the `present` outputs, as graphs exported before it did).

A tree graph also takes `logits_from` (int64 scalar): logits are computed for positions
[logits_from, seq) only, [batch, seq - logits_from, vocab]. A prefill needs just the prompt's last
position (logits_from = seq - 1: the output head runs once per prompt instead of once per token,
and the graph hands back one row of logits instead of seq); steps and parity checks pass 0."""
import torch

from .train import emit, model_from_config


class Wrapper(torch.nn.Module):
    def __init__(self, model, new_kv=False, logits_from=False):
        super().__init__()
        self.model = model
        self.new_kv = new_kv
        self.logits_from = logits_from

    def forward(self, input_ids, attention_mask, position_ids, *rest):
        if self.logits_from:
            logits_from, flat_past = rest[0], rest[1:]
            # the positions [logits_from, seq), traced as a Range over the dynamic sequence length
            keep = torch.arange(logits_from, input_ids.shape[1], dtype=torch.long)
        else:
            keep, flat_past = None, rest
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(len(flat_past) // 2)]
        kw = {} if keep is None else {"keep": keep}  # models exported the Hugging Face way (export_hf) take no `keep`
        logits, presents = self.model(input_ids, attention_mask, position_ids, past, **kw)
        out = [logits]
        for (k, v), (pk, _) in zip(presents, past):
            if self.new_kv:  # the positions after the past (traced as a dynamic slice)
                k, v = k[:, :, pk.shape[2]:], v[:, :, pk.shape[2]:]
            out += [k, v]
        return tuple(out)


def export(cfg, checkpoint, path, tree=True, new_kv=None):
    model = model_from_config(cfg)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()
    new_kv = tree if new_kv is None else new_kv
    export_model(model, cfg["vocab_size"], path, tree=tree, new_kv=new_kv)
    emit({"event": "exported", "path": path, "layers": model.n_layers, "heads": model.n_heads, "head_dim": model.head_dim,
          "mask": "tree" if tree else "causal", "kv": "new" if new_kv else "present"})


def export_model(model, vocab_size, path, tree=False, new_kv=False):
    """Trace `model` (forward(input_ids, attention_mask, position_ids, past) -> (logits, presents),
    attributes n_layers / n_heads / head_dim) to ONNX at `path`; `tree`: a 3-D attention mask;
    `new_kv`: return only the new positions' keys/values (new_key_values.*) instead of present.*."""
    if new_kv and not tree:
        raise ValueError("new_kv needs the 3-D (tree) mask: the Hugging Face convention returns present.*")
    n = model.n_layers
    B, S, P = 2, 3, 2
    ids = torch.randint(4, vocab_size, (B, S))
    if tree:
        mask = torch.tril(torch.ones(S, P + S, dtype=torch.long), diagonal=P).unsqueeze(0).repeat(B, 1, 1)
    else:
        mask = torch.ones(B, P + S, dtype=torch.long)
    pos = torch.arange(P, P + S).unsqueeze(0).repeat(B, 1)
    past = []
    for _ in range(n):
        past += [torch.randn(B, model.n_heads, P, model.head_dim), torch.randn(B, model.n_heads, P, model.head_dim)]
    names_in = ["input_ids", "attention_mask", "position_ids"]
    extra = []
    if new_kv:  # semrec's own graphs: logits for the positions from logits_from on (see the module doc)
        names_in.append("logits_from")
        extra.append(torch.tensor(1, dtype=torch.long))
    names_out = ["logits"]
    axes = {"input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq", 2: "total"} if tree else {0: "batch", 1: "total"},
            "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "kept" if new_kv else "seq"}}
    for i in range(n):
        for kv in ("key", "value"):
            names_in.append(f"past_key_values.{i}.{kv}")
            out = f"new_key_values.{i}.{kv}" if new_kv else f"present.{i}.{kv}"
            names_out.append(out)
            axes[f"past_key_values.{i}.{kv}"] = {0: "batch", 2: "past"}
            axes[out] = {0: "batch", 2: "seq" if new_kv else "total"}
    with torch.no_grad():
        torch.onnx.export(Wrapper(model, new_kv, logits_from=new_kv), (ids, mask, pos, *extra, *past), path, input_names=names_in, output_names=names_out,
                          dynamic_axes=axes, opset_version=14, do_constant_folding=True)
