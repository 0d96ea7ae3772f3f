"""A question, analysed once: what retrieval and answer selection both read.

`analyze` folds the question's whitespace, finds its BM25 terms (with the inflections and
acronyms the corpus uses), weighs its informative terms by IDF, says what kind of answer
it asks for, and embeds it. Nothing downstream tokenizes the question again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from ..index.bm25 import SparseBM25
from ..language import (
    QUESTION_FRAMING,
    AnswerKind,
    answer_kind,
    asks_identifier,
    asks_several,
    identifiers,
    names,
    role_nouns,
)
from ..text import respellings, tokenize, variants


@dataclass(frozen=True)
class Term:
    """A question term: how much it tells (IDF), and the token sets that count as the
    term being present (its inflections, or every word of an acronym's full name)."""

    weight: float
    forms: tuple[frozenset[str], ...]
    # The corpus uses none of its forms.
    unknown: bool = False

    def found_in(self, tokens: set[str] | frozenset[str]) -> bool:
        return any(form <= tokens for form in self.forms)


@dataclass(frozen=True)
class Question:
    """Everything `qa` derives from a question's text, computed once."""

    text: str
    # BM25 query terms: the question's own, then inflections and acronym expansions.
    search_terms: tuple[str, ...]
    # Informative terms (no stopwords, no question framing), IDF-weighted.
    terms: tuple[Term, ...]
    kind: AnswerKind
    # It asks for an option, command, variable, function or file name, and the ones it
    # names itself; it asks for several things at once ("Which two ...?"). language.py.
    asks_identifier: bool
    identifiers: frozenset[str]
    asks_several: bool
    # Every token of the question, stopwords included: what an answer must add to.
    tokens: frozenset[str]
    names: frozenset[str]
    # Share of those names no document uses ("Who is the CEO of GYMD?" names GYMD, which
    # they use; "What is Chongqing's GDP?" names GDP, which they never do). Users
    # paraphrase common words freely, names far less.
    unknown_names: float
    # Adjacent word pairs of the question ("first day", "digital economy"): a sentence
    # that says what is asked repeats phrases, not only words.
    bigrams: frozenset[tuple[str, str]]
    # Summed IDF of the search terms the corpus uses: what a BM25 score is measured against.
    idf_mass: float
    vector: np.ndarray

    def bigram_share(self, tokens: Sequence[str]) -> float:
        """Share of the question's word pairs that `tokens` (stopwords kept) hold."""
        if not self.bigrams:
            return 0.0
        return len(self.bigrams & set(zip(tokens, tokens[1:], strict=False))) / len(self.bigrams)

    @property
    def unknown_share(self) -> float:
        """IDF-weighted share of the informative terms that no document uses."""
        total = sum(t.weight for t in self.terms)
        return sum(t.weight for t in self.terms if t.unknown) / total if total > 0 else 0.0


def coverage_of(terms: tuple[Term, ...], tokens: set[str] | frozenset[str]) -> float:
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    return sum(t.weight for t in terms if t.found_in(tokens)) / total


def analyze(
    text: str,
    bm25: SparseBM25,
    acronyms: dict[str, str],
    encode: Callable[[list[str]], np.ndarray],
) -> Question:
    """Analyse a (whitespace-folded) question against an index's vocabulary."""
    tokens = tokenize(text, keep_stopwords=True)
    kind = answer_kind(text)
    terms = search_terms(text, acronyms, bm25.vocabulary, roles=kind == "person")
    found = names(text)
    return Question(
        text=text,
        search_terms=tuple(terms),
        terms=tuple(weighted_terms(text, bm25, acronyms, roles=kind == "person")),
        kind=kind,
        asks_identifier=asks_identifier(text),
        identifiers=frozenset(identifiers(text)),
        asks_several=asks_several(text),
        tokens=frozenset(tokens),
        names=frozenset(found),
        unknown_names=(
            sum(1 for n in found if not any(t in bm25.vocabulary for t in tokenize(n))) / len(found)
            if found
            else 0.0
        ),
        bigrams=frozenset(zip(tokens, tokens[1:], strict=False)),
        idf_mass=float(
            sum(bm25.idf[bm25.vocabulary[t]] for t in set(terms) if t in bm25.vocabulary)
        ),
        vector=encode([text])[0],
    )


def search_terms(
    question: str,
    acronyms: dict[str, str],
    vocabulary: Collection[str] = (),
    roles: bool = False,
) -> list[str]:
    """The question's BM25 terms: its own, the inflections of them that the corpus uses,
    and acronyms defined in the corpus expanded both ways (the articles name an
    organisation in full in one place and by acronym in another); a word it never uses,
    its one-edit respellings it does. With `roles` (a "who"
    question), a verb naming a role brings the nouns for it that the corpus uses: "Who
    chairs ..." searches "chairperson" too, and "who heads ..." "chair"."""
    terms = tokenize(question)
    present = set(terms)
    extra: list[str] = []
    for term in terms:
        forms = _forms(term, vocabulary, roles)
        if forms == {term} and term not in vocabulary:
            # A word the corpus never uses: the words it uses one edit away are searched
            # too ("oficer" -> "officer", typed misspelt). Only searched: the term stays
            # unknown to coverage and to the answer model, since "mayor" one edit from
            # "major" is no misspelling, and a question about a mayor stays unanswerable.
            forms |= respellings(term, vocabulary)
        extra.extend(sorted(forms - present - set(extra)))
    for acronym, full in acronyms.items():
        full_terms = tokenize(full)
        if acronym in present:
            extra.extend(t for t in full_terms if t not in present)
        elif full_terms and all(t in present for t in full_terms):
            extra.append(acronym)
    return terms + extra


def _forms(term: str, vocabulary: Collection[str], roles: bool) -> set[str]:
    """`term`'s inflections the corpus uses; with `roles`, the role nouns it uses for a
    role verb (language.ROLE_VERBS)."""
    forms = variants(term, vocabulary)
    if roles:
        forms |= {noun for noun in role_nouns(term) if noun in vocabulary}
    return forms


def weighted_terms(
    question: str, bm25: SparseBM25, acronyms: dict[str, str], roles: bool = False
) -> list[Term]:
    """The informative terms of a question, weighted by IDF. A term the corpus never uses
    weighs as much as the rarest one it does (it is informative, and it is missing);
    words that only frame the question ("name", "roughly") are left out. With `roles`, a
    role verb is found where a noun for its role is (search_terms)."""
    vocabulary, idf = bm25.vocabulary, bm25.idf
    ceiling = float(idf.max()) if len(idf) else 1.0
    terms = []
    for term in dict.fromkeys(tokenize(question)):
        if term in QUESTION_FRAMING:
            continue
        forms = [frozenset([form]) for form in sorted(_forms(term, vocabulary, roles))]
        if term in acronyms:
            forms.append(frozenset(tokenize(acronyms[term])))
        known = [
            float(idf[vocabulary[f]])
            for form in forms
            for f in form
            if len(form) == 1 and f in vocabulary
        ]
        terms.append(Term(max(known) if known else ceiling, tuple(forms), unknown=not known))
    return terms
