"""Token streams and windowing shared by training, in-training validation and evaluate.py.

Training windows: pick a verse start t0 (token index where a verse line begins); input =
[BOS] + ids[t0 : t0+ctx-1], target = ids[t0 : t0+ctx]. The stream is circular (the end of
Revelation continues into Genesis 1), so every verse, including the first ones, is covered by about
ctx / verse-length windows per epoch, not only by the window that starts at it. Order: a
deterministic permutation of all verse starts per epoch (numpy RandomState(seed + epoch)).
Famous-passage mix (famous_frac > 0): each window slot independently, with probability
famous_frac, starts instead at a uniformly drawn verse of the famous chapters (corpus.py); the draw
depends only on the slot index (RandomState(seed * 7919 + step)), so the stream stays deterministic
and resumable. The regular permutation index advances either way.

Validation windowing (documented in models/bitnet-kjv.eval.json): ids = encode(validation text),
no BOS; cut into consecutive non-overlapping chunks of ctx-1 tokens (the last one may be shorter);
each window = [BOS] + chunk (≤ ctx tokens); the loss is the natural-log cross-entropy of predicting
every chunk token from its prefix within the window (window[j+1] from window[:j+1]); the mean loss
is the sum over all predicted tokens divided by their number (= len(ids)).
"""
import numpy as np

WINDOWING = ("ids = tokenizer.encode(contents of models/kjv-validation.txt, exactly, incl. final newline), "
             "no BOS; split into consecutive non-overlapping chunks of (ctx-1) tokens, last chunk "
             "shorter; each window = [BOS] + chunk (<= ctx tokens), evaluated independently from an "
             "empty KV cache at positions 0..len-1; loss = -ln softmax(logits at position j)[window[j+1]] "
             "for j = 0..len-2 (every chunk token predicted once); mean = sum of losses / len(ids); "
             "ppl = exp(mean)")


def verse_starts(tokenizer, text):
    """Token ids of `text` plus the token indices at which a line (verse) begins."""
    ids, starts = tokenizer.encode_with_offsets(text)
    line_starts = {0} | {i + 1 for i, ch in enumerate(text) if ch == "\n"}
    vs = [k for k, s in enumerate(starts) if s in line_starts]
    return np.asarray(ids, dtype=np.int64), np.asarray(vs, dtype=np.int64)


class TrainBatches:
    def __init__(self, ids, starts, ctx, batch, bos, seed, famous=(), famous_frac=0.0):
        self.ctx, self.batch, self.bos, self.seed = ctx, batch, bos, seed
        self.famous, self.famous_frac = np.asarray(famous, dtype=np.int64), famous_frac
        if famous_frac > 0 and len(self.famous) == 0:
            raise ValueError("famous_frac > 0 needs famous verse starts")
        self.ids = np.concatenate([ids, ids[:ctx]])  # circular stream
        self.starts = starts
        self._perm_epoch, self._perm = -1, None

    def _perm_for(self, epoch):
        if epoch != self._perm_epoch:
            self._perm = np.random.RandomState(self.seed + epoch).permutation(len(self.starts))
            self._perm_epoch = epoch
        return self._perm

    def get(self, step):
        """Deterministic batch for a given step index: (inputs, targets) int64 [batch, ctx]."""
        n = len(self.starts)
        x = np.empty((self.batch, self.ctx), np.int64)
        y = np.empty((self.batch, self.ctx), np.int64)
        mix = np.random.RandomState((self.seed * 7919 + step) % 2**32) if self.famous_frac > 0 else None
        for j in range(self.batch):
            k = step * self.batch + j
            t0 = self.starts[self._perm_for(k // n)[k % n]]
            if mix is not None and mix.random_sample() < self.famous_frac:
                t0 = self.famous[mix.randint(len(self.famous))]
            seg = self.ids[t0:t0 + self.ctx]
            x[j, 0] = self.bos
            x[j, 1:] = seg[:-1]
            y[j] = seg
        return x, y

    def epochs(self, step):
        return step * self.batch / len(self.starts)


def val_windows(ids, ctx, bos):
    """List of windows ([BOS] + chunk) per the validation windowing above."""
    ids = list(ids)
    return [[bos] + ids[i:i + ctx - 1] for i in range(0, len(ids), ctx - 1)]
