"""Learn the span model (src/qa/models/span_model.json): the short answer inside the
answer sentence.

    python train/train_span_model.py          # what `make train` runs after the answer model

Four domains, each in the parts train/check_splits.py checks (no test question has a
content-word Jaccard of 0.6 or more with a train or dev one): SQuAD (data/squad), news
(tests/gold), typed questions (data/typed, over the SQuAD articles) and manuals
(data/manuals). Every answerable question is asked as `qa ask` asks it (hybrid retrieval,
the shipped answer model choosing the sentence); where the chosen sentence holds a gold
answer, its candidate spans (answer/spans.py) are a sample. On train questions whose
chosen sentence misses, the best-scored sentence that holds a gold answer is used too.

- The scorer is a conditional logit over each sentence's candidate spans, fitted on the
  train parts, trained to put the mass on the spans equal to a gold answer
  (SQuAD-normalised); where none is equal, on those of the best token F1 if that reaches
  SOFT_F1. Each domain weighs alike.
- The threshold (the softmax mass the best span needs to be shown) is chosen on the dev
  parts: the one with the best mean F1 over the domains, counting a sentence shown with
  no span as that sentence's F1 against the gold answers, which is what a reader sees.
- The test parts are only reported: exact match and F1 with 95% intervals, the share of
  sentences given a span, and examples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# The domains and the corpus each one's questions are asked of: the answer model's.
from train_answer_model import CORPUS, DOMAINS  # noqa: E402

from qa import QA, Settings  # noqa: E402
from qa.answer.compose import AnswerStep, _prefer_newer  # noqa: E402
from qa.answer.model import Linear  # noqa: E402
from qa.answer.spans import (  # noqa: E402
    SPAN_FEATURES,
    SpanCandidates,
    SpanModel,
    span_candidates,
)
from qa.evaluation.judge import (  # noqa: E402
    contains_answer,
    exact_match,
    token_f1,
)
from qa.search.retrieve import search  # noqa: E402
from qa.stats import mean_interval, wilson  # noqa: E402

FILES = {
    "squad": "data/squad/{}.jsonl",
    "news": "tests/gold/{}.jsonl",
    "manuals": "data/manuals/{}.jsonl",
    "typed": "data/typed/{}.jsonl",
}
SPLITS = ("train", "dev", "test")
# Candidates of a gold F1 at least this, where none is equal to a gold answer, are the
# positives ("the Latin language" for "Latin").
SOFT_F1 = 0.5
L2 = 1.0
DEPTH = 10
EXAMPLES = 20


@dataclass
class Sample:
    domain: str
    split: str
    id: str
    question: str
    sentence: str
    answers: list[str]
    chosen: bool  # the answer model chose this sentence (else: the best positive one)
    # No span is offered for this question: it asks for several things, or why.
    no_span: bool
    # What span_candidates reads: the analysed question, the model's reading of the
    # sentence after the one before it (the sentence starts at `start`), the question's
    # words. Kept raw, so that a change to the span features needs no new extraction.
    analysed: Any
    reading: Any
    start: int
    question_words: Any
    spans: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, len(SPAN_FEATURES))))

    def featurize(self) -> None:
        made = span_candidates(
            self.analysed, self.sentence, self.reading, self.start, self.question_words
        )
        self.spans, self.matrix = made.spans, made.matrix

    def texts(self) -> list[str]:
        return [self.sentence[a:b] for a, b in self.spans]


def log(message: str) -> None:
    print(message, flush=True)


def read_questions(domain: str, split: str) -> list[dict]:
    path = ROOT / FILES[domain].format(split)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [q for q in lines if q.get("answers") and q.get("kind", "answerable") == "answerable"]


def extract(domain: str, say=log) -> list[Sample]:
    folder = CORPUS[domain]
    name = folder.relative_to(ROOT).as_posix().replace("/", "-")
    settings = Settings(corpus_dir=folder, index_dir=ROOT / "index" / f"train-{name}")
    qa = QA.open(settings, progress=False, log=say)
    index = qa.index
    step = AnswerStep.of(index.documents, qa.embedder.read, qa.answer_model, settings)
    samples: list[Sample] = []
    for split in SPLITS:
        questions = read_questions(domain, split)
        started = time.perf_counter()
        for item in questions:
            text = " ".join(item["question"].split())
            question = qa.analyze(text)
            hits = search(index, question, settings, DEPTH, "hybrid")
            scored = step.score(question, hits)
            if not scored.found:
                continue
            best = _prefer_newer(scored, hits, index.documents, step.model.close)
            answers = item["answers"]
            chosen = True
            if not contains_answer(scored.found[best].text, answers):
                if split != "train":
                    continue
                right = [i for i, c in enumerate(scored.found) if contains_answer(c.text, answers)]
                if not right:
                    continue
                best, chosen = max(right, key=lambda i: scored.logits[i]), False
            candidate = scored.found[best]
            samples.append(
                Sample(
                    domain,
                    split,
                    item["id"],
                    text,
                    candidate.text,
                    answers,
                    chosen,
                    question.asks_several or question.kind == "reason",
                    question,
                    scored.pool.readings[best],
                    len(candidate.read_with) - len(candidate.text),
                    scored.pool.question_words,
                )
            )
        say(
            f"{domain}/{split}: {len(questions)} answerable questions -> "
            f"{sum(s.split == split for s in samples)} samples in "
            f"{time.perf_counter() - started:.0f} s"
        )
    return samples


def cached_samples(folder: Path) -> list[Sample]:
    """Samples, reused while the questions, corpora and the package's code are the same
    (a local pickle of our own making, never shipped)."""
    digest = hashlib.sha256()
    inputs = [p for corpus in dict.fromkeys(CORPUS.values()) for p in sorted(corpus.rglob("*"))]
    inputs += [ROOT / FILES[d].format(s) for d in DOMAINS for s in SPLITS]
    # The package's files that make a sample, not those that only show or judge one.
    package = ROOT / "src/qa"
    shown = ("ui", "cli.py", "engine.py", "answer/compose.py", "answer/spans.py", "evaluation")
    inputs += [
        p
        for p in sorted(package.rglob("*.py"))
        if not p.relative_to(package).as_posix().startswith(shown)
    ]
    inputs += [package / "evaluation/judge.py", package / "models/answer_model.json"]
    for path in inputs:
        if path.is_file():
            digest.update(path.read_bytes())
    path = folder / f"span-inputs-{digest.hexdigest()[:16]}.pkl"
    if path.exists():
        log(f"samples from {path.relative_to(ROOT)}")
        with open(path, "rb") as f:
            return pickle.load(f)
    started = time.perf_counter()
    samples = [s for domain in DOMAINS for s in extract(domain)]
    log(f"{len(samples)} samples extracted in {time.perf_counter() - started:.0f} s")
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(samples, f)
    return samples


def positives(sample: Sample) -> np.ndarray:
    texts = sample.texts()
    exact = np.array([exact_match(t, sample.answers) for t in texts], dtype=bool)
    if exact.any():
        return exact
    f1 = np.array([token_f1(t, sample.answers) for t in texts])
    if len(f1) and f1.max() >= SOFT_F1:
        return f1 >= f1.max() - 1e-9
    return np.zeros(len(texts), dtype=bool)


def fit(samples: list[Sample]) -> Linear:
    from scipy.optimize import minimize

    groups = []
    for s in samples:
        y = positives(s)
        if y.any() and not s.no_span:
            groups.append((s, y))
    per_domain = {d: sum(1 for s, _ in groups if s.domain == d) for d in DOMAINS}
    weight = np.array([len(groups) / (len(per_domain) * per_domain[s.domain]) for s, _ in groups])
    x = np.concatenate([s.matrix for s, _ in groups])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    zs = [((s.matrix - mean) / scale, y) for s, y in groups]

    def loss(coef: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * L2 * coef @ coef, L2 * coef
        for (z, y), w in zip(zs, weight, strict=True):
            logits = z @ coef
            e = np.exp(logits - logits.max())
            mass = e[y].sum()
            total -= w * math.log(mass / e.sum())
            q = np.zeros_like(e)
            q[y] = e[y] / mass
            grad = grad + w * (e / e.sum() - q) @ z
        return total / len(zs), grad / len(zs)

    result = minimize(loss, np.zeros(len(SPAN_FEATURES)), jac=True, method="L-BFGS-B")
    log(
        f"fitted on {len(zs)} sentences ({', '.join(f'{d} {n}' for d, n in per_domain.items())}); "
        f"loss {result.fun:.3f}"
    )
    return Linear(SPAN_FEATURES, tuple(range(len(SPAN_FEATURES))), mean, scale, result.x, 0.0)


@dataclass
class Outcome:
    shown: str | None  # the span shown, or None (the sentence stays the answer)
    em: bool
    f1: float


def outcome(sample: Sample, model: SpanModel) -> Outcome:
    """What a reader is given: the span, or where none is shown the sentence."""
    shown = None
    picked = None if sample.no_span else model.pick(SpanCandidates(sample.spans, sample.matrix))
    if picked is not None:
        a, b = sample.spans[picked[0]]
        shown = sample.sentence[a:b]
    given = shown if shown is not None else sample.sentence
    return Outcome(shown, exact_match(given, sample.answers), token_f1(given, sample.answers))


def measure(samples: list[Sample], model: SpanModel) -> dict[str, float]:
    results = [outcome(s, model) for s in samples]
    n = len(results)
    if not n:
        return {"n": 0}
    em = sum(r.em for r in results)
    shown = sum(r.shown is not None for r in results)
    f1 = [r.f1 for r in results]
    return {
        "n": n,
        "exact_match": em / n,
        "exact_match_95": wilson(em, n),
        "f1": float(np.mean(f1)),
        "f1_95": mean_interval(f1),
        "shown": shown / n,
        "shown_95": wilson(shown, n),
    }


def choose_threshold(dev: list[Sample], scorer: Linear) -> float:
    """The threshold of the best mean F1 over the domains' dev parts."""
    best, best_f1 = 0.0, -1.0
    for threshold in np.round(np.arange(0.0, 0.96, 0.025), 3):
        model = SpanModel(scorer, float(threshold))
        f1s = [measure([s for s in dev if s.domain == d], model).get("f1") for d in DOMAINS]
        f1s = [f for f in f1s if f is not None]
        mean = float(np.mean(f1s)) if f1s else 0.0
        if mean > best_f1 + 1e-9:
            best, best_f1 = float(threshold), mean
    return best


def table(title: str, samples: list[Sample], model: SpanModel) -> dict[str, dict]:
    log(f"\n{title}")
    log(f"{'domain':8} {'n':>5}  {'exact match [95%]':22} {'F1 [95%]':22} {'span shown [95%]':22}")
    out = {}
    for domain in DOMAINS:
        m = measure([s for s in samples if s.domain == domain], model)
        out[domain] = m
        if not m["n"]:
            continue

        def cell(name: str, m: dict = m) -> str:
            low, high = m[f"{name}_95"]
            return f"{m[name]:.3f} [{low:.3f}, {high:.3f}]"

        log(f"{domain:8} {m['n']:5}  {cell('exact_match'):22} {cell('f1'):22} {cell('shown'):22}")
    return out


def ranking(samples: list[Sample], scorer: Linear, name: str) -> None:
    """How well the scorer ranks, before any threshold: the best span's EM and F1 when
    one is always shown, and the best any candidate could do (the candidates' ceiling)."""
    always = SpanModel(scorer, 0.0)
    for domain in DOMAINS:
        part = [s for s in samples if s.domain == domain and not s.no_span and len(s.spans)]
        if not part:
            continue
        shown = [outcome(s, always) for s in part]
        ceiling = [max(token_f1(t, s.answers) for t in s.texts()) for s in part]
        log(
            f"{name} {domain:8} n {len(part):4}: always shown EM "
            f"{np.mean([r.em for r in shown]):.3f} F1 {np.mean([r.f1 for r in shown]):.3f}; "
            f"ceiling F1 {np.mean(ceiling):.3f}"
        )


def examples(samples: list[Sample], model: SpanModel, n: int) -> list[str]:
    rng = random.Random(7)
    picked = rng.sample(samples, min(n, len(samples)))
    lines = []
    for s in picked:
        r = outcome(s, model)
        mark = "right" if r.em else ("close" if r.f1 >= 0.5 else "wrong")
        shown = f"**{r.shown}**" if r.shown is not None else "(no span: the sentence)"
        lines.append(
            f"[{s.domain}] {mark:5} F1 {r.f1:.2f}  Q: {s.question}\n"
            f"    shown: {shown}   gold: {' | '.join(s.answers[:3])}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "src/qa/models/span_model.json")
    parser.add_argument("--cache", type=Path, default=ROOT / "train/cache")
    args = parser.parse_args()
    started = time.perf_counter()
    samples = cached_samples(args.cache)
    for sample in samples:
        sample.featurize()
    train = [s for s in samples if s.split == "train"]
    dev = [s for s in samples if s.split == "dev"]
    test = [s for s in samples if s.split == "test"]
    scorer = fit(train)
    threshold = choose_threshold(dev, scorer)
    model = SpanModel(scorer, threshold)
    log(f"threshold {threshold:.3f} (best mean F1 over the domains' dev parts)")
    ranking(dev, scorer, "dev")
    table("train (the answer model's own sentences only)", [s for s in train if s.chosen], model)
    table("dev (threshold chosen here)", dev, model)
    reported = table("test (reported only)", test, model)
    log(f"\n{EXAMPLES} test examples, drawn at random:")
    for line in examples(test, model, EXAMPLES):
        log(line)
    unmatched = sum(1 for s in train if not positives(s).any())
    log(f"\ntrain sentences with no candidate span near a gold answer: {unmatched} of {len(train)}")
    model = SpanModel(
        scorer,
        threshold,
        {
            "trained_on": [FILES[d].format("train") for d in DOMAINS],
            "threshold_on": [FILES[d].format("dev") for d in DOMAINS],
            "samples": {
                f"{d}/{s}": sum(1 for t in samples if (t.domain, t.split) == (d, s))
                for d in DOMAINS
                for s in SPLITS
            },
            "soft_f1": SOFT_F1,
            "l2": L2,
            "test": {
                d: {k: v for k, v in m.items() if not k.endswith("_95")}
                for d, m in reported.items()
            },
        },
    )
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s")
    ordered = sorted(zip(SPAN_FEATURES, scorer.coef, strict=True), key=lambda t: -abs(t[1]))
    log("largest standardised coefficients:")
    log("  " + ", ".join(f"{f} {c:+.2f}" for f, c in ordered))


if __name__ == "__main__":
    main()
