#!/usr/bin/python3
"""Builds models/tiny-embedder.onnx, the project's tiny lexical sentence embedder, and its golden vectors.

The model takes UTF-8 bytes (input_ids = byte values, int64 [batch, seq]) and attention_mask (int64,
1 = real byte, 0 = padding) and outputs `sentence_embedding` (float32 [batch, DIM], L2-normalised).
Everything happens inside the graph, with no learned weights:

1. normalise each byte through a 256-entry table: ASCII letters lower-cased, digits and bytes >= 128
   (UTF-8 multi-byte parts) kept, every other byte (punctuation, whitespace, controls) -> space;
   padding (mask 0) -> space;
2. collapse runs of spaces and drop leading spaces (a cumsum + scatter compaction), so "Hello, world!"
   and "hello world" give the same byte string;
3. frame the string with one space on each side and take every character 3-gram and 4-gram that has
   no two adjacent spaces (so words contribute their inner grams plus boundary grams, and adjacent
   words a junction gram such as "o w"; padding contributes nothing);
4. hash each gram (code = bytes as a base-256 number * 8 + n) into one of DIM buckets with a sign
   (the "hashing trick": code * M1 mod P1 mod DIM, sign from code * M2 mod P2), sum the signed one-hots;
5. L2-normalise (a text with no letters or digits gives the zero vector).

So cosine similarity approximates the overlap of the two texts' character n-gram multisets: useful for
near-duplicate prompts (case, punctuation, small word changes), blind to meaning. M1 and M2 come from
--seed, so the output is a pure function of (--seed, --dim).

Run with Debian's torch (python3-torch): /usr/bin/python3 tools/make-embedder/make_embedder.py
"""
import argparse
import json
import os
import random
import sys

import torch

P1 = 1048573  # primes below 2^20; code < 2^35 and M < 2^20 keep products below 2^63
P2 = 1048571
NGRAMS = (3, 4)
SPACE = 32

GOLDEN_TEXTS = [
    "What is the capital of France?",
    "what's the capital city of france",
    "How do I reverse a list in Python?",
    "In the beginning God created the heaven and the earth.",
    "Hello, world!",
    "hello world",
    "Crème brûlée — 日本語 🙂",
    "a",
    "",
    "...!!!   ",
    "The quick brown fox jumps over the lazy dog. " * 6,
]


def byte_table() -> torch.Tensor:
    t = []
    for b in range(256):
        if 65 <= b <= 90:
            t.append(b + 32)
        elif 48 <= b <= 57 or 97 <= b <= 122 or b >= 128:
            t.append(b)
        else:
            t.append(SPACE)
    return torch.tensor(t, dtype=torch.int64)


class TinyEmbedder(torch.nn.Module):
    def __init__(self, dim: int, seed: int):
        super().__init__()
        rng = random.Random(seed)
        self.m1 = rng.randrange(1 << 15, 1 << 20)
        self.m2 = rng.randrange(1 << 15, 1 << 20)
        self.dim = dim
        self.register_buffer("table", byte_table())
        self.register_buffer("buckets", torch.arange(dim, dtype=torch.int64))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        seq = input_ids.shape[1]
        ids = torch.remainder(input_ids, 256)
        x = self.table[ids]
        x = torch.where(attention_mask > 0, x, torch.full_like(x, SPACE))
        # Compaction: keep a byte unless it is a space following a space (or the start).
        prev = torch.cat([torch.full_like(x[:, :1], SPACE), x[:, :-1]], dim=1)
        drop = (x == SPACE) & (prev == SPACE)
        keep = (~drop).to(torch.int64)
        pos = torch.cumsum(keep, dim=1) - 1
        dump = torch.full_like(pos, 0) + seq  # dropped bytes (all spaces) go to an extra column
        target = torch.where(keep > 0, pos, dump)
        out = torch.full_like(torch.cat([x, x[:, :1]], dim=1), SPACE)
        out = out.scatter(1, target, x)[:, :seq]
        edge = torch.full_like(x[:, :1], SPACE)
        p = torch.cat([edge, out, edge], dim=1)  # [B, seq + 2]
        total = p.shape[1]
        acc = None
        for n in NGRAMS:
            count = total - n + 1
            code = torch.zeros_like(p[:, :count])
            bad = torch.zeros_like(p[:, :count]) > 0
            for i in range(n):
                g = p[:, i:i + count]
                code = code * 256 + g
                if i > 0:
                    bad = bad | ((g == SPACE) & (p[:, i - 1:i - 1 + count] == SPACE))
            code = code * 8 + n
            bucket = torch.remainder(torch.remainder(code * self.m1, P1), self.dim)
            sign = 1 - 2 * torch.remainder(torch.remainder(code * self.m2, P2), 2)
            weight = torch.where(bad, torch.zeros_like(sign), sign).to(torch.float32)
            onehot = (bucket.unsqueeze(-1) == self.buckets).to(torch.float32)  # [B, count, dim]
            v = (onehot * weight.unsqueeze(-1)).sum(dim=1)
            acc = v if acc is None else acc + v
        norm = torch.sqrt((acc * acc).sum(dim=1, keepdim=True))
        return acc / torch.clamp(norm, min=1e-12)


def reference(text: str, dim: int, m1: int, m2: int) -> list:
    """The same function in plain Python, as an independent check of the graph."""
    table = byte_table().tolist()
    out, prev = [], SPACE
    for b in text.encode("utf-8"):
        c = table[b]
        if not (c == SPACE and prev == SPACE):
            out.append(c)
        prev = c
    p = [SPACE] + out + [SPACE]
    v = [0.0] * dim
    for n in NGRAMS:
        for t in range(len(p) - n + 1):
            g = p[t:t + n]
            if any(g[i] == SPACE and g[i + 1] == SPACE for i in range(n - 1)):
                continue
            code = 0
            for c in g:
                code = code * 256 + c
            code = code * 8 + n
            v[(code * m1) % P1 % dim] += 1 - 2 * ((code * m2) % P2 % 2)
    s = sum(a * a for a in v) ** 0.5
    return [a / s for a in v] if s > 0 else v


def encode_batch(texts):
    rows = [list(t.encode("utf-8")) for t in texts]
    width = max(1, max(len(r) for r in rows))
    ids = torch.zeros((len(rows), width), dtype=torch.int64)
    mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.int64) if r else ids[i, :0]
        mask[i, :len(r)] = 1
    return ids, mask


def main() -> None:
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(root, "models", "tiny-embedder.onnx"))
    ap.add_argument("--golden", default=os.path.join(root, "models", "tiny-embedder.golden.json"))
    args = ap.parse_args()

    model = TinyEmbedder(args.dim, args.seed).eval()
    with torch.no_grad():
        batch_ids, batch_mask = encode_batch(GOLDEN_TEXTS)
        batched = model(batch_ids, batch_mask)
        golden = []
        for i, text in enumerate(GOLDEN_TEXTS):
            ids, mask = encode_batch([text])
            alone = model(ids, mask)[0]
            ref = torch.tensor(reference(text, args.dim, model.m1, model.m2))
            err = max(float((alone - ref).abs().max()), float((batched[i] - alone).abs().max()))
            if err > 1e-6:
                sys.exit(f"graph disagrees with the reference for {text!r}: max error {err}")
            golden.append({"text": text, "vector": [round(float(a), 7) for a in alone]})

        example = encode_batch(["Hello, world!", "a"])
        torch.onnx.export(
            model, example, args.out, opset_version=13, do_constant_folding=True,
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "sentence_embedding": {0: "batch"}},
        )
    meta = {
        "model": os.path.basename(args.out), "dim": args.dim, "seed": args.seed, "m1": model.m1, "m2": model.m2,
        "ngrams": list(NGRAMS), "tolerance": 1e-5, "torch": torch.__version__,
        "note": "vectors from the PyTorch module (checked against a plain-Python reference); rounded to 7 decimals",
        "golden": golden,
    }
    with open(args.golden, "w") as f:  # one golden entry per line
        head = json.dumps({k: v for k, v in meta.items() if k != "golden"}, ensure_ascii=False)[:-1]
        rows = ",\n  ".join(json.dumps(g, ensure_ascii=False, separators=(",", ":")) for g in golden)
        f.write(f'{head}, "golden": [\n  {rows}\n]}}\n')
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) and {args.golden} ({len(golden)} vectors)")


if __name__ == "__main__":
    main()
