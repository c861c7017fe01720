"""Exports a training checkpoint + tokenizer as a GGUF v3 `bitnet-b1.58` model (FORMATS.md §1-§3).

Usage: python3 export_gguf.py --ckpt work/run/ckpt.pt --tokenizer work/tokenizer.json \
           --out ../../models/bitnet-kjv.gguf [--name bitnet-kjv]
Projections: absmean-ternarized (model.ternarize) and stored as I2_S with scale m; norms F32;
token_embd F16 (tied output, no output.weight). All hyperparameters u32 / f32 as in the official file.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import Tokenizer  # noqa: E402
from gguf_io import (GGML_F16, GGML_F32, GGML_I2_S, T_ARR, T_BOOL, T_F32, T_I32, T_STR, T_U32,  # noqa: E402
                     pack_i2s, write_gguf)
from model import LAYER_TENSORS, Config, ternarize  # noqa: E402

ARCH = "bitnet-b1.58"


def build(state, cfg, tok, name):
    c = cfg
    kvs = [("general.architecture", T_STR, ARCH), ("general.name", T_STR, name),
           (f"{ARCH}.vocab_size", T_U32, c.vocab), (f"{ARCH}.context_length", T_U32, c.ctx),
           (f"{ARCH}.embedding_length", T_U32, c.dim), (f"{ARCH}.block_count", T_U32, c.n_layer),
           (f"{ARCH}.feed_forward_length", T_U32, c.ffn),
           (f"{ARCH}.rope.dimension_count", T_U32, c.head_dim),
           (f"{ARCH}.attention.head_count", T_U32, c.n_head),
           (f"{ARCH}.attention.head_count_kv", T_U32, c.n_kv),
           ("tokenizer.ggml.add_bos_token", T_BOOL, True),
           (f"{ARCH}.attention.layer_norm_rms_epsilon", T_F32, c.eps),
           (f"{ARCH}.rope.freq_base", T_F32, c.rope_theta),
           ("general.file_type", T_U32, 40),
           ("tokenizer.ggml.model", T_STR, "gpt2"), ("tokenizer.ggml.pre", T_STR, "llama-bpe"),
           ("tokenizer.ggml.tokens", T_ARR, (T_STR, tok.tokens)),
           ("tokenizer.ggml.token_type", T_ARR, (T_I32, tok.token_type)),
           ("tokenizer.ggml.merges", T_ARR, (T_STR, tok.merges)),
           ("tokenizer.ggml.bos_token_id", T_U32, tok.bos_id),
           ("tokenizer.ggml.eos_token_id", T_U32, tok.eos_id),
           ("tokenizer.ggml.eot_token_id", T_U32, tok.eot_id),
           ("tokenizer.ggml.padding_token_id", T_U32, tok.eos_id),
           ("tokenizer.ggml.add_eos_token", T_BOOL, False),
           ("general.quantization_version", T_U32, 2)]
    if len(tok.tokens) != c.vocab:
        raise ValueError("tokenizer / model vocab mismatch")

    def f32(key):
        v = state[key].float().numpy().astype("<f4")
        return v, [v.shape[0]], GGML_F32, v.tobytes()

    emb = state["embed"].float().numpy()
    tensors = [("token_embd.weight", [c.dim, c.vocab], GGML_F16, emb.astype("<f2").tobytes())]
    for i in range(c.n_layer):
        for pname, gname in LAYER_TENSORS.items():
            w = state[f"layers.{i}.{pname}"]
            if w.dim() == 1:
                _, ne, gt, data = f32(f"layers.{i}.{pname}")
            else:
                if w.shape[1] % 128:
                    raise ValueError(f"{gname}: ne0 {w.shape[1]} not a multiple of 128")
                t, m = ternarize(w)
                ne, gt, data = [w.shape[1], w.shape[0]], GGML_I2_S, pack_i2s(t.numpy(), m)
            tensors.append((f"blk.{i}.{gname}", ne, gt, data))
    _, ne, gt, data = f32("norm.weight")
    tensors.append(("output_norm.weight", ne, gt, data))
    return kvs, tensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="work/run/ckpt.pt")
    p.add_argument("--tokenizer", default="work/tokenizer.json")
    p.add_argument("--out", default="../../models/bitnet-kjv.gguf")
    p.add_argument("--name", default="bitnet-kjv")
    a = p.parse_args()
    ck = torch.load(a.ckpt)
    cfg = Config(**ck["config"])
    kvs, tensors = build(ck["model"], cfg, Tokenizer.load(a.tokenizer), a.name)
    write_gguf(a.out, kvs, tensors)
    size = os.path.getsize(a.out)
    print(f"wrote {a.out}: {size} bytes, {len(tensors)} tensors, step {ck['step']}")
    if size >= 8 * 1024 * 1024:
        raise SystemExit("GGUF exceeds 8 MB")


if __name__ == "__main__":
    main()
