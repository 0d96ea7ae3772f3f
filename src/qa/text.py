"""Tokenizing for BM25 and term coverage: numbers whole, light plural folding, CJK.

The same function tokenizes passages and questions, so whatever it does to one it does to
the other. Deliberately no aggressive stemmer: Porter-style stemmers turn "named" into
"nam" and "rated" into "rat", which then match unrelated words.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .language import STOPWORDS

# A number keeps its thousands separators and decimals together ("1,462", "208.981");
# a word may carry inner hyphens or apostrophes ("Changsha-Zhuzhou-Xiangtan", "Xi'an").
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:[^\W\d_\u3400-\u9fff]+)?"
    r"|[^\W\d_\u3400-\u9fff]+(?:['’\-][^\W\d_\u3400-\u9fff]+)*"
    r"|[\u3400-\u9fff]"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def variants(term: str, vocabulary: Collection[str]) -> set[str]:
    """`term` and its inflections that the corpus uses ("settled" -> "settling", "opened"
    -> "open"). Only forms found in `vocabulary` are returned, so unlike a stemmer this
    never merges a word with an unrelated one it happens to share letters with."""
    if term[0].isdigit() or len(term) < 4:
        return {term}
    bases = {term}
    for suffix in ("ing", "ed", "es", "s", "d", "er", "ers"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            base = term[: -len(suffix)]
            # A bare stem of three letters is too often another word ("named" -> "nam",
            # "rated" -> "rat"); "name" and "rate" come from adding the e back.
            bases |= {base, base + "e"} if len(base) >= 4 else {base + "e"}
            if len(base) > 3 and base[-1] == base[-2]:
                bases.add(base[:-1])
    forms = set()
    for base in bases:
        stem = base[:-1] if base.endswith("e") else base
        forms |= {base, base + "s", base + "d", base + "ed", stem + "ing", stem + "ed", base + "er"}
        if len(base) >= 3 and base[-1] not in "aeiouwxy" and base[-2] in "aeiou":
            forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return {term} | {form for form in forms if form in vocabulary}


def normalize_number(token: str) -> str:
    """ "6,000" and "6000" are the same number to a reader: drop thousands separators."""
    return _THOUSANDS.sub("", token)


def fold_plural(word: str) -> str:
    """A light plural fold ("counties" -> "county", "factories" -> "factory").

    Only plural endings are folded; words ending in -ss, -us, -is stay as they are.
    """
    if len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "'s")):
        return word
    return word[:-1]


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased terms of `text`, in order.

    A hyphenated name yields its parts and the whole ("changsha", "zhuzhou", "xiangtan",
    "changsha-zhuzhou-xiangtan"), so a question naming one part still matches.
    """
    terms: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group(0).replace("’", "'")
        if token[0].isdigit():
            terms.append(normalize_number(token))
            continue
        if token.endswith("'s"):
            token = token[:-2]
        parts = token.split("-")
        for part in parts:
            part = part.strip("'")
            if part and (keep_stopwords or part not in STOPWORDS):
                terms.append(fold_plural(part))
        if len(parts) > 1:
            terms.append("-".join(fold_plural(p) for p in parts))
    return terms


_ACRONYM_DEF = re.compile(
    r"((?:[A-Z][\w&'’-]*[ ,]+(?:(?:of|and|for|the|on|in|&)[ ]+)*){1,9})\(([A-Z][A-Z0-9&-]{1,9})\)"
)


def find_acronyms(text: str) -> dict[str, str]:
    """Acronyms defined in `text` as "Full Name (ACRONYM)" -> {"acronym": "full name"}.

    Kept only when the capitalised words' initials spell the acronym, so "Sany Group (SG)"
    is found and "in Hunan (China)" is not.
    """
    found: dict[str, str] = {}
    for match in _ACRONYM_DEF.finditer(text):
        words = match.group(1).replace(",", " ").split()
        acronym = match.group(2)
        letters = acronym.replace("&", "").replace("-", "")
        # Walk back from the parenthesis until the capitalised words spell the acronym.
        start, capitals = len(words), 0
        while start > 0 and capitals < len(letters):
            start -= 1
            capitals += words[start][0].isupper()
        initials = "".join(w[0] for w in words[start:] if w[0].isupper())
        if initials.upper() != letters.upper():
            continue
        found[acronym.lower()] = " ".join(words[start:])
    return found


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Words shorter than this are not respelled: one edit turns too many short words into
# other real ones ("cat" -> "car").
MIN_RESPELLED = 5


def respellings(term: str, vocabulary: Collection[str]) -> set[str]:
    """The words of `vocabulary` one edit (a letter dropped, added, changed or two swapped)
    away from `term`, when `term` itself is not in it: a word typed into a search box
    misspelt ("oficer" -> "officer"). Empty for a known, short or non-alphabetic term."""
    if term in vocabulary or len(term) < MIN_RESPELLED or not term.isalpha():
        return set()
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    return {word for word in edits if word in vocabulary}
