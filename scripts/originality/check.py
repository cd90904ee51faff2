"""Flags notebook sentences that are near-copies of a seed sentence.

Usage: python3 check.py SEEDS_DIR NOTEBOOK... ; prints one JSON object per flagged sentence and exits 1 if any.
A sentence (8+ words) is flagged when difflib's SequenceMatcher ratio with any seed sentence exceeds 0.85
(compared lower-cased, whitespace collapsed). Markdown and code comments are both checked.
"""
import difflib
import json
import pathlib
import re
import sys

THRESHOLD = 0.85
MIN_WORDS = 8


def sentences(text):
    text = re.sub(r"<[^>]+>|[*_`>#|]", " ", text)
    for part in re.split(r"(?<=[.!?:;])\s+|\n\s*\n|\n\s*[-*]\s+|\n\d+\.\s+", text):
        s = " ".join(part.lower().split())
        if len(s.split()) >= MIN_WORDS:
            yield s


def notebook_text(path):
    cells = json.loads(pathlib.Path(path).read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            source = "\n".join(m.group(1) for m in re.finditer(r"//(.*)$", source, re.M))
        yield source


def main():
    seeds_dir, notebooks = pathlib.Path(sys.argv[1]), sys.argv[2:]
    seed_sentences = []
    for seed in sorted(seeds_dir.glob("*.txt")):
        seed_sentences += [(seed.name, s) for s in sentences(seed.read_text(errors="replace"))]
    ours = [(nb, s) for nb in notebooks for text in notebook_text(nb) for s in sentences(text)]
    flagged = set()
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for seed_name, t in seed_sentences:
        matcher.set_seq2(t)  # the side difflib indexes: once per seed sentence
        for i, (nb, s) in enumerate(ours):
            if i in flagged or 2 * min(len(s), len(t)) / (len(s) + len(t)) <= THRESHOLD:
                continue
            matcher.set_seq1(s)
            if matcher.quick_ratio() > THRESHOLD and matcher.ratio() > THRESHOLD:
                flagged.add(i)
                print(json.dumps({"notebook": nb, "seed": seed_name, "ratio": round(matcher.ratio(), 3),
                                  "sentence": s, "seed_sentence": t}))
    sys.exit(1 if flagged else 0)


if __name__ == "__main__":
    main()
