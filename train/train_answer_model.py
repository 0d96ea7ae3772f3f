"""Learn the answer model (src/qa/models/answer_model.json) from gold questions.

    python train/train_answer_model.py            # what `make train` runs

Two domains, each in three parts (checked by train/check_splits.py: no test question has
a content-word Jaccard of 0.6 or more with a train or dev one):
- SQuAD over data/squad/articles/: train.jsonl (5 answerable articles, 6 off-corpus
  ones) is learned from; dev.jsonl (Scottish Parliament, Southern California) chooses
  the thresholds; test.jsonl is only reported on, by `qa eval`.
- News over corpus/: tests/gold/train.jsonl is learned from, tests/gold/dev.jsonl
  chooses the thresholds, tests/gold/test.jsonl is only reported on.

Every question is retrieved exactly as `qa ask` retrieves it, and its candidates are
scored by the same feature code (qa.features). Each answerable training question also
yields two realistic unanswerable ones: the same question with its own article left out
of the results, and the question with its rarest term swapped for a name from another
article. And a question of one domain asked of the other's corpus is a certain off-corpus
question, of the kind users ask by mistake ("cross" below): SQuAD's questions against the
news articles, the news questions against the Wikipedia articles. Train questions give
training rows, dev questions dev rows; test questions never appear.

1. Sentence model: a conditional logit over the candidates of answerable questions,
   label = the candidate holds a gold answer.
2. Answerability model: gradient-boosted trees over one row per question, label =
   answerable; the two domains weigh alike.
3. Thresholds, on the dev rows of both domains: the hedge threshold is the highest
   probability that keeps false abstention at or under FALSE_ABSTENTION on each domain;
   the answer threshold, above it, is the highest that keeps at least CONFIDENT of the
   right answers confident on each domain. Between the two, qa shows the closest
   sentence and says the documents may not say this.

Needs the `train` extra (scikit-learn, scipy). Features are cached in train/cache/
(keyed by the question files, corpora and every file of src/qa), so refits are fast.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa import QA, Settings  # noqa: E402
from qa.answer.features import (  # noqa: E402
    CANDIDATE_FEATURES,
    read_pool,
)
from qa.answer.model import AnswerModel, Linear, Trees, columns_of, sigmoid  # noqa: E402
from qa.answer.question_features import QUESTION_FEATURES, question_row  # noqa: E402
from qa.evaluation.judge import contains_answer  # noqa: E402
from qa.search.question import Question  # noqa: E402
from qa.search.retrieve import search  # noqa: E402
from qa.text import tokenize  # noqa: E402

# False abstention allowed on each domain's dev questions (the hedge threshold).
FALSE_ABSTENTION = 0.03
# Share of right answers on each domain's dev questions that stay confident answers
# rather than hedges (the answer threshold).
CONFIDENT = 0.90
# Questions of each other domain asked as certain off-corpus questions, at most this many
# per split and domain (SQuAD has thousands; a sample is as telling and extracts in
# minutes).
CROSS = {"train": 900, "dev": 300}
# Candidates from passages this deep (settings.answer_passages) and hits kept per
# question for the question row.
DEPTH = 10
# A question left without its own article is searched this deep before the article's
# passages are dropped.
LEFT_OUT_DEPTH = 60
# Each domain's rows weigh this much in total, relative to SQuAD's: the other domains
# have few questions, and the held-out judgement counts every domain alike.
DOMAIN_SHARE = 1.0
FOLDS = 5
# The sentence model reads these of the candidate features, with this L2 penalty (on
# standardised features). Chosen on out-of-fold accuracy over both domains: the full set
# scored the same on news and 0.01 lower on SQuAD than these; the list signals (commas,
# names, headings) are kept for the lead-in cases the news articles are full of.
SENTENCE_FEATURES = (
    "coverage",
    "coverage_context",
    "coverage_gap",
    "coverage_context_gap",
    "coverage_passage",
    "cosine",
    "cosine_context",
    "cosine_gap",
    "cosine_passage",
    "bigrams",
    "bigrams_context",
    "passage_rank",
    "asks_number_has_number",
    "asks_time_has_time",
    "asks_person_has_name",
    "asks_place_has_name",
    "asks_identifier_has_identifier",
    "asks_several_joins_names",
    "lead_in",
    "pair",
    # A sentence followed by the list it announces: the list (its pair) is the answer.
    "introduces",
    "commas_log",
    "new_names_log",
    "heading",
    # Word-level evidence: on the dev questions, choosing with it picked the right sentence
    # for 0.932 of news questions against 0.898 without, and 0.889 of SQuAD's against 0.884.
    "align_sentence_min",
    "align_sentence_mean",
    "align_sentence_share",
    "align_context_min",
    "align_context_mean",
    "align_context_share",
)
L2 = 100.0
# The answerability trees: small and many, so the probability is smooth.
TREES = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 20}
# The answerability model learns from every kind but the swapped-name questions, which are
# only reported: learning from them cost 0.04 of out-of-fold off-corpus abstention on SQuAD
# (0.80 against 0.84 at the same false abstention) and bought no near-miss abstention
# (0.066 against 0.070), because a swapped name is usually one the corpus never uses and
# that signal (unknown_names) is already learned from the off-corpus questions.
ANSWERABILITY_SKIPS = ("swapped",)

# Modules a sample does not depend on: the answer step that applies the learned model, and
# the outer ring (CLI, UI, Ray).
NOT_IN_SAMPLES = frozenset(
    (
        "answer/compose.py answer/model.py answer/verdicts.py cli.py search/followup.py "
        "index/distributed.py index/ray_cluster.py index/shards.py"
    ).split()
)
# The domains: the corpus each one's questions are asked of, and its question files. The
# typed questions are asked of the SQuAD articles (in the search-box style of people, not
# SQuAD's crowd workers'), about the same train and dev articles as SQuAD's own.
CORPUS = {
    "squad": ROOT / "data/squad/articles",
    "news": ROOT / "corpus",
    "manuals": ROOT / "data/manuals/manuals",
    "typed": ROOT / "data/squad/articles",
}
DOMAINS = tuple(CORPUS)
QUESTIONS = {
    ("squad", "train"): ROOT / "data/squad/train.jsonl",
    ("squad", "dev"): ROOT / "data/squad/dev.jsonl",
    ("news", "train"): ROOT / "tests/gold/train.jsonl",
    ("news", "dev"): ROOT / "tests/gold/dev.jsonl",
    ("manuals", "train"): ROOT / "data/manuals/train.jsonl",
    ("manuals", "dev"): ROOT / "data/manuals/dev.jsonl",
    ("typed", "train"): ROOT / "data/typed/train.jsonl",
    ("typed", "dev"): ROOT / "data/typed/dev.jsonl",
}
# Whose questions are certain off-corpus questions for a domain's corpus: every other
# domain's whose corpus is another folder.
OTHER = {d: tuple(o for o in DOMAINS if CORPUS[o] != CORPUS[d]) for d in DOMAINS}


@dataclass
class Sample:
    domain: str  # the corpus asked
    split: str  # train or dev
    group: str  # the article, for folds
    kind: str  # answerable, near_miss, off_corpus, cross, left_out, swapped
    matrix: np.ndarray  # candidate rows
    labels: np.ndarray  # candidate holds a gold answer
    question_args: tuple  # (question, hits, features.Pool) for question_row


def log(message: str) -> None:
    print(message, flush=True)


def questions_for(domain: str, split: str) -> list[dict]:
    """The questions asked of `domain`'s corpus in `split`: its own, and a sample of the
    other domain's as certain off-corpus questions (kind "cross")."""
    own = _read(QUESTIONS[(domain, split)])
    cross = []
    for other_domain in OTHER[domain]:
        other = _read(QUESTIONS[(other_domain, split)])
        random.Random(f"{domain}/{split}/{other_domain}").shuffle(other)
        # At most CROSS questions of each other domain (SQuAD has thousands).
        share = CROSS[split]
        cross += [
            {
                "id": q["id"],
                "question": q["question"],
                "answers": [],
                "kind": "cross",
                "doc": _cross_group(q),
            }
            for q in other[:share]
        ]
    return own + cross


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def _cross_group(item: dict) -> str:
    # Folds by article hold a cross question out with the article it was written about.
    return "cross:" + (item.get("doc") or item.get("doc_id") or "off-topic")


def extract(domain: str, split: str, say: Callable[[str], None] = log) -> list[Sample]:
    # One index a corpus folder: the typed questions share the SQuAD articles' index.
    folder = CORPUS[domain]
    name = folder.relative_to(ROOT).as_posix().replace("/", "-")
    settings = Settings(corpus_dir=folder, index_dir=ROOT / "index" / f"train-{name}")
    qa = QA.open(settings, progress=False, log=say)
    index = qa.index
    read = qa.embedder.read
    samples = []
    names_elsewhere = {
        doc_id: sorted(
            {w for d in index.documents.values() if d.id != doc_id for w in _names(d.text)}
        )
        for doc_id in index.documents
    }
    started = time.perf_counter()
    lines = questions_for(domain, split)
    for n, item in enumerate(lines, start=1):
        text = " ".join(item["question"].split())
        answers = item["answers"]
        question = qa.analyze(text)
        own = item.get("file", "").rsplit(".", 1)[0] or item.get("doc_id")
        group = item.get("doc") or item.get("doc_id") or "off-topic"
        kind = item.get("kind") or ("answerable" if answers else "unanswerable")
        runs = [(question, search(index, question, settings, DEPTH, "hybrid"), kind, answers)]
        if answers and own and split == "train":
            deep = search(index, question, settings, LEFT_OUT_DEPTH, "hybrid")
            left_out = [h for h in deep if h.chunk.doc_id != own][:DEPTH]
            runs.append((question, left_out, "left_out", []))
            swapped = swap_rarest(text, question, names_elsewhere[own], random.Random(text))
            if swapped:
                other = qa.analyze(swapped)
                runs.append((other, search(index, other, settings, DEPTH, "hybrid"), "swapped", []))
        for question, hits, run_kind, gold in runs:
            pool = read_pool(question, hits[: settings.answer_passages], index.documents, read)
            labels = np.array([contains_answer(c.text, gold) for c in pool.found], dtype=bool)
            samples.append(
                Sample(domain, split, group, run_kind, pool.matrix, labels, (question, hits, pool))
            )
        if n % 500 == 0:
            seconds = time.perf_counter() - started
            say(f"{domain}/{split}: {n}/{len(lines)} questions, {seconds:.0f} s")
    say(f"{domain}/{split}: {len(lines)} questions -> {len(samples)} samples")
    return samples


def swap_rarest(text: str, question: Question, names: list[str], rng: random.Random) -> str:
    """The question with its rarest known term replaced by a name from another article:
    the near miss SQuAD 2.0 writes by hand ("How many counties from Normandy ...?"). The
    corpus almost surely does not state it. "" when the term is not a word of the text."""
    words = re.findall(r"[\w'’-]+", text)
    # Names and figures are what a near miss swaps; a verb swapped reads as nonsense.
    slots = {tokenize(w)[0]: w for w in words[1:] if len(tokenize(w)) == 1 and w[0].isupper()}
    known = [
        t
        for t in question.terms
        if not t.unknown and len(t.forms[0]) == 1 and next(iter(t.forms[0])) in slots
    ]
    if not known or not names:
        return ""
    word = slots[next(iter(max(known, key=lambda t: t.weight).forms[0]))]
    return re.sub(rf"\b{re.escape(word)}\b", rng.choice(names), text, count=1)


def _names(text: str) -> set[str]:
    # Capitalised words as written (language.names lower-cases them).
    return {w for w in re.findall(r"\b[A-Z][a-z]{3,}\b", text)}


def cached_samples(folder: Path) -> list[Sample]:
    """Extracted samples, reused while the questions, corpora and feature code are the same.
    The cache is a local pickle of our own making, never shipped or loaded by qa. It keeps
    the extraction's log, which a run that reads it prints again: a shipped log then still
    says how its features were made (questions, samples, seconds), not only "cached"."""
    import pickle

    path = cache_path(folder)
    if path.exists():
        with open(path, "rb") as f:
            cached = pickle.load(f)
        if isinstance(cached, dict) and "log" in cached:
            made = cached["made"]
            log(f"features from {path.relative_to(ROOT)} (extracted {made}), whose log was:")
            for line in cached["log"]:
                log(f"  | {line}")
            return cached["samples"]
    lines: list[str] = []

    def say(message: str) -> None:
        log(message)
        lines.append(message)

    started = time.perf_counter()
    samples = [s for domain, split in QUESTIONS for s in extract(domain, split, say)]
    say(f"{len(samples)} samples extracted in {time.perf_counter() - started:.0f} s")
    folder.mkdir(parents=True, exist_ok=True)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(path, "wb") as f:
        pickle.dump({"samples": samples, "log": lines, "made": made}, f)
    return samples


def cache_path(folder: Path) -> Path:
    """Where the samples of these inputs are cached: named by a hash of every input."""
    inputs = [p for corpus in dict.fromkeys(CORPUS.values()) for p in sorted(corpus.rglob("*"))]
    # The package's files that make a sample (reading, retrieval, features, and the judge
    # that makes the labels), not those that only use the learned model.
    package = ROOT / "src/qa"
    inputs += [*QUESTIONS.values(), package / "evaluation/judge.py"]
    inputs += [
        p
        for p in sorted(package.rglob("*.py"))
        if p.relative_to(package).as_posix() not in NOT_IN_SAMPLES
        and p.relative_to(package).parts[0] not in ("ui", "evaluation")
    ]
    digest = hashlib.sha256(json.dumps(CROSS).encode())
    # The embedding model: its files' names and sizes (hashing 90 MB each run is slow).
    model = Settings().model_path()
    for f in sorted(model.rglob("*")):
        if f.is_file():
            digest.update(f"{f.relative_to(model)}:{f.stat().st_size}".encode())
    for path in inputs:
        if path.is_file():
            digest.update(path.read_bytes())
    return folder / f"samples-{digest.hexdigest()[:16]}.pkl"


def fit_answerable(rows: np.ndarray, y: np.ndarray, w: np.ndarray) -> Trees:
    """Gradient-boosted trees over question rows, read out into qa's own Trees."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(random_state=0, **TREES)
    model.fit(rows, y, sample_weight=w)
    trees = tuple(
        {
            "feature": nodes["feature_idx"].astype(np.int64),
            "threshold": nodes["num_threshold"].astype(np.float64),
            "left": nodes["left"].astype(np.int64),
            "right": nodes["right"].astype(np.int64),
            "leaf": nodes["is_leaf"].astype(bool),
            "value": nodes["value"].astype(np.float64),
        }
        for nodes in (predictors[0].nodes for predictors in model._predictors)
    )
    ours = Trees(
        QUESTION_FEATURES,
        columns_of(QUESTION_FEATURES, QUESTION_FEATURES),
        float(np.ravel(model._baseline_prediction)[0]),
        trees,
    )
    gap = np.abs(sigmoid(ours.logits(rows)) - model.predict_proba(rows)[:, 1]).max()
    if gap > 1e-9:
        raise SystemExit(f"the trees read out differ from scikit-learn's by {gap:.2g}")
    return ours


def weights(samples: list[Sample]) -> np.ndarray:
    """Per-sample weights: every other domain's total weighs DOMAIN_SHARE of SQuAD's."""
    counts = {d: sum(1 for s in samples if s.domain == d) for d in DOMAINS}
    per = {
        d: 1.0 if d == "squad" else DOMAIN_SHARE * counts["squad"] / max(counts[d], 1)
        for d in DOMAINS
    }
    return np.array([per[s.domain] for s in samples])


def fit_sentence(samples: list[Sample]) -> Linear:
    """A conditional logit: per question, a softmax over its candidates, trained to put
    the mass on those holding a gold answer. It learns to choose among one question's
    candidates, which is the decision it makes, rather than to score sentences alone."""
    from scipy.optimize import minimize

    chosen = [s for s in samples if s.kind == "answerable" and s.labels.any()]
    w = weights(chosen)
    columns = list(columns_of(SENTENCE_FEATURES, CANDIDATE_FEATURES))
    x = np.concatenate([s.matrix[:, columns] for s in chosen]).astype(np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    groups = [((s.matrix[:, columns] - mean) / scale, s.labels) for s in chosen]
    n = len(SENTENCE_FEATURES)

    def loss(coef: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * L2 * coef @ coef, L2 * coef
        for (z, y), wi in zip(groups, w, strict=True):
            logits = z @ coef
            e = np.exp(logits - logits.max())
            p = e / e.sum()
            positive = e[y]
            mass = positive.sum()
            total -= wi * np.log(mass / e.sum())
            q = np.zeros_like(p)
            q[y] = positive / mass
            grad = grad + wi * (p - q) @ z
        return total / len(groups), grad / len(groups)

    result = minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B")
    return Linear(SENTENCE_FEATURES, tuple(columns), mean, scale, result.x, 0.0)


def question_rows(samples: list[Sample], sentence: Linear) -> tuple[np.ndarray, np.ndarray]:
    """(rows, chosen-is-right) per sample under this sentence model."""
    rows, right = [], []
    for s in samples:
        logits = sentence.logits(s.matrix) if len(s.labels) else np.zeros(0)
        question, hits, pool = s.question_args
        rows.append(question_row(question, hits, pool, logits))
        right.append(bool(len(s.labels)) and bool(s.labels[int(np.argmax(logits))]))
    return np.stack(rows), np.array(right)


def folds(samples: list[Sample]) -> list[int]:
    """Fold of each sample, by article, so no article is in both halves."""
    groups = sorted({(s.domain, s.group) for s in samples})
    digest = {g: int(hashlib.sha256("/".join(g).encode()).hexdigest(), 16) for g in groups}
    ranked = sorted(groups, key=lambda g: digest[g])
    fold_of = {g: i % FOLDS for i, g in enumerate(ranked)}
    return [fold_of[(s.domain, s.group)] for s in samples]


def out_of_fold(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold answerability probabilities and chosen-is-right flags."""
    fold = np.array(folds(samples))
    probability = np.zeros(len(samples))
    right = np.zeros(len(samples), dtype=bool)
    for f in range(FOLDS):
        train = [s for s, g in zip(samples, fold, strict=True) if g != f]
        test_at = np.flatnonzero(fold == f)
        test = [samples[i] for i in test_at]
        sentence = fit_sentence(train)
        # The answerability model learns from rows scored by the sentence model of the
        # same fold: an inner split would be cleaner, but in- and out-of-sample sentence
        # scores differ little for a model of a few dozen coefficients.
        train = [s for s in train if s.kind not in ANSWERABILITY_SKIPS]
        rows, ok = question_rows(train, sentence)
        answerable = fit_answerable(rows, labels_for(train), weights(train))
        test_rows, test_ok = question_rows(test, sentence)
        probability[test_at] = sigmoid(answerable.logits(test_rows))
        right[test_at] = test_ok
    return probability, right


def labels_for(samples: list[Sample]) -> np.ndarray:
    """Answerable: the false-abstention budget counts every answerable question, whether
    or not its chosen candidate is right, so that is what the probability is of."""
    return np.array([s.kind == "answerable" for s in samples])


def _limit(p: np.ndarray, allowed_share: float) -> float:
    """The highest threshold leaving at most `allowed_share` of `p` below it."""
    p = np.sort(p)
    allowed = int(np.floor(allowed_share * len(p)))
    return float(p[allowed]) - 1e-6 if allowed < len(p) else 1.0


def choose_thresholds(
    samples: list[Sample], probability: np.ndarray, right: np.ndarray
) -> tuple[float, float]:
    """(answer threshold, hedge threshold) on these (dev) rows.

    Hedge: the highest probability whose false abstention stays within FALSE_ABSTENTION
    on every domain. Answer: the highest probability, at least the hedge, that keeps
    CONFIDENT of each domain's right answers confident (the rest become hedges)."""
    hedge, answer = [], []
    for domain in DOMAINS:
        mine = [i for i, s in enumerate(samples) if s.domain == domain and s.kind == "answerable"]
        if not mine:
            continue
        hedge.append(_limit(probability[mine], FALSE_ABSTENTION))
        good = [i for i in mine if right[i]]
        answer.append(_limit(probability[good], 1 - CONFIDENT) if good else 1.0)
    low = max(0.0, min(hedge))
    return max(low, min(answer)), low


def rates(samples: list[Sample], probability: np.ndarray, right: np.ndarray, cut: float):
    """Per domain: (share right among answerable, false abstention, abstention per kind)."""
    out = {}
    for domain in DOMAINS:
        picked = [i for i, s in enumerate(samples) if s.domain == domain]
        answerable = [i for i in picked if samples[i].kind == "answerable"]
        kinds = {}
        for kind in ("near_miss", "off_corpus", "unanswerable", "cross", "left_out", "swapped"):
            of_kind = [i for i in picked if samples[i].kind == kind]
            if of_kind:
                kinds[kind] = (float(np.mean(probability[of_kind] < cut)), len(of_kind))
        out[domain] = (
            float(np.mean([right[i] and probability[i] >= cut for i in answerable])),
            float(np.mean(probability[answerable] < cut)),
            kinds,
            len(answerable),
        )
    return out


def report(name: str, samples, probability, right, answer: float, hedge: float) -> None:
    log(f"{name}: answer threshold {answer:.4f}, hedge threshold {hedge:.4f}")
    for domain in DOMAINS:
        picked = [i for i, s in enumerate(samples) if s.domain == domain]
        answerable = [i for i in picked if samples[i].kind == "answerable"]
        if not answerable:
            continue
        reachable = np.mean([samples[i].labels.any() for i in answerable])
        chosen = np.mean([right[i] for i in answerable])
        rule = np.mean([_rule_right(samples[i]) for i in answerable])
        _, false_abstention, kinds, n = rates(samples, probability, right, hedge)[domain]
        hedged_right = np.mean(
            [hedge <= probability[i] < answer for i in answerable if right[i]] or [0.0]
        )
        line = [
            f"{domain}: answerable {n}",
            f"answer in pool {reachable:.3f}",
            f"chosen right {chosen:.3f} (hand-set weights of qa 0.1: {rule:.3f})",
            f"false abstention {false_abstention:.3f}",
            f"right answers hedged {hedged_right:.3f}",
        ]
        for kind, (share, count) in kinds.items():
            confident = np.mean(
                [probability[i] >= answer for i in picked if samples[i].kind == kind]
            )
            line.append(
                f"{kind} abstained {share:.3f}, answered confidently {confident:.3f} (n={count})"
            )
        log("  " + "; ".join(line))


def curves(samples: list[Sample], probability: np.ndarray) -> dict:
    """Each domain's operating curve on these rows: false abstention against abstention
    on each unanswerable kind, at thresholds from 0 to 1 (docs/EVAL.md plots it)."""
    grid = np.unique(
        np.concatenate([np.linspace(0, 1, 201), np.quantile(probability, np.linspace(0, 1, 201))])
    )
    out = {}
    for domain in DOMAINS:
        picked = [i for i, s in enumerate(samples) if s.domain == domain]
        kinds = sorted({samples[i].kind for i in picked} - {"left_out", "swapped"})
        out[domain] = {
            "threshold": grid.round(6).tolist(),
            **{
                kind: [
                    round(
                        float(
                            np.mean(probability[[i for i in picked if samples[i].kind == kind]] < t)
                        ),
                        4,
                    )
                    for t in grid
                ]
                for kind in kinds
            },
        }
    return out


def _rule_right(s: Sample) -> bool:
    """Whether the sentence scoring `qa` used before the answer model (0.6 coverage,
    0.4 cosine, 0.2 answer type, -0.05 per passage rank) picks a right candidate."""
    if not len(s.labels):
        return False
    col = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    m = s.matrix
    typed = np.array([c.type_match for c in s.question_args[2].found], dtype=float)
    lexical = (2 * m[:, col["coverage"]] + m[:, col["coverage_context"]]) / 3
    score = (
        0.6 * lexical + 0.4 * m[:, col["cosine"]] + 0.2 * typed - 0.05 * m[:, col["passage_rank"]]
    )
    return bool(s.labels[int(np.argmax(score))])


def fit(train: list[Sample]) -> tuple[Linear, Trees]:
    sentence = fit_sentence(train)
    learned = [s for s in train if s.kind not in ANSWERABILITY_SKIPS]
    rows, _ = question_rows(learned, sentence)
    return sentence, fit_answerable(rows, labels_for(learned), weights(learned))


def predict(samples: list[Sample], sentence: Linear, answerable: Trees):
    rows, right = question_rows(samples, sentence)
    return sigmoid(answerable.logits(rows)), right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "src/qa/models/answer_model.json")
    parser.add_argument("--cache", type=Path, default=ROOT / "train/cache")
    parser.add_argument("--curves", type=Path, default=ROOT / "docs/curves_dev.json")
    args = parser.parse_args()
    started = time.perf_counter()
    samples = cached_samples(args.cache)
    train = [s for s in samples if s.split == "train"]
    dev = [s for s in samples if s.split == "dev"]

    probability, right = out_of_fold(train)
    answer, hedge = choose_thresholds(train, probability, right)
    report(
        f"out-of-fold on train, by article ({FOLDS} folds)",
        train,
        probability,
        right,
        answer,
        hedge,
    )

    sentence, answerable = fit(train)
    probability, right = predict(dev, sentence, answerable)
    answer, hedge = choose_thresholds(dev, probability, right)
    report("dev (thresholds chosen here)", dev, probability, right, answer, hedge)
    args.curves.write_text(json.dumps(curves(dev, probability)) + "\n", encoding="utf-8")

    counts = {
        f"{s.domain}/{s.split}/{s.kind}": sum(
            1 for t in samples if (t.domain, t.split, t.kind) == (s.domain, s.split, s.kind)
        )
        for s in samples
    }
    import scipy
    import sklearn

    model = AnswerModel(
        sentence=sentence,
        answerable=answerable,
        threshold=answer,
        hedge=hedge,
        close=0.05,
        meta={
            "trained_on": [str(QUESTIONS[(d, "train")].relative_to(ROOT)) for d in DOMAINS],
            "thresholds_on": [str(QUESTIONS[(d, "dev")].relative_to(ROOT)) for d in DOMAINS],
            "samples": dict(sorted(counts.items())),
            "false_abstention_target": FALSE_ABSTENTION,
            "confident_share": CONFIDENT,
            "cross_questions": CROSS,
            "domain_share": DOMAIN_SHARE,
            "sentence_l2": L2,
            "trees": TREES,
            "answerability_skips": list(ANSWERABILITY_SKIPS),
            "versions": {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__},
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    ordered = sorted(zip(sentence.features, sentence.coef, strict=True), key=lambda t: -abs(t[1]))
    log("sentence model, largest standardised coefficients:")
    log("  " + ", ".join(f"{f} {c:+.2f}" for f, c in ordered))


if __name__ == "__main__":
    main()
