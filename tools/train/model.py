"""BitNet b1.58 (arch `bitnet-b1.58`, FORMATS.md §4.2) in PyTorch with quantization-aware training.

Per layer: RMSNorm → BitLinear q,k,v (one shared activation quantization) → NeoX RoPE → causal GQA
attention (scale 1/sqrt(head_dim)) → attn_sub_norm → BitLinear o → residual; RMSNorm → BitLinear
gate, up → relu(g)²·u → ffn_sub_norm → BitLinear down → residual. Final RMSNorm, logits = E·x with
the (full-precision, tied) token embedding. No biases, eps 1e-5.

BitLinear fake quantization with straight-through estimators (`quant=True`):
  activations: s = 127 / max(absmax_token, 1e-5); x_q = x + (clamp(round(x·s), -128, 127)/s - x).detach()
  weights:     m = max(mean|W|, 1e-5);           W_q = W + (clamp(round(W/m), -1, 1)·m - W).detach()
torch.round is round-half-even, as the SDK kernels. With `quant=False` the full-precision shadow
weights are used without any quantization.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 3072
    dim: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_kv: int = 2
    ffn: int = 768
    ctx: int = 256
    rope_theta: float = 10000.0
    eps: float = 1e-5

    @property
    def head_dim(self):
        return self.dim // self.n_head

    def to_dict(self):
        return asdict(self)


def act_quant(x):
    """Per-token absmax int8 fake quantization with STE (last dim = features)."""
    s = 127.0 / x.detach().abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return x + ((x * s).round().clamp(-128, 127) / s - x).detach()


def weight_quant(w):
    """Per-tensor absmean ternary fake quantization with STE."""
    m = w.detach().abs().mean().clamp(min=1e-5)
    return w + ((w / m).round().clamp(-1, 1) * m - w).detach()


def ternarize(w):
    """Export form: (T int8 in {-1,0,1}, m float) with W ≈ T·m."""
    m = w.detach().float().abs().mean().clamp(min=1e-5)
    return (w.detach().float() / m).round().clamp(-1, 1).to(torch.int8), float(m)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def bitlinear(x, weights, quant):
    """One activation quantization shared by several weight matrices; returns a list of outputs."""
    if quant:
        x = act_quant(x)
        weights = [weight_quant(w) for w in weights]
    y = F.linear(x, torch.cat(weights, 0)) if len(weights) > 1 else F.linear(x, weights[0])
    return list(y.split([w.shape[0] for w in weights], dim=-1))


def rope_tables(cfg, device=None):
    d = cfg.head_dim
    inv = cfg.rope_theta ** (-torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    ang = torch.arange(cfg.ctx, dtype=torch.float64)[:, None] * inv[None, :]
    return ang.cos().float(), ang.sin().float()


def apply_rope(x, cos, sin):
    """NeoX (half-split) rotation; x: [B, H, T, D], cos/sin: [T, D/2]."""
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, kv = cfg.dim, cfg.n_kv * cfg.head_dim
        self.cfg = cfg
        self.attn_norm = RMSNorm(d, cfg.eps)
        self.wq = nn.Parameter(torch.empty(d, d))
        self.wk = nn.Parameter(torch.empty(kv, d))
        self.wv = nn.Parameter(torch.empty(kv, d))
        self.attn_sub_norm = RMSNorm(d, cfg.eps)
        self.wo = nn.Parameter(torch.empty(d, d))
        self.ffn_norm = RMSNorm(d, cfg.eps)
        self.wg = nn.Parameter(torch.empty(cfg.ffn, d))
        self.wu = nn.Parameter(torch.empty(cfg.ffn, d))
        self.ffn_sub_norm = RMSNorm(cfg.ffn, cfg.eps)
        self.wd = nn.Parameter(torch.empty(d, cfg.ffn))

    def forward(self, x, cos, sin, mask, quant):
        c = self.cfg
        B, T, _ = x.shape
        q, k, v = bitlinear(self.attn_norm(x), [self.wq, self.wk, self.wv], quant)
        q = q.view(B, T, c.n_head, c.head_dim).transpose(1, 2)
        k = k.view(B, T, c.n_kv, c.head_dim).transpose(1, 2)
        v = v.view(B, T, c.n_kv, c.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos[:T], sin[:T]), apply_rope(k, cos[:T], sin[:T])
        g = c.n_head // c.n_kv
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(c.head_dim))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(-1)
        a = (att @ v).transpose(1, 2).reshape(B, T, c.dim)
        x = x + bitlinear(self.attn_sub_norm(a), [self.wo], quant)[0]
        gate, up = bitlinear(self.ffn_norm(x), [self.wg, self.wu], quant)
        m = self.ffn_sub_norm(F.relu(gate).square() * up)
        return x + bitlinear(m, [self.wd], quant)[0]


class BitNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Parameter(torch.empty(cfg.vocab, cfg.dim))
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        cos, sin = rope_tables(cfg)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.ones(cfg.ctx, cfg.ctx, dtype=torch.bool).triu(1),
                             persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, quant=True):
        x = self.embed[ids]
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask, quant)
        return F.linear(self.norm(x), self.embed)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


# GGUF tensor name for each per-layer parameter (FORMATS.md §3.3).
LAYER_TENSORS = {
    "attn_norm.weight": "attn_norm.weight", "wq": "attn_q.weight", "wk": "attn_k.weight",
    "wv": "attn_v.weight", "attn_sub_norm.weight": "attn_sub_norm.weight", "wo": "attn_output.weight",
    "ffn_norm.weight": "ffn_norm.weight", "wg": "ffn_gate.weight", "wu": "ffn_up.weight",
    "ffn_sub_norm.weight": "ffn_sub_norm.weight", "wd": "ffn_down.weight",
}
