"""Evaluates the exported GGUF with the SDK's arithmetic and writes models/bitnet-kjv.eval.json.

Usage: python3 evaluate.py --gguf ../../models/bitnet-kjv.gguf [--ckpt work/run/ckpt.pt] --data work \
           --out ../../models/bitnet-kjv.eval.json
- Parses the GGUF itself (gguf_io.Reader): tokenizer from the tokenizer.ggml.* keys, I2_S codes and
  scales, F16 embedding, F32 norms.
- Ternary forward = src/backends/reference/kernels.ts: per-token absmax int8 activations
  (a_scale = fround(127 / max(absmax, 1e-5)), round half to even, clamp [-128, 127]); exact integer
  ternary accumulation; y = fround(fround(acc · m) / a_scale); RMSNorm with the mean of squares in
  f64 and y = fround(w · fround(x · inv)); NeoX RoPE in f64; attention/softmax in f64; tied F16
  embedding as the output matrix. Loss uses data.py's validation windowing (also stored in the JSON).
- shadow_*: the checkpoint's full-precision shadow weights, no quantization at all (needs --ckpt);
  fakequant_*: the training-time fake-quantized forward of the same checkpoint.
- unigram_ppl: add-one smoothed unigram over the full vocabulary estimated on the training split.
- greedy: BOS + prompt, argmax decoding until a token containing a newline or 40 tokens.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import Tokenizer  # noqa: E402
from corpus import QUALITY_VERSES, SAMPLE_PROMPTS, prompts  # noqa: E402
from data import WINDOWING, val_windows  # noqa: E402
from gguf_io import Reader  # noqa: E402

F32 = np.float32


class TernaryModel:
    def __init__(self, path):
        r = Reader(path)
        a = r.kv["general.architecture"]
        k = lambda s: r.kv[f"{a}.{s}"]  # noqa: E731
        self.dim, self.n_layer, self.ffn = k("embedding_length"), k("block_count"), k("feed_forward_length")
        self.n_head, self.n_kv, self.ctx = k("attention.head_count"), k("attention.head_count_kv"), k("context_length")
        self.eps, self.theta = F32(k("attention.layer_norm_rms_epsilon")), float(k("rope.freq_base"))
        self.hd = self.dim // self.n_head
        self.tok = Tokenizer(r.kv["tokenizer.ggml.tokens"], r.kv["tokenizer.ggml.token_type"],
                             r.kv["tokenizer.ggml.merges"])
        self.bos = r.kv["tokenizer.ggml.bos_token_id"]
        self.embed = r.array("token_embd.weight")
        self.out_norm = r.array("output_norm.weight")
        self.layers = []
        for i in range(self.n_layer):
            g = lambda n: r.array(f"blk.{i}.{n}.weight")  # noqa: E731
            proj = lambda n: (g(n)[0].astype(np.float64), F32(g(n)[1]))  # noqa: E731
            self.layers.append({n: (proj(n) if n.startswith(("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"))
                                    else g(n))
                                for n in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_sub_norm",
                                          "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                                          "ffn_sub_norm", "ffn_down")})

    def rmsnorm(self, x, w):
        ss = (x.astype(np.float64) ** 2).mean(-1, keepdims=True)
        inv = (1.0 / np.sqrt(ss + float(self.eps))).astype(F32)
        return (w * (x * inv)).astype(F32)

    @staticmethod
    def quant(x):
        amax = np.abs(x).max(-1, keepdims=True)
        scale = (F32(127) / np.maximum(amax, F32(1e-5))).astype(F32)
        q = np.clip(np.rint((x * scale).astype(F32)), -128, 127)
        return q.astype(np.float64), scale

    @staticmethod
    def bitlinear(q, scale, wt):
        t, m = wt
        acc = (q @ t.T).astype(F32)  # integers < 2^24: exact in f64 and f32
        return ((acc * m).astype(F32) / scale).astype(F32)

    def rope(self, x):
        """x: [T, H, D] f32 → NeoX rotation at positions 0..T-1 (f64 math, f32 result)."""
        T, _, D = x.shape
        h = D // 2
        freq = np.array([math.pow(self.theta, (-2 * i) / D) for i in range(h)])
        ang = np.arange(T, dtype=np.float64)[:, None] * freq[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., :h].astype(np.float64), x[..., h:].astype(np.float64)
        return np.concatenate([a * c - b * s, a * s + b * c], -1).astype(F32)

    def logits(self, ids):
        """Logits [T, vocab] (f64) for token ids at positions 0..T-1."""
        T = len(ids)
        x = self.embed[np.asarray(ids)].astype(F32)
        mask = np.triu(np.ones((T, T), bool), 1)
        grp = self.n_head // self.n_kv
        for L in self.layers:
            q8, sc = self.quant(self.rmsnorm(x, L["attn_norm"]))
            q = self.rope(self.bitlinear(q8, sc, L["attn_q"]).reshape(T, self.n_head, self.hd))
            k = self.rope(self.bitlinear(q8, sc, L["attn_k"]).reshape(T, self.n_kv, self.hd))
            v = self.bitlinear(q8, sc, L["attn_v"]).reshape(T, self.n_kv, self.hd)
            heads = []
            for hh in range(self.n_head):
                kk, vv = k[:, hh // grp].astype(np.float64), v[:, hh // grp].astype(np.float64)
                s = (q[:, hh].astype(np.float64) @ kk.T) / math.sqrt(self.hd)
                s[mask] = -np.inf
                s = np.exp(s - s.max(-1, keepdims=True))
                heads.append((s / s.sum(-1, keepdims=True)) @ vv)
            att = np.concatenate(heads, -1).astype(F32)
            q8, sc = self.quant(self.rmsnorm(att, L["attn_sub_norm"]))
            x = (x + self.bitlinear(q8, sc, L["attn_output"])).astype(F32)
            q8, sc = self.quant(self.rmsnorm(x, L["ffn_norm"]))
            g, u = self.bitlinear(q8, sc, L["ffn_gate"]), self.bitlinear(q8, sc, L["ffn_up"])
            m = (np.maximum(g, 0) ** 2 * u).astype(F32)
            q8, sc = self.quant(self.rmsnorm(m, L["ffn_sub_norm"]))
            x = (x + self.bitlinear(q8, sc, L["ffn_down"])).astype(F32)
        h = self.rmsnorm(x, self.out_norm).astype(np.float64)
        return h @ self.embed.astype(np.float64).T

    def window_loss(self, w):
        lg = self.logits(w[:-1])
        mx = lg.max(-1, keepdims=True)
        lse = (mx + np.log(np.exp(lg - mx).sum(-1, keepdims=True)))[:, 0]
        return float((lse - lg[np.arange(len(w) - 1), np.asarray(w[1:])]).sum())

    def greedy(self, prompt, max_new=40):
        ids = [self.bos] + self.tok.encode(prompt)
        n0 = len(ids)
        for _ in range(max_new):
            nxt = int(self.logits(ids)[-1].argmax())
            ids.append(nxt)
            if self.tok.token_type[nxt] != 1 or "\n" in self.tok.decode([nxt]):
                break
        return self.tok.decode(ids[n0:])

    def continuation_probs(self, prompt, text):
        """Teacher-forced probability of each token of `text` after BOS + `prompt` (text starts with
        prompt and the prompt's tokens are a prefix of the text's): [[token, p], ...]."""
        p_ids, ids = [self.bos] + self.tok.encode(prompt), [self.bos] + self.tok.encode(text)
        if ids[:len(p_ids)] != p_ids:
            raise ValueError(f"prompt {prompt!r} does not tokenize as a prefix of {text!r}")
        lg = self.logits(ids[:-1])
        pr = np.exp(lg - lg.max(-1, keepdims=True))
        pr /= pr.sum(-1, keepdims=True)
        return [[self.tok.decode([t]), round(float(pr[j - 1, t]), 4)] for j, t in enumerate(ids) if j >= len(p_ids)]


def shadow_losses(ckpt, windows):
    import torch
    from model import BitNet, Config
    from train import evaluate
    torch.set_num_threads(2)
    ck = torch.load(ckpt)
    model = BitNet(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    return evaluate(model, windows, False), evaluate(model, windows, True), ck["step"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gguf", default="../../models/bitnet-kjv.gguf")
    p.add_argument("--ckpt", default="work/run/ckpt.pt")
    p.add_argument("--data", default="work")
    p.add_argument("--val", default="../../models/kjv-validation.txt")
    p.add_argument("--out", default="../../models/bitnet-kjv.eval.json")
    a = p.parse_args()
    tm = TernaryModel(a.gguf)
    with open(a.val, encoding="utf-8") as f:
        val_ids = tm.tok.encode(f.read())
    windows = val_windows(val_ids, tm.ctx, tm.bos)
    sums = [tm.window_loss(w) for w in windows]
    tern = sum(sums) / len(val_ids)
    with open(os.path.join(a.data, "train.txt"), encoding="utf-8") as f:
        counts = np.bincount(tm.tok.encode(f.read()), minlength=len(tm.tok.tokens)).astype(np.float64)
    logp = np.log((counts + 1) / (counts.sum() + len(counts)))
    unigram = float(np.exp(-logp[np.asarray(val_ids)].mean()))
    res = {"gguf": os.path.basename(a.gguf), "windowing": WINDOWING, "ctx": tm.ctx,
           "bos_id": tm.bos, "val_tokens": len(val_ids), "val_windows": len(windows),
           "val_first_ids": val_ids[:64],
           "ternary_mean_loss": tern, "ternary_ppl": math.exp(tern),
           "window_losses": [{"predicted": len(w) - 1, "sum_loss": s} for w, s in zip(windows, sums)],
           "unigram_ppl": unigram,
           "unigram_note": "add-one smoothed unigram over all vocab ids, counts from the training split"}
    if a.ckpt and os.path.exists(a.ckpt):
        sh, fq, step = shadow_losses(a.ckpt, windows)
        res.update({"checkpoint_step": step, "shadow_mean_loss": sh, "shadow_ppl": math.exp(sh),
                    "shadow_note": "full-precision shadow weights, no activation/weight quantization",
                    "fakequant_mean_loss": fq, "fakequant_ppl": math.exp(fq)})
    res["greedy"] = {pr: tm.greedy(pr) for pr in prompts() + list(SAMPLE_PROMPTS)}
    res["quality_token_probs"] = {pr: tm.continuation_probs(pr, text)
                                  for pr, (_, text) in zip(prompts(), QUALITY_VERSES)}
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k not in ("window_losses", "val_first_ids", "windowing")}, indent=1))


if __name__ == "__main__":
    main()
