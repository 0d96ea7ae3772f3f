"""Follow-up questions: turning "And Zhejiang?" into something retrieval can answer alone.

A chat user leaves out what the conversation already says. Retrieval sees one question at
a time, so an elliptical follow-up ("And Zhejiang?", "When did it open?") is rewritten
from the previous question before it is searched. Pure functions over strings: no index,
no model, so the rewrite is easy to test and to show to the user as "searched for ...".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..language import FILLER, FOLLOWUP_OPENERS, ORDINALS, PRONOUNS, STOPWORDS, is_year
from ..text import tokenize

# A follow-up with at most this many content words (after its opener) is elliptical.
_MAX_FOLLOWUP_TERMS = 3
# Key terms folded in from the previous question, so a long one cannot push a folded
# question past the engine's length limit.
_MAX_FOLDED_TERMS = 16

_WORD = re.compile(r"[^\W_][\w'’.,-]*[^\W_]|[^\W_]")
_NAME_WORD = re.compile(r"[A-Z][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s$")
_NUMBER = re.compile(r"\d[\d,.]*")
_ORDINAL_NUMBER = re.compile(r"\d+(st|nd|rd|th)", re.IGNORECASE)


def resolve_followup(question: str, previous: Sequence[str]) -> str:
    """The text to search for `question`, given the questions before it.

    A question with a subject of its own comes back unchanged. An elliptical one (it opens
    with "and", "what about"...; or has at most one content word; or leans on a pronoun
    with at most two) is rewritten from the last previous question:

    1. When its new subject is one name or number and the previous question holds exactly
       one of the same kind, that one is swapped: "And Zhejiang?" after "How many Fujian
       counties are among the top 20?" searches "How many Zhejiang counties are among the
       top 20?". Kinds: capitalised names, years, ordinals, other numbers.
    2. Otherwise the previous question's key terms are folded in: "When did it open?" after
       "What is the Liangjiang park?" searches "When did it open? (Liangjiang park)".

    Args:
        question: the new question, its whitespace folded (engine.check_question).
        previous: earlier questions of the conversation, oldest first, each as it was
            searched (Answer.searched: folded too, and a chain of follow-ups keeps its
            subject). Only the last is used.

    Returns:
        The question to search; `question` itself when nothing applies.
    """
    earlier = [p for p in previous if p.strip()]
    if not earlier or not is_elliptical(question):
        return question
    last = earlier[-1]
    focus = _focus(question)
    swapped = _swap(last, focus) if focus else None
    return swapped if swapped is not None else _fold(question, last)


def is_elliptical(question: str) -> bool:
    """Whether `question` leans on the conversation for its subject (see resolve_followup)."""
    lowered = question.lower().strip()
    rest = _strip_opener(lowered)
    if rest != lowered and len(tokenize(rest)) <= _MAX_FOLLOWUP_TERMS:
        return True
    terms = tokenize(lowered)
    if len(terms) <= 1:
        return True
    words = {w.strip("'’") for w in re.findall(r"[\w'’]+", lowered)}
    return bool(words & PRONOUNS) and len(terms) <= 2


def _strip_opener(lowered: str) -> str:
    for opener in FOLLOWUP_OPENERS:
        if (
            lowered == opener
            or lowered.startswith(opener + " ")
            or lowered.startswith(opener + ",")
        ):
            return lowered[len(opener) :].lstrip(" ,")
    return lowered


def _focus(question: str) -> str:
    """The new subject of a follow-up, as typed: "And the fourth one?" -> "fourth"."""
    text = question.strip().rstrip("?!. ")
    rest = _strip_opener(text.lower())
    words = text[len(text) - len(rest) :].split() if rest else []
    while words and words[0].lower() in FILLER:
        words.pop(0)
    while words and words[-1].lower() in FILLER:
        words.pop()
    return " ".join(words).strip(" ,")


def _kind(text: str) -> str | None:
    """ "year", "ordinal", "number" or "name" for a follow-up's subject, else None."""
    if is_year(text):
        return "year"
    if text.lower() in ORDINALS or _ORDINAL_NUMBER.fullmatch(text):
        return "ordinal"
    if _NUMBER.fullmatch(text):
        return "number"
    words = text.split()
    if 1 <= len(words) <= 4 and all(
        _NAME_WORD.fullmatch(_POSSESSIVE.sub("", w)) and w.lower() not in STOPWORDS for w in words
    ):
        return "name"
    return None


def _swap(previous: str, focus: str) -> str | None:
    """`previous` with its one name or number of the focus's kind replaced by `focus`."""
    kind = _kind(focus)
    if kind is None:
        return None
    spans = [
        span
        for span in _spans(previous, kind)
        if previous[span[0] : span[1]].lower() != focus.lower()
    ]
    if len(spans) != 1:
        return None
    start, end = spans[0]
    return previous[:start] + focus + previous[end:]


def _spans(text: str, kind: str) -> list[tuple[int, int]]:
    """(start, end) of every name, year, ordinal or number in `text`."""
    if kind == "name":
        return _name_spans(text)
    spans = []
    for match in _WORD.finditer(text):
        word = match.group(0).rstrip(".,")
        if _kind(word) == kind:
            spans.append((match.start(), match.start() + len(word)))
    return spans


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Runs of capitalised words ("Bosch Auto Parts"), without a possessive "'s" and
    without question words or articles that are capitalised only by position ("Is", "The")."""
    spans = []
    for run in re.finditer(r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*", text):
        words = [(m.start() + run.start(), m.group(0)) for m in re.finditer(r"\S+", run.group(0))]
        while words and words[0][1].lower() in STOPWORDS:
            words.pop(0)
        if not words:
            continue
        start = words[0][0]
        last_at, last = words[-1]
        end = last_at + len(_POSSESSIVE.sub("", last))
        spans.append((start, end))
    return spans


def _fold(question: str, previous: str) -> str:
    """`question` followed by the previous question's key terms in parentheses."""
    present = set(tokenize(question))
    terms: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer(previous):
        word = match.group(0).rstrip(".,")
        tokens = tokenize(word)
        key = " ".join(tokens)
        if not tokens or key in seen or all(t in present for t in tokens):
            continue
        seen.add(key)
        terms.append(word)
    if not terms:
        return question
    return f"{question} ({' '.join(terms[:_MAX_FOLDED_TERMS])})"
