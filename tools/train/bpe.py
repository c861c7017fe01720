"""Byte-level BPE (GPT-2 alphabet, LLaMA-3 pre-tokenizer) — training and encoding.

Follows FORMATS.md §6.3-§6.5 exactly so that the SDK's TypeScript tokenizer produces identical ids:
- pre-tokenize with the LLaMA-3 regex (left to right, non-overlapping matches, no normalizer);
- map each UTF-8 byte of a pre-token to a code point with GPT-2 bytes_to_unicode;
- ignore_merges: a mapped pre-token that is itself a vocabulary entry is emitted directly;
- otherwise merge the adjacent pair of lowest rank (index in `merges`), ties leftmost, one at a time.

Vocabulary layout: ids 0..255 are the single bytes in byte order, then one entry per learned merge
(in the order learned, skipping a result string that already exists), then the special tokens
<|begin_of_text|>, <|end_of_text|>, <|eot_id|> (token_type 3 = control; all others type 1).

CLI: `python3 bpe.py TRAIN_TXT OUT_JSON [VOCAB_SIZE]` trains and saves the tokenizer as JSON.
"""
import heapq
import json
import sys
from collections import Counter

import regex

PRETOKENIZE = regex.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ("<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>")


def bytes_to_unicode():
    """GPT-2 byte → code point table (§6.4)."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def map_pretoken(piece):
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


def pretokenize(text):
    """Yields (start_char, mapped_pretoken) for each pre-token of `text`."""
    for m in PRETOKENIZE.finditer(text):
        yield m.start(), map_pretoken(m.group(0))


def train_bpe(text, vocab_size):
    """Learns merges until len(vocab) + len(SPECIALS) == vocab_size. Deterministic: the most
    frequent pair wins, ties → lexicographically smallest (left, right)."""
    counts = Counter(p for _, p in pretokenize(text))
    words = [list(w) for w in counts]
    freqs = [counts[w] for w in counts]
    vocab = [BYTE_TO_CHAR[b] for b in range(256)]
    known = set(vocab)
    pair_counts, where = Counter(), {}
    for i, w in enumerate(words):
        for pair in zip(w, w[1:]):
            pair_counts[pair] += freqs[i]
            where.setdefault(pair, set()).add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - len(SPECIALS)
    while len(vocab) < target and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc:
            continue  # stale heap entry
        if -negc < 2:
            break
        a, b = pair
        merged = a + b
        merges.append(pair)
        if merged not in known:
            known.add(merged)
            vocab.append(merged)
        touched = set()
        for i in sorted(where.pop(pair, ())):
            w, f = words[i], freqs[i]
            for p in zip(w, w[1:]):
                pair_counts[p] -= f
                touched.add(p)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_counts[p] += f
                touched.add(p)
                where.setdefault(p, set()).add(i)
        pair_counts.pop(pair, None)
        for p in touched:
            c = pair_counts.get(p, 0)
            if c <= 0:
                pair_counts.pop(p, None)
            elif p != pair:
                heapq.heappush(heap, (-c, p))
    tokens = vocab + list(SPECIALS)
    return Tokenizer(tokens, [1] * len(vocab) + [3] * len(SPECIALS), [f"{a} {b}" for a, b in merges])


class Tokenizer:
    def __init__(self, tokens, token_type, merges):
        self.tokens = list(tokens)
        self.token_type = list(token_type)
        self.merges = list(merges)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(self.merges)}
        self.bos_id = self.ids["<|begin_of_text|>"]
        self.eos_id = self.ids["<|end_of_text|>"]
        self.eot_id = self.ids["<|eot_id|>"]
        self._cache = {}

    def encode_pretoken(self, mapped):
        """§6.5 for one mapped pre-token (ignore_merges, then lowest rank, ties leftmost)."""
        hit = self._cache.get(mapped)
        if hit is not None:
            return hit
        if mapped in self.ids and self.token_type[self.ids[mapped]] == 1:
            out = [self.ids[mapped]]
        else:
            syms = list(mapped)
            while len(syms) > 1:
                best, best_i = None, -1
                for i in range(len(syms) - 1):
                    r = self.ranks.get((syms[i], syms[i + 1]))
                    if r is not None and (best is None or r < best):
                        best, best_i = r, i
                if best is None:
                    break
                syms[best_i:best_i + 2] = [syms[best_i] + syms[best_i + 1]]
            out = [self.ids[s] for s in syms]
        self._cache[mapped] = out
        return out

    def encode(self, text, add_bos=False):
        ids = [self.bos_id] if add_bos else []
        for _, p in pretokenize(text):
            ids.extend(self.encode_pretoken(p))
        return ids

    def encode_with_offsets(self, text):
        """Returns (ids, starts) where starts[k] = char offset of the pre-token that token k opens,
        or -1 for tokens that continue a pre-token."""
        ids, starts = [], []
        for s, p in pretokenize(text):
            enc = self.encode_pretoken(p)
            ids.extend(enc)
            starts.extend([s] + [-1] * (len(enc) - 1))
        return ids, starts

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            if self.token_type[i] == 1:
                data.extend(CHAR_TO_BYTE[c] for c in self.tokens[i])
        return data.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"tokens": self.tokens, "token_type": self.token_type, "merges": self.merges,
                       "bos_id": self.bos_id, "eos_id": self.eos_id, "eot_id": self.eot_id}, f,
                      ensure_ascii=False)

    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return Tokenizer(d["tokens"], d["token_type"], d["merges"])


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 3072
    with open(src, encoding="utf-8") as fh:
        tok = train_bpe(fh.read(), size)
    tok.save(dst)
    print(f"vocab {len(tok.tokens)}, merges {len(tok.merges)}")
