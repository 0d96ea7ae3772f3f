"""The short answer inside the answer sentence: "ranking **7th** and **18th**".

The answer step chooses a sentence; a reader still has to find the fact inside it. Here
every phrase of the sentence that could be the answer is a candidate: a run of up to
MAX_TOKENS words that neither starts nor ends on a stopword or a mark, crosses no
bracket, semicolon or colon, and says something the question does not (a phrase made
only of the question's own words is never one). Each is scored by a conditional logit
over SPAN_FEATURES (learned by `train/train_span_model.py`, shipped as
`models/span_model.json`): what kind of phrase it is against what kind of answer the
question asks for, how close it sits to the words that match the question (the span sits
next to them: "Changsha ranked **7th**"), the words just before it ("in", "is",
"called"), its length and place. Where no phrase is clearly best (the softmax mass of
the best under the model's threshold), no span is shown: the sentence stays the answer.

Numpy over the question analysis and the model's token vectors of the sentence that the
answer step already read (`Pool.readings`): nothing is embedded again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from ..encoder.interface import Reading
from ..errors import ModelError
from ..language import (
    ADVERBISH,
    ASKS_COUNT,
    ASKS_DEFINITION,
    ASKS_NAME,
    ASKS_YEAR,
    COPULAS,
    CURRENCY,
    DETERMINERS,
    MONTHS,
    NAMING_WORDS,
    NUMBER_WORDS,
    ORDINALS,
    PERCENT,
    PREPOSITIONS,
    STOPWORDS,
    VERBISH,
    WEEKDAYS,
    is_year,
    wh_head,
)
from ..search.question import Question
from ..text import fold_plural, tokenize
from .alignment import ALIGNED, QuestionWords, words_of
from .model import Linear, read_model_file

SPAN_MODEL_FORMAT = 1
# The longest span, in tokens: SQuAD's answers are 1-4 words four times in five.
MAX_TOKENS = 10
KINDS = ("number", "time", "person", "place", "other", "reason")

SPAN_FEATURES: tuple[str, ...] = (
    "len_1",
    "len_2",
    "len_3",
    "len_4_5",
    "len_6_up",
    "digits",  # holds a number written in digits that is not a year
    "year",
    "time",  # a year, a month or weekday, a decade, a century
    "number_word",
    "ordinal",
    "money",
    "percent",
    "capitalised",  # every word of it starts with a capital
    "capital_start",
    "identifier",  # --option, FILE_NAME, a/path
    # The kind of answer asked for against the kind of phrase.
    *(f"{kind}_{shape}" for kind in KINDS for shape in ("number", "time", "name", "plain")),
    "asks_identifier_identifier",
    # Finer cues of the question's wording against the phrase.
    "asks_count_number",  # "how many", "how much"
    "asks_year_year",  # "what year", "when"
    "asks_name_name",  # "what is the name", "what was X called"
    "asks_definition_plain",  # "what is X?": a description, not a name
    *(f"{kind}_words_log" for kind in KINDS),
    "verbish_end",  # ends on a word shaped like a verb form (-ed, -ing), not capitalised
    "verbish_start",
    "verbish_inside",
    "adverb_end",  # ends on an -ly word
    "after_determiner",  # "the X", "its X": the head of a noun phrase follows
    # The noun a "what"/"which" question asks for ("What type of **committee**"): the
    # answer is often next to it ("Mandatory Committees") or ends on it.
    "before_head",
    "after_head",
    "ends_with_head",
    "question_share",  # share of its words the question holds
    "qsim_max",  # its words' closest cosine to a question word (the model's token vectors)
    "qsim_mean",
    "gap_left_log",  # words between it and the nearest word matching the question, left
    "gap_right_log",
    "matched_near",  # words matching the question within NEAR words of it, by share
    "left_qsim_1",  # the word just before it: its closest cosine to a question word
    "right_qsim_1",
    "left_qsim_3",  # ... the mean over the 3 words before it
    "right_qsim_3",
    "left_matched_6",  # share of the sentence's matching words in the 6 before it
    "right_matched_6",
    "between_matches",  # matching words on both sides within NEAR
    # Which side of the matching words the answer stands on depends on what is asked: a
    # "who" answer is often the subject before them, a "what" one the object after.
    *(f"{kind}_{side}" for kind in KINDS for side in ("before_matches", "after_matches")),
    "adjacent_left",  # the word just before it matches the question
    "adjacent_right",
    "no_match",  # no word of the sentence matches the question
    "after_preposition",
    "after_copula",
    "after_naming",
    "after_comma",
    "before_comma",
    "before_end",  # the sentence ends after it
    "before_preposition",
    "in_parentheses",
    "in_quotes",
    "starts_sentence",
    "position",  # where it starts, as a share of the sentence
    "stopwords_inside",
    "commas_inside",
    "and_inside",
)
SPAN_COLUMN = {name: i for i, name in enumerate(SPAN_FEATURES)}
# How far either side of a span a matching question word counts as near it.
NEAR = 4

_TOKEN = re.compile(
    r"--?[A-Za-z][\w=-]*"  # an option
    r"|[$€£¥]?\d+(?:[.,:]\d+)*(?:st|nd|rd|th|s)?%?"  # a number, money, a share, a decade
    # a word, "Xi'an", "U.S", "and/or"; not a possessive ("Britain" "’s")
    r"|[^\W\d_]+(?:(?:['’](?![sS]\b)|[.\-/_])[^\W\d_0-9]+)*"
    r"|[^\w\s]"  # a mark
)
_OPENING = frozenset("([{")
_CLOSING = frozenset(")]}")
_QUOTES = frozenset("\"“”‘’'«»")
# A span does not cross these: a bracket, a clause break, a quote mark.
_BARRIERS = frozenset(";:") | _OPENING | _CLOSING | _QUOTES
_TIME_WORDS = frozenset(m for m in MONTHS if len(m) > 3) | WEEKDAYS | {"century", "centuries"}
_IDENTIFIER = re.compile(r"--?[A-Za-z][\w=-]*|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[\w.-]*/[\w./-]+")


@dataclass(frozen=True)
class Span:
    """A short answer: where it is in the sentence, its text, how sure the model is."""

    start: int
    end: int
    text: str
    probability: float


@dataclass(frozen=True)
class SpanCandidates:
    """A sentence's candidate spans: character spans (n, 2) in it and their rows."""

    spans: np.ndarray
    matrix: np.ndarray


def tokens_of(text: str) -> list[tuple[int, int]]:
    """The sentence's tokens as character spans: words, numbers, options, marks."""
    return [m.span() for m in _TOKEN.finditer(text)]


def span_candidates(
    question: Question,
    text: str,
    reading: Reading | None = None,
    start: int = 0,
    question_words: QuestionWords | None = None,
) -> SpanCandidates:
    """Every candidate span of `text` (the answer sentence) and its SPAN_FEATURES row.

    Args:
        reading: how the model read the sentence after the one before it, which starts
            `start` characters before `text`; with `question_words`, it gives each word's
            closest cosine to a question word. Without them those columns are 0.
    """
    spans = tokens_of(text)
    n = len(spans)
    if not n:
        return SpanCandidates(np.zeros((0, 2), np.int64), np.zeros((0, len(SPAN_FEATURES))))
    words = [text[a:b] for a, b in spans]
    lower = [w.lower() for w in words]
    is_mark = np.array([not any(c.isalnum() for c in w) for w in words])
    stop = np.array([w in STOPWORDS for w in lower])
    asked = _question_forms(question)
    in_question = np.array(
        [
            not m and not s and bool(set(tokenize(w)) & asked)
            for w, m, s in zip(words, is_mark, stop, strict=True)
        ]
    )
    qsim = _question_similarity(spans, reading, start, question_words)
    matched = in_question | ((qsim >= ALIGNED) & ~stop & ~is_mark)
    digit = np.array([any(c.isdigit() for c in w) for w in words])
    year = np.array([is_year(w.rstrip("s")) for w in words])
    flags = {
        "digits": digit & ~year,
        "year": year,
        "time": year
        | np.array([w in _TIME_WORDS or bool(re.fullmatch(r"\d0s", w)) for w in lower]),
        "number_word": np.array([w in NUMBER_WORDS for w in lower]),
        "ordinal": np.array(
            [w in ORDINALS or bool(re.fullmatch(r"\d+(st|nd|rd|th)", w)) for w in lower]
        ),
        "money": np.array([w in CURRENCY or w[:1] in "$€£¥" for w in lower]),
        "percent": np.array([w in PERCENT or w.endswith("%") for w in lower]),
        "capital": np.array([w[:1].isupper() for w in words]),
        "identifier": np.array([bool(_IDENTIFIER.fullmatch(w)) for w in words]),
        "stop": stop,
        "comma": np.array([w == "," for w in words]),
        "and": np.array([w in ("and", "or") for w in lower]),
        "content": ~stop & ~is_mark,
        "capital_content": np.array([w[:1].isupper() for w in words]) & ~stop & ~is_mark,
        "in_question": in_question & ~stop,
        "barrier": np.array([w in _BARRIERS for w in words]),
        "verbish": np.array([bool(VERBISH.fullmatch(w)) for w in words]),
        "adverb": np.array([bool(ADVERBISH.fullmatch(w)) for w in words]),
    }
    total = {k: np.concatenate([[0], np.cumsum(v)]) for k, v in flags.items()}
    qsim_total = np.concatenate([[0.0], np.cumsum(qsim)])

    # Candidate (i, j): tokens i..j inclusive.
    grid_i, grid_j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    i, j = grid_i.ravel(), grid_j.ravel()
    length = j - i + 1
    keep = (length >= 1) & (length <= MAX_TOKENS)
    keep &= ~is_mark[i] | flags["money"][i]  # "$" may stand apart from its number
    keep &= ~is_mark[j] & ~stop[j] & ~stop[i]
    i, j, length = i[keep], j[keep], length[keep]

    def count(name: str) -> np.ndarray:
        return total[name][j + 1] - total[name][i]

    content = count("content")
    keep = (count("barrier") == 0) & (content > count("in_question"))
    i, j, length, content = i[keep], j[keep], length[keep], content[keep]
    m = len(i)
    rows = np.zeros((m, len(SPAN_FEATURES)), dtype=np.float64)
    if not m:
        return SpanCandidates(np.zeros((0, 2), np.int64), rows)

    def put(name: str, values: Any) -> None:
        rows[:, SPAN_COLUMN[name]] = values

    put("len_1", length == 1)
    put("len_2", length == 2)
    put("len_3", length == 3)
    put("len_4_5", (length >= 4) & (length <= 5))
    put("len_6_up", length >= 6)
    shape = {}
    for name in (
        "digits",
        "year",
        "time",
        "number_word",
        "ordinal",
        "money",
        "percent",
        "identifier",
    ):
        shape[name] = count(name) > 0
        put(name, shape[name])
    capitalised = (count("capital_content") == content) & (content > 0)
    put("capitalised", capitalised)
    put("capital_start", flags["capital"][i] & (i > 0))
    number = shape["digits"] | shape["number_word"] | shape["percent"] | shape["money"]
    time = shape["time"]
    name = capitalised & ~number & ~time
    plain = ~number & ~time & ~name
    for kind in KINDS:
        if question.kind == kind:
            put(f"{kind}_number", number)
            put(f"{kind}_time", time)
            put(f"{kind}_name", name)
            put(f"{kind}_plain", plain)
    put("asks_identifier_identifier", question.asks_identifier & shape["identifier"])
    asked_text = question.text
    put("asks_count_number", bool(ASKS_COUNT.search(asked_text)) & number)
    put("asks_year_year", bool(ASKS_YEAR.search(asked_text)) & time)
    put("asks_name_name", bool(ASKS_NAME.search(asked_text)) & name)
    put("asks_definition_plain", bool(ASKS_DEFINITION.search(asked_text)) & plain)
    put(f"{question.kind}_words_log", np.log(length))
    verbish = flags["verbish"]
    put("verbish_end", verbish[j])
    put("verbish_start", verbish[i])
    put("verbish_inside", count("verbish") > 0)
    put("adverb_end", flags["adverb"][j])
    put("question_share", count("in_question") / np.maximum(content, 1))
    inside_sim = [qsim[a : b + 1].max() for a, b in zip(i, j, strict=True)]
    put("qsim_max", inside_sim)
    put("qsim_mean", (qsim_total[j + 1] - qsim_total[i]) / length)
    # The nearest matching word on each side.
    positions = np.flatnonzero(matched)
    if len(positions):
        left = np.searchsorted(positions, i) - 1
        gap_left = np.where(left >= 0, i - positions[np.maximum(left, 0)] - 1, n)
        right = np.searchsorted(positions, j, side="right")
        gap_right = np.where(
            right < len(positions), positions[np.minimum(right, len(positions) - 1)] - j - 1, n
        )
    else:
        gap_left = gap_right = np.full(m, n)
    put("gap_left_log", np.log1p(np.minimum(gap_left, 20)))
    put("gap_right_log", np.log1p(np.minimum(gap_right, 20)))
    matched_total = np.concatenate([[0], np.cumsum(matched)])
    near = (
        matched_total[i]
        - matched_total[np.maximum(i - NEAR, 0)]
        + matched_total[np.minimum(j + 1 + NEAR, n)]
        - matched_total[j + 1]
    )
    put("matched_near", near / max(1, int(matched.sum())))
    padded = np.concatenate([np.zeros(3), qsim, np.zeros(3)])  # qsim[k] is padded[k + 3]
    put("left_qsim_1", padded[i + 2])
    put("right_qsim_1", padded[j + 4])
    put("left_qsim_3", (padded[i] + padded[i + 1] + padded[i + 2]) / 3)
    put("right_qsim_3", (padded[j + 4] + padded[j + 5] + padded[j + 6]) / 3)
    all_matched = max(1, int(matched.sum()))
    put("left_matched_6", (matched_total[i] - matched_total[np.maximum(i - 6, 0)]) / all_matched)
    right_end = np.minimum(j + 7, n)
    put("right_matched_6", (matched_total[right_end] - matched_total[j + 1]) / all_matched)
    put("between_matches", (gap_left < NEAR) & (gap_right < NEAR))
    put(f"{question.kind}_before_matches", (gap_right < NEAR) & (gap_left >= NEAR))
    put(f"{question.kind}_after_matches", (gap_left < NEAR) & (gap_right >= NEAR))
    put("adjacent_left", gap_left == 0)
    put("adjacent_right", gap_right == 0)
    put("no_match", not len(positions))
    before = np.array([lower[k - 1] if k > 0 else "" for k in i])
    after = np.array([lower[k + 1] if k + 1 < n else "" for k in j])
    put("after_preposition", [b in PREPOSITIONS for b in before])
    put("after_copula", [b in COPULAS for b in before])
    # "called X", "known as X"
    put(
        "after_naming",
        [
            b in NAMING_WORDS or (b == "as" and k > 1 and lower[k - 2] in NAMING_WORDS)
            for b, k in zip(before, i, strict=True)
        ],
    )
    put("after_comma", before == ",")
    put("after_determiner", [b in DETERMINERS for b in before])
    head = fold_plural(wh_head(question.text))
    if head:
        folded = [fold_plural(w) for w in lower]
        put("before_head", [k + 1 < n and folded[k + 1] == head for k in j])
        put("after_head", [k > 0 and folded[k - 1] == head for k in i])
        put("ends_with_head", [folded[k] == head for k in j])
    put("before_comma", after == ",")
    last_word = max((k for k in range(n) if not is_mark[k]), default=n - 1)
    put("before_end", j == last_word)
    put("before_preposition", [a in PREPOSITIONS for a in after])
    closes = np.array([a in _CLOSING for a in after])
    put("in_parentheses", closes & (before == "("))
    quoted_after = np.array([a in _QUOTES for a in after])
    put("in_quotes", quoted_after & np.array([b in _QUOTES for b in before]))
    put("starts_sentence", i == 0)
    put("position", i / n)
    put("stopwords_inside", count("stop") / length)
    put("commas_inside", np.log1p(count("comma")))
    put("and_inside", count("and") > 0)
    char_spans = np.array(
        [[spans[a][0], spans[b][1]] for a, b in zip(i, j, strict=True)], dtype=np.int64
    )
    return SpanCandidates(char_spans, rows)


def _question_forms(question: Question) -> frozenset[str]:
    """The question's words as `tokenize` gives them, with their inflections and acronym
    expansions (its terms' forms), stopwords left out."""
    forms = {t for t in question.tokens if t not in STOPWORDS}
    for term in question.terms:
        for form in term.forms:
            forms |= form
    return frozenset(forms)


def _question_similarity(
    spans: list[tuple[int, int]],
    reading: Reading | None,
    start: int,
    question_words: QuestionWords | None,
) -> np.ndarray:
    """Each token's closest cosine to a question word, from the model's token vectors of
    the word it falls in (0 without a reading)."""
    out = np.zeros(len(spans))
    if reading is None or question_words is None or not len(question_words.weights):
        return out
    words = words_of(reading)
    if not len(words.spans):
        return out
    best = (words.vectors @ question_words.vectors.T).max(axis=1)
    at = np.array([a + start for a, _ in spans])
    index = np.clip(np.searchsorted(words.spans[:, 0], at, side="right") - 1, 0, None)
    inside = (words.spans[index, 0] <= at) & (at < words.spans[index, 1])
    out[inside] = best[index[inside]]
    return out


@dataclass(frozen=True)
class SpanModel:
    """The span scorer and the softmax mass the best span must reach to be shown."""

    scorer: Linear
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, candidates: SpanCandidates) -> np.ndarray:
        """Each candidate's share of the softmax over the sentence's candidates."""
        if not len(candidates.spans):
            return np.zeros(0)
        logits = self.scorer.logits(candidates.matrix)
        e = np.exp(logits - logits.max())
        return e / e.sum()

    def choose(
        self,
        question: Question,
        text: str,
        reading: Reading | None = None,
        start: int = 0,
        question_words: QuestionWords | None = None,
    ) -> Span | None:
        """The span of `text` that answers, or None where none is clearly best."""
        candidates = span_candidates(question, text, reading, start, question_words)
        picked = self.pick(candidates)
        if picked is None:
            return None
        best, probability = picked
        a, b = (int(v) for v in candidates.spans[best])
        return Span(a, b, text[a:b], probability)

    def pick(self, candidates: SpanCandidates) -> tuple[int, float] | None:
        """The best candidate and its softmax share, or None when it is under the
        threshold (or there is none)."""
        p = self.probabilities(candidates)
        if not len(p):
            return None
        best = int(np.argmax(p))
        return (best, float(p[best])) if p[best] >= self.threshold else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SPAN_MODEL_FORMAT,
            "span": self.scorer.to_dict(),
            "threshold": self.threshold,
            "meta": self.meta,
        }


def default_span_model_path() -> Path:
    return Path(str(files("qa") / "models" / "span_model.json"))


def load_span_model(path: Path | str | None = None) -> SpanModel:
    """Read the span model (default: the one shipped in the package).

    Raises:
        ModelError: the file is missing, unreadable, or learned over other features.
    """
    where = Path(path) if path else default_span_model_path()
    _, item = read_model_file(where, "span model", SPAN_MODEL_FORMAT)
    try:
        scorer = Linear.from_dict(item["span"], SPAN_FEATURES, str(where))
        return SpanModel(scorer, float(item["threshold"]), dict(item.get("meta", {})))
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{where} is not a valid span model ({e}).") from e
