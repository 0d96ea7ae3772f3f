"""An experiment, not part of qa: would a reader model reach issue 27's targets?

    python train/reader_experiment.py         # about 10-20 minutes on 2 cores

all-MiniLM-L6-v2 (the embedding model qa ships) fine-tuned with a span head
(transformers' AutoModelForQuestionAnswering, the head newly made) on the question and
the answer sentence, from the same train sentences `train_span_model.py` learns from
(its cached samples: run that first), and scored on the same dev and test sentences by
the same SQuAD exact match and F1. Nothing is saved: the figures go to stdout
(docs/SPANS.md reports them).
"""

from __future__ import annotations

import glob
import os
import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "train")]

import train_span_model as spans  # noqa: E402

from qa import Settings  # noqa: E402
from qa.answer.spans import load_span_model  # noqa: E402
from qa.evaluation.judge import exact_match, token_f1  # noqa: E402
from qa.stats import mean_interval, wilson  # noqa: E402

EPOCHS = int(os.environ.get("EPOCHS", "3"))
# Each news train sentence seen this many times an epoch (news is the smallest domain
# with the least SQuAD-like answers).
NEWS_REPEAT = int(os.environ.get("NEWS_REPEAT", "1"))
# The share of each domain's train sentences learned from: the learning curve.
FRACTION = float(os.environ.get("FRACTION", "1"))
BATCH = 16
LEARNING_RATE = 5e-5
MAX_LENGTH = 160
MAX_ANSWER_TOKENS = 20


def load() -> list:
    import __main__

    __main__.Sample = spans.Sample  # the pickle names the class by the script that made it
    path = sorted(glob.glob(str(ROOT / "train/cache/span-inputs-*.pkl")), key=os.path.getmtime)
    with open(path[-1], "rb") as f:
        return pickle.load(f)


def gold_span(sample) -> tuple[int, int] | None:
    """Where in the sentence the first gold answer found in it stands (characters)."""
    lowered = sample.sentence.lower()
    for answer in sample.answers:
        at = lowered.find(answer.lower())
        if at >= 0:
            return at, at + len(answer)
    return None


def main() -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.manual_seed(0)
    random.seed(0)
    path = Settings().model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForQuestionAnswering.from_pretrained(str(path))
    samples = [s for s in load() if not s.no_span]
    train = [(s, g) for s in samples if s.split == "train" and (g := gold_span(s))]
    if FRACTION < 1:
        rng = random.Random(1)
        kept = []
        for domain in spans.DOMAINS:
            mine = [t for t in train if t[0].domain == domain]
            kept += rng.sample(mine, round(len(mine) * FRACTION))
        train = kept
    print(f"{len(train)} train sentences with a gold answer in them", flush=True)
    train += [t for t in train if t[0].domain == "news"] * (NEWS_REPEAT - 1)

    def encode(batch):
        return tokenizer(
            [s.question for s in batch],
            [s.sentence for s in batch],
            truncation="only_second",
            max_length=MAX_LENGTH,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )

    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    steps = EPOCHS * ((len(train) + BATCH - 1) // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda k: max(0.0, 1 - k / steps))
    started = time.perf_counter()
    for epoch in range(EPOCHS):
        random.shuffle(train)
        model.train()
        losses = []
        for b in range(0, len(train), BATCH):
            batch = train[b : b + BATCH]
            enc = encode([s for s, _ in batch])
            offsets = enc.pop("offset_mapping")
            starts, ends = [], []
            for row, (_, (a, z)) in enumerate(batch):
                sequence = enc.sequence_ids(row)
                # The first sentence token that ends after the answer starts, the last
                # that starts before it ends.
                tokens = [
                    (k, o)
                    for k, (o, seq) in enumerate(zip(offsets[row].tolist(), sequence, strict=True))
                    if seq == 1
                ]
                start = next((k for k, o in tokens if o[1] > a), tokens[0][0])
                end = max((k for k, o in tokens if o[0] < z), default=start)
                starts.append(start)
                ends.append(max(end, start))
            out = model(
                **enc, start_positions=torch.tensor(starts), end_positions=torch.tensor(ends)
            )
            out.loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(float(out.loss))
        print(
            f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, {time.perf_counter() - started:.0f} s",
            flush=True,
        )

        model.eval()
        scores = read_all(model, encode, [s for s in samples if s.split == "dev"])
        print(
            "  dev "
            + "  ".join(
                f"{d} F1 {domain_mean(scores, d, lambda r: r.free):.3f}" for d in spans.DOMAINS
            ),
            flush=True,
        )
        model.train()

    model.eval()
    scorer = load_span_model()
    read = {
        split: read_all(model, encode, [s for s in samples if s.split == split])
        for split in ("dev", "test")
    }
    for r in read["dev"] + read["test"]:
        if len(r.sample.spans):
            r.scorer = log_softmax(scorer.scorer.logits(r.sample.matrix))

    def pick(r, weight):
        """The text shown by the reader's own best span (weight None) or by the mix of
        the reader's and the scorer's log-probabilities over the scorer's candidates."""
        if weight is None or r.scorer is None:
            return r.free
        mixed = weight * r.reader + (1 - weight) * r.scorer
        a, z = r.sample.spans[int(np.argmax(mixed))]
        return r.sample.sentence[a:z]

    def domain_f1(rows, weight):
        return np.mean([domain_mean(rows, d, lambda r: pick(r, weight)) for d in spans.DOMAINS])

    weights = [round(w, 2) for w in np.arange(0, 1.01, 0.1)]
    for w in weights:
        print(f"dev weight {w:.1f}: mean F1 over domains {domain_f1(read['dev'], w):.3f}")
    best = max(weights, key=lambda w: domain_f1(read["dev"], w))
    print(f"weight chosen on dev: {best}")
    for label, weight in (("reader alone", None), ("scorer alone", 0.0), (f"mix {best}", best)):
        for split in ("dev", "test"):
            print(f"\n{label}, {split}")
            for domain in spans.DOMAINS:
                part = [r for r in read[split] if r.sample.domain == domain]
                if not part:
                    continue
                ems = [exact_match(pick(r, weight), r.sample.answers) for r in part]
                f1s = [token_f1(pick(r, weight), r.sample.answers) for r in part]
                low, high = wilson(sum(ems), len(ems))
                f_low, f_high = mean_interval(f1s)
                print(
                    f"{domain:8} n {len(part):4}  EM {np.mean(ems):.3f} [{low:.3f}, {high:.3f}]  "
                    f"F1 {np.mean(f1s):.3f} [{f_low:.3f}, {f_high:.3f}]",
                    flush=True,
                )
    per = np.mean([r.ms for r in read["test"]])
    print(f"\nreader: {per:.1f} ms a sentence (batched {BATCH})")


def domain_mean(rows, domain, shown) -> float:
    """Mean F1 of the text `shown(row)` over one domain's rows."""
    return float(
        np.mean([token_f1(shown(r), r.sample.answers) for r in rows if r.sample.domain == domain])
    )


def log_softmax(x):
    x = np.asarray(x, float)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


class Read:
    def __init__(self, sample, free, reader, ms):
        self.sample, self.free, self.reader, self.ms = sample, free, reader, ms
        self.scorer = None


def read_all(model, encode, part):
    """The reader's best span of each sentence, and its log-probability of each of the
    scorer's candidates (start token's logit plus end token's)."""
    import torch

    out_rows = []
    for s in part:
        if not len(s.spans):
            s.featurize()
    for b in range(0, len(part), BATCH):
        batch = part[b : b + BATCH]
        clock = time.perf_counter()
        enc = encode(batch)
        offsets = enc.pop("offset_mapping")
        with torch.no_grad():
            out = model(**enc)
        ms = (time.perf_counter() - clock) / len(batch) * 1000
        for row, s in enumerate(batch):
            sequence = enc.sequence_ids(row)
            inside = [k for k, q in enumerate(sequence) if q == 1]
            st = out.start_logits[row].numpy()
            en = out.end_logits[row].numpy()
            best, pick = -1e9, (inside[0], inside[0])
            for i in inside:
                for j in inside:
                    if i <= j < i + MAX_ANSWER_TOKENS and st[i] + en[j] > best:
                        best, pick = st[i] + en[j], (i, j)
            a = int(offsets[row][pick[0]][0])
            z = int(offsets[row][pick[1]][1])
            spans_ = [tuple(offsets[row][k].tolist()) for k in inside]
            reader = []
            for ca, cz in s.spans:
                i = next((inside[n] for n, o in enumerate(spans_) if o[1] > ca), inside[0])
                j = max((inside[n] for n, o in enumerate(spans_) if o[0] < cz), default=i)
                reader.append(st[i] + en[max(i, j)])
            reader = log_softmax(reader) if reader else np.zeros(0)
            out_rows.append(Read(s, s.sentence[a:z], reader, ms))
    return out_rows


if __name__ == "__main__":
    main()
