"""python3 -m trainer <train|export|export-hf|logits|score|bare|rqvae|random-hf|perplexity|sasrec|sasrec-logits> --config CONFIG.json [...]

sasrec: train the SASRec baseline (trainer/sasrec.py); sasrec-logits: --checkpoint, --input (a JSON list of
histories, item numbers) and --out: PyTorch's log-softmax over the catalogue per history as little-endian float32.

random-hf: write a random-weight Hugging Face checkpoint of the config (a config.json dict) to
--out (--dtype F32|F16|BF16, --shards N); perplexity: --config {"base": DIR} --input tokens JSON
(a list of token-id lists) prints {"event": "perplexity", "perplexity", "tokens"}; bench-export /
bench-peer: bench/llm-serve.ts's graphs and PyTorch peer (trainer/bench_llm.py)."""
import argparse
import json
import os
import sys

import numpy as np
import torch


def die_with_parent():
    """Linux: ask the kernel to SIGTERM this process when the process that started it (the
    TypeScript CLI) dies, even by SIGKILL, so that no trainer outlives its job."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            sys.exit("parent process is gone")
    except (OSError, AttributeError):
        pass  # not Linux/glibc: no parent-death signal


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m trainer")
    ap.add_argument("command", choices=["train", "export", "export-hf", "logits", "score", "bare", "rqvae", "random-hf", "perplexity", "bench-export", "bench-peer", "sasrec", "sasrec-logits"])
    ap.add_argument("--config", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--out")
    ap.add_argument("--map", help="export-hf: JSON {vocab_size, native_to_hf, seed}")
    ap.add_argument("--mask", choices=["tree", "causal"], default="tree",
                    help="export: 3-D attention mask (tree attention; default) or the 2-D causal-LM mask")
    ap.add_argument("--kv", choices=["new", "present"], default=None,
                    help="export, tree mask: return only the new positions' keys/values (default) or the whole present cache")
    ap.add_argument("--input", help="logits: JSON {input_ids, attention_mask, position_ids} (no past); score: JSON {prompts, candidates}")
    ap.add_argument("--steps", type=int, default=30, help="bare: timed steps")
    ap.add_argument("--seq-len", type=int, default=0, help="bare: tokens per row (default: the model's window)")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32", help="random-hf: tensor dtype")
    ap.add_argument("--shards", type=int, default=1, help="random-hf: safetensors shards")
    ap.add_argument("--seed", type=int, default=0, help="random-hf: weight seed")
    args = ap.parse_args(argv)
    if os.environ.get("SEMREC_CHILD") == "1":
        die_with_parent()
    with open(args.config) as f:
        cfg = json.load(f)
    if args.command == "sasrec":
        from .sasrec import train_sasrec
        train_sasrec(cfg)
    elif args.command == "sasrec-logits":
        from .sasrec import sasrec_logits
        with open(args.input) as f:
            lp = sasrec_logits(cfg, args.checkpoint, json.load(f))
        np.asarray(lp, dtype="<f4").tofile(args.out)
        sys.stdout.write(json.dumps({"event": "logits", "shape": list(lp.shape)}) + "\n")
    elif args.command == "bench-export":
        from .bench_llm import bench_export
        bench_export(cfg, args.out)
    elif args.command == "bench-peer":
        from .bench_llm import bench_peer
        with open(args.input) as f:
            bench_peer(cfg, json.load(f))
    elif args.command == "random-hf":
        from .finetune import write_random_checkpoint
        write_random_checkpoint(cfg, args.out, args.dtype, args.shards, args.seed)
        sys.stdout.write(json.dumps({"event": "written", "path": args.out}) + "\n")
    elif args.command == "perplexity":
        from .finetune import perplexity
        with open(args.input) as f:
            seqs = json.load(f)
        ppl, n = perplexity(cfg["base"], seqs)
        sys.stdout.write(json.dumps({"event": "perplexity", "perplexity": ppl, "tokens": n}) + "\n")
    elif args.command == "train":
        from .train import train
        train(cfg)
    elif args.command == "rqvae":
        from .rqvae import train_rqvae
        train_rqvae(cfg)
    elif args.command == "bare":
        from .bare import bare
        bare(cfg, steps=args.steps, seq_len=args.seq_len or None)
    elif args.command == "export":
        from .export import export
        export(cfg, args.checkpoint, args.out, tree=args.mask == "tree", new_kv=None if args.kv is None else args.kv == "new")
    elif args.command == "export-hf":
        from .export_hf import export_hf
        export_hf(cfg, args.checkpoint, args.map, args.out)
    elif args.command == "score":
        # brute-force reference for constrained decoding: the exact log-probability of every
        # candidate tuple after every prompt (a full forward over prompt + tuple; no cache)
        from .train import model_from_config
        model = model_from_config(cfg)
        model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
        model.eval()
        with open(args.input) as f:
            inp = json.load(f)
        out = []
        with torch.no_grad():
            for prompt in inp["prompts"]:
                cands = torch.tensor(inp["candidates"], dtype=torch.long)
                n, L = cands.shape
                ids = torch.cat([torch.tensor(prompt, dtype=torch.long)[None].expand(n, len(prompt)), cands], dim=1)
                T = ids.shape[1]
                logits, _ = model(ids, torch.ones(n, T, dtype=torch.long), torch.arange(T)[None].expand(n, T), model.empty_past(n))
                lp = torch.log_softmax(logits.double(), dim=-1)
                pos = torch.arange(len(prompt) - 1, T - 1)
                # a restricted head's logit j is the vocabulary row id_rows[0] + j
                col = cands - (model.id_rows[0] if getattr(model, "id_rows", None) else 0)
                out.append(lp[torch.arange(n)[:, None], pos[None], col].sum(dim=1).tolist())
        with open(args.out, "w") as f:
            json.dump(out, f)
    else:
        from .train import model_from_config
        model = model_from_config(cfg)
        model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
        model.eval()
        with open(args.input) as f:
            inp = json.load(f)
        ids = torch.tensor(inp["input_ids"], dtype=torch.long)
        with torch.no_grad():
            logits, _ = model(ids, torch.tensor(inp["attention_mask"], dtype=torch.long), torch.tensor(inp["position_ids"], dtype=torch.long),
                              model.empty_past(ids.shape[0]))
        np.asarray(logits, dtype="<f4").tofile(args.out)
        sys.stdout.write(json.dumps({"event": "logits", "shape": list(logits.shape)}) + "\n")


if __name__ == "__main__":
    main()
