"""KJV corpus preparation for the embedded default model.

Source: the Debian package `bible-kjv` (`bible -f "Gen1:1-Rev22:21"` prints one verse per line,
"Ge1:1 In the beginning ...").

Decisions (documented in tools/train/README.md):
- Verse references ("Ge1:1 ") are STRIPPED; the text is one verse per line, lines joined by "\n",
  with a single trailing "\n". Nothing else is changed (the KJV text is pure ASCII).
- Validation split = whole books never seen in training (VAL_BOOKS, ~3% of the characters).
  Everything else is the training split. The quality-bar verses (QUALITY_VERSES) are asserted to be
  in the training split.

CLI: `python3 corpus.py OUTDIR` writes OUTDIR/train.txt, OUTDIR/validation.txt and
OUTDIR/famous_lines.json (train.txt line indices of FAMOUS_CHAPTERS, for train.py --famous-frac).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

# Book abbreviations as printed by `bible -f`.
VAL_BOOKS = ("Ruth", "Est", "Lam", "Joel", "Obad", "Jonah", "Nahum", "Hab", "Zep", "Hag",
             "Titus", "Phmn", "2Jn", "Jude")

# (reference, exact text) — must be in the training split; used as greedy-continuation prompts.
QUALITY_VERSES = (
    ("Ge1:1", "In the beginning God created the heaven and the earth."),
    ("Psa23:1", "The LORD is my shepherd; I shall not want."),
    ("John3:16", "For God so loved the world, that he gave his only begotten Son, that whosoever "
                 "believeth in him should not perish, but have everlasting life."),
)

# Well-known chapters: training windows that cover them are drawn more often (train.py
# --famous-frac), the way these passages are quoted far more often than the rest of the text.
FAMOUS_CHAPTERS = (("Ge", 1), ("Psa", 23), ("Mat", 6), ("Luke", 2), ("John", 1), ("John", 3),
                   ("1Cor", 13), ("Rev", 22))
# Windows also start at the FAMOUS_LEAD_IN verses before each chapter (circularly: Genesis 1 is
# preceded by the end of Revelation), so a chapter's first verses are covered as often as the rest.
FAMOUS_LEAD_IN = 7

_REF = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")


def load_verses():
    """Returns [(book, chapter, verse, text)] for the whole KJV in canonical order."""
    raw = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                         text=True, encoding="ascii").stdout
    verses = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        m = _REF.match(line)
        if not m:
            raise ValueError(f"unexpected line: {line!r}")
        verses.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4).strip()))
    if len(verses) != 31102:
        raise ValueError(f"expected 31102 verses, got {len(verses)}")
    return verses


def split(verses):
    """Returns (train_text, val_text): verse lines joined by '\\n' plus a trailing '\\n'."""
    train = [v for v in verses if v[0] not in VAL_BOOKS]
    val = [v for v in verses if v[0] in VAL_BOOKS]
    if {v[0] for v in val} != set(VAL_BOOKS):
        raise ValueError("a validation book abbreviation did not match")
    refs = {f"{b}{c}:{n}": t for b, c, n, t in train}
    for ref, text in QUALITY_VERSES:
        if refs.get(ref) != text:
            raise ValueError(f"quality verse {ref} missing from training split")
    return ("\n".join(v[3] for v in train) + "\n", "\n".join(v[3] for v in val) + "\n")


def famous_lines(verses):
    """Line indices (into train.txt) of the verses of FAMOUS_CHAPTERS plus FAMOUS_LEAD_IN lines
    before each chapter, sorted and unique."""
    train = train_verses(verses)
    want = set(FAMOUS_CHAPTERS)
    lines = {i for i, v in enumerate(train) if (v[0], v[1]) in want}
    found = {(train[i][0], train[i][1]) for i in lines}
    if found != want:
        raise ValueError(f"famous chapters not found: {sorted(want - found)}")
    firsts = [i for i in lines if train[i][2] == 1]
    lines |= {(i - k) % len(train) for i in firsts for k in range(1, FAMOUS_LEAD_IN + 1)}
    return sorted(lines)


def prompts():
    """Greedy-continuation prompts: the first words of each quality verse."""
    return ["In the beginning God created", "The LORD is my shepherd;", "For God so loved the world,"]


# Further greedy samples for the model card: other well-known verses (some inside, some outside the
# famous chapters) and openings from the held-out validation books, to show what the model does
# beyond the memorised passages.
SAMPLE_PROMPTS = ("In the beginning was the Word,", "Give us this day", "Blessed are the meek:",
                  "Vanity of vanities,", "And Ruth said,", "And the word of the LORD came unto Jonah")


def main(outdir):
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    verses = load_verses()
    train, val = split(verses)
    (out / "famous_lines.json").write_text(json.dumps(famous_lines(verses)), encoding="ascii")
    (out / "train.txt").write_text(train, encoding="ascii")
    (out / "validation.txt").write_text(val, encoding="ascii")
    n = len(train) + len(val)
    print(f"train {len(train)} chars, validation {len(val)} chars ({100 * len(val) / n:.2f}%)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "work")
