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
from qa.evaluation.judge import exact_match, token_f1  # noqa: E402
from qa.stats import mean_interval, wilson  # noqa: E402

EPOCHS = int(os.environ.get("EPOCHS", "3"))
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
    print(f"{len(train)} train sentences with a gold answer in them", flush=True)

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
    for split in ("dev", "test"):
        print(f"\n{split}")
        for domain in spans.DOMAINS:
            part = [s for s in samples if s.split == split and s.domain == domain]
            if not part:
                continue
            ems, f1s = [], []
            clock = time.perf_counter()
            with torch.no_grad():
                for b in range(0, len(part), BATCH):
                    batch = part[b : b + BATCH]
                    enc = encode(batch)
                    offsets = enc.pop("offset_mapping")
                    out = model(**enc)
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
                        shown = s.sentence[a:z]
                        ems.append(exact_match(shown, s.answers))
                        f1s.append(token_f1(shown, s.answers))
            per = (time.perf_counter() - clock) / len(part) * 1000
            low, high = wilson(sum(ems), len(ems))
            f_low, f_high = mean_interval(f1s)
            print(
                f"{domain:8} n {len(part):4}  EM {np.mean(ems):.3f} [{low:.3f}, {high:.3f}]  "
                f"F1 {np.mean(f1s):.3f} [{f_low:.3f}, {f_high:.3f}]  "
                f"{per:.1f} ms a sentence (batched {BATCH})",
                flush=True,
            )


if __name__ == "__main__":
    main()
