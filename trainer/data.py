"""Token data written by the TypeScript side: int32 token arrays with int64 offsets.

Format `windows` (semrec's own vocabulary):
train.tokens.i32 / train.offsets.i64: per user, the training sequence's item tuples flattened.
valid.tokens.i32 / valid.offsets.i64: per example, history tuples then the target tuple.

Format `examples` (a fine-tuned checkpoint's vocabulary; prompts rendered and tokenised by the
TypeScript side): per example its whole token sequence (prompt, then target), and in
`*.target.i32` how many of its last tokens are the target (the loss is taken on them only).
"""
import os

import numpy as np
import torch

PAD, BOS = 0, 1


def read_ragged(prefix):
    tokens = np.fromfile(prefix + ".tokens.i32", dtype="<i4")
    offsets = np.fromfile(prefix + ".offsets.i64", dtype="<i8")
    if len(offsets) == 0 or offsets[-1] != len(tokens):
        raise ValueError(f"{prefix}: offsets do not match tokens (truncated files?)")
    return [tokens[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def train_windows(seqs, levels, max_history):
    """Cut each sequence (items = tuples of `levels` tokens) into windows of at most
    max_history + 1 items so that every item after a window's first is a target exactly once.
    Returns (input_ids, labels) pairs as int64 numpy arrays; labels = -100 where no loss."""
    W = max_history + 1
    out = []
    for s in seqs:
        n = len(s) // levels
        e = n
        while e > 1:
            st = max(0, e - W)
            items = s[st * levels:e * levels]
            ids = np.concatenate([[BOS], items]).astype(np.int64)
            labels = np.full(len(ids), -100, dtype=np.int64)
            # position p predicts ids[p+1]; loss on tokens of items 2.. of the window
            labels[levels:len(ids) - 1] = ids[levels + 1:]
            out.append((ids[:-1], labels[:-1]))
            e = st + 1
    return out


def valid_examples(seqs, levels):
    """Each example: BOS + history + target; loss only on the target's tokens."""
    out = []
    for s in seqs:
        ids = np.concatenate([[BOS], s]).astype(np.int64)
        labels = np.full(len(ids), -100, dtype=np.int64)
        labels[len(ids) - 1 - levels:len(ids) - 1] = ids[len(ids) - levels:]
        out.append((ids[:-1], labels[:-1]))
    return out


def read_targets(prefix, n):
    """Per example, how many trailing tokens carry the loss (`prefix`.target.i32)."""
    t = np.fromfile(prefix + ".target.i32", dtype="<i4")
    if len(t) != n:
        raise ValueError(f"{prefix}: {len(t)} target lengths for {n} examples (truncated files?)")
    return t


def suffix_examples(seqs, targets):
    """Each example: its tokens minus the last as input, the loss on its last `targets[i]` tokens
    (position p predicts token p + 1). No BOS is added: the prompt is the tokenizer's own."""
    out = []
    for s, n in zip(seqs, targets):
        n = int(n)
        if n < 1 or n >= len(s):
            raise ValueError(f"an example of {len(s)} tokens cannot have a target of {n} tokens")
        ids = np.asarray(s, dtype=np.int64)
        labels = np.full(len(ids), -100, dtype=np.int64)
        labels[len(ids) - 1 - n:len(ids) - 1] = ids[len(ids) - n:]
        out.append((ids[:-1], labels[:-1]))
    return out


def collate(batch):
    """Right-pad a list of (ids, labels) into tensors with an attention mask and positions."""
    T = max(len(i) for i, _ in batch)
    B = len(batch)
    ids = torch.full((B, T), PAD, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    for b, (i, l) in enumerate(batch):
        ids[b, :len(i)] = torch.from_numpy(i)
        labels[b, :len(l)] = torch.from_numpy(l)
        mask[b, :len(i)] = 1
    pos = torch.arange(T).unsqueeze(0).expand(B, T).contiguous()
    return ids, mask, pos, labels


def exists(prefix):
    return os.path.exists(prefix + ".tokens.i32") and os.path.exists(prefix + ".offsets.i64")
