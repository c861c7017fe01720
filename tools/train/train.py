"""Deterministic QAT training of the embedded KJV BitNet b1.58 model on CPU.

Usage: python3 train.py --data work --out work/run [--steps N] [--minutes M] [shape/optim flags]
- Inputs: DATA/train.txt, DATA/validation.txt, DATA/tokenizer.json (made by corpus.py / bpe.py).
- Deterministic for a given --seed: torch/numpy seeds, data order from data.TrainBatches.
- AdamW, linear warmup (--warmup steps) then cosine decay to --min-lr-frac · lr. The schedule
  position is max(step/--steps, elapsed/--minutes) (see progress()); training ends when it reaches 1.
  Every step's lr is appended to OUT/lr.tsv so a time-driven run can be replayed exactly.
- Logs to OUT/train.log; checkpoints OUT/ckpt.pt every --ckpt-minutes and at the end. A rerun with
  the same OUT resumes from the checkpoint (elapsed time is counted across resumes).
- With --final-eval, at the end evaluates the shadow weights (full precision, no quantization) and the fake-quantized
  model on the whole validation split (data.py windowing) and writes OUT/summary.json.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import Tokenizer  # noqa: E402
from data import TrainBatches, val_windows, verse_starts  # noqa: E402
from model import BitNet, Config  # noqa: E402


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="work")
    p.add_argument("--out", default="work/run")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ctx", type=int, default=256)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=768)
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-frac", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--minutes", type=float, default=55.0)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--replay-lr", default=None, help="lr.tsv of an earlier run: use its per-step learning "
                   "rates and stop after its last step, instead of the warmup/cosine schedule and the clock")
    p.add_argument("--famous-frac", type=float, default=0.0, help="share of training windows that start "
                   "at a verse of the famous chapters (DATA/famous_lines.json, corpus.py)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--init-from", default=None, help="continue from another run's checkpoint: its "
                   "weights and AdamW state are loaded, the data stream continues after its last step, "
                   "and this run's own warmup + cosine schedule starts at 0 (a second training phase)")
    p.add_argument("--final-eval", action="store_true", help="full validation eval at the end "
                   "(evaluate.py does it anyway)")
    return p.parse_args()


def progress(step, elapsed, a):
    """Schedule position in [0, 1]: max of step/steps and elapsed/(minutes·60). On an uncontended
    machine the step term dominates (deterministic); when the shared CPU is slow the wall-clock term
    takes over so the cosine decay still completes inside the budget."""
    return max(step / a.steps, elapsed / (a.minutes * 60))


def lr_at(step, p, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p0 = a.warmup / a.steps
    t = min(1.0, max(0.0, (p - p0) / (1 - p0)))
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def load_lr(path):
    """Per-step learning rates from an lr.tsv ("step<TAB>lr" lines, steps 0, 1, 2, ... in order)."""
    rates = []
    with open(path, encoding="ascii") as f:
        for line in f:
            s, v = line.split("\t")
            if int(s) != len(rates):
                raise ValueError(f"{path}: expected step {len(rates)}, got {s}")
            rates.append(float(v))
    return rates


@torch.no_grad()
def evaluate(model, windows, quant):
    """Token-weighted mean cross-entropy over validation windows (data.py windowing)."""
    model.eval()
    total, count = 0.0, 0
    for w in windows:
        ids = torch.tensor([w], dtype=torch.long)
        logits = model(ids[:, :-1], quant=quant)
        total += F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
        count += len(w) - 1
    model.train()
    return total / count


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "train.log"), "a", buffering=1)

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")

    tok = Tokenizer.load(os.path.join(a.data, "tokenizer.json"))
    with open(os.path.join(a.data, "train.txt"), encoding="utf-8") as f:
        ids, starts = verse_starts(tok, f.read())
    with open(os.path.join(a.data, "validation.txt"), encoding="utf-8") as f:
        val_ids = tok.encode(f.read())
    windows = val_windows(val_ids, a.ctx, tok.bos_id)
    famous = []
    if a.famous_frac > 0:
        with open(os.path.join(a.data, "famous_lines.json"), encoding="ascii") as f:
            famous = starts[json.load(f)]
    batches = TrainBatches(ids, starts, a.ctx, a.batch, tok.bos_id, a.seed, famous, a.famous_frac)
    cfg = Config(vocab=len(tok.tokens), dim=a.dim, n_layer=a.layers, n_head=a.heads, n_kv=a.kv_heads,
                 ffn=a.ffn, ctx=a.ctx, rope_theta=a.rope_theta)
    model = BitNet(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and n != "embed"]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and n != "embed")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": other, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    step, elapsed, data_offset = 0, 0.0, 0
    if a.init_from and not os.path.exists(ckpt_path):
        ck = torch.load(a.init_from)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        torch.set_rng_state(ck["torch_rng"])
        data_offset = ck["step"] + ck.get("data_offset", 0)
        say(f"phase start from {a.init_from} (step {ck['step']}), data offset {data_offset} "
            f"args {json.dumps(vars(a))}")
    elif os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, data_offset = ck["step"], ck["elapsed"], ck.get("data_offset", 0)
        torch.set_rng_state(ck["torch_rng"])
        say(f"resumed at step {step}, elapsed {elapsed:.0f}s")
    else:
        say(f"config {json.dumps(cfg.to_dict())} params {model.n_params()} train_tokens {len(ids)} "
            f"verse_starts {len(batches.starts)} val_tokens {len(val_ids)} args {json.dumps(vars(a))}")

    def save(done):
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "data_offset": data_offset, "config": cfg.to_dict(), "args": vars(a), "done": done,
                    "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, ckpt_path)

    t_start, t_ckpt, t_log, tok_log = time.time() - elapsed, time.time(), time.time(), 0
    model.train()
    lr_log = open(os.path.join(a.out, "lr.tsv"), "a", buffering=1)
    replay = load_lr(a.replay_lr) if a.replay_lr else None
    while True:
        p = progress(step, time.time() - t_start, a)
        if (step >= len(replay)) if replay is not None else p >= 1.0:
            break
        lr = replay[step] if replay is not None else lr_at(step, p, a)
        lr_log.write(f"{step}\t{lr!r}\n")
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches.get(data_offset + step)
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.view(-1, cfg.vocab), torch.from_numpy(y).view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tok_log += x.size
        elapsed = time.time() - t_start
        if step % 10 == 0 or step == 1:
            now = time.time()
            say(f"step {step} loss {loss.item():.4f} lr {lr:.2e} progress {p:.3f} epoch "
                f"{batches.epochs(data_offset + step):.2f} tok/s {tok_log / (now - t_log):.0f} elapsed {elapsed:.0f}s")
            t_log, tok_log = now, 0
        if step % a.eval_every == 0:
            say(f"eval step {step} val_loss(quant, first 8 windows) "
                f"{evaluate(model, windows[:8], True):.4f}")
        if time.time() - t_ckpt > a.ckpt_minutes * 60:
            save(False)
            t_ckpt = time.time()
    time_driven = step < a.steps and replay is None
    say(f"schedule finished at step {step} ({'wall-clock' if time_driven else 'step'}-driven)")
    save(True)
    shadow = evaluate(model, windows, False) if a.final_eval else None
    fq = evaluate(model, windows, True) if a.final_eval else None
    summary = {"config": cfg.to_dict(), "params": model.n_params(), "steps": step,
               "planned_steps": a.steps, "schedule_time_driven": time_driven,
               "train_tokens_seen": step * a.batch * a.ctx, "train_split_tokens": int(len(ids)),
               "epochs": batches.epochs(data_offset + step), "data_offset": data_offset,
               "wall_seconds": elapsed, "val_tokens": len(val_ids),
               "shadow_fp_val_loss": shadow, "fakequant_val_loss": fq, "args": vars(a)}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    say(f"done step {step} shadow_fp_val_loss {shadow} fakequant_val_loss {fq}")


if __name__ == "__main__":
    main()
