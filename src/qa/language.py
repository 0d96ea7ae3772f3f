"""What `qa` knows about English, in one place: stopwords, question words, month and
number words, and the shapes of dates and quantities.

Nothing here is fitted to one corpus. The answer model (`answer_model.py`) learns how much
each of these signals counts; this module only says what the words and patterns are.
"""

from __future__ import annotations

import re
from typing import Literal

STOPWORDS = frozenset(
    """a an the and or but if then than so of in on at to for from by with without as into
    onto over under about after before between during through per via is are was were be
    been being am do does did done has have had having it its it's this that these those
    there here what which who whom whose when where why how whether i me my we our you
    your he him his she her they them their not no nor can could would should will shall
    may might must also any all each some such very just only own same other more most
    s t up out off too again further once both few many much one's among among within
    tell say said says please know across along beside besides""".split()
)

# Words that frame a question rather than say what it is about ("Name the ...", "According
# to the report, roughly how many ..."). They are kept for BM25 but do not count when
# measuring how much of a question a passage covers.
QUESTION_FRAMING = frozenset(
    """name list give describe explain according report article articles text mention
    mentioned roughly approximately around exactly currently now today time times kind
    kinds type types sort number amount happen happened happens called call known get gets
    got getting put puts take takes took taken come comes came go goes went want wants like
    date day week story""".split()
)

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_NAMES = frozenset(name for name in MONTHS if len(name) > 3)

# The labels of a saved news page's dateline ("来源:中国网 时间:2023-04-24 编辑:李柯佑",
# "Published: 2021-12-07"), English and Chinese; and those of them that name the outlet.
# page_header.py reads them only off a line that holds a date among a text's first lines.
DATELINE_LABELS = (
    "updated published posted date time source editor author 时间 发布时间 来源 编辑 作者".split()
)
SOURCE_LABELS = frozenset({"source", "来源"})
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy
    eighty ninety hundred hundreds thousand thousands million millions billion billions
    trillion dozen dozens half third quarter twice double triple fourfold threefold twofold
    percent""".split()
)

# What a question asks for, from its wording. "other" is everything a wh-word does not
# pin down ("What is ...", "Which ...", yes/no).
AnswerKind = Literal["number", "time", "person", "place", "reason", "other"]

_KIND_PATTERNS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = (
    (
        "number",
        re.compile(
            r"\bhow (many|much|long|far|old|large|big|high|tall|fast|often)\b"
            r"|\b(what|which) (number|percentage|percent|share|proportion|amount|size|rate"
            r"|population|value|total|cost|price|port|limit|length|width|height|depth|count"
            r"|speed|capacity|frequency|timeout|maximum|minimum|default size|block size)\b"
        ),
    ),
    (
        "time",
        re.compile(
            r"^when\b|\bwhen (was|were|did|does|do|is|are|will|had|has)\b"
            r"|\b(what|which|in what|in which) (year|years|date|month|day|decade|century"
            r"|centuries|period|era|time|dynasty)\b|\bhow long ago\b"
        ),
    ),
    ("person", re.compile(r"^(who|whom|whose)\b|\b(who|whom|whose) (is|was|were|are|did)\b")),
    (
        "place",
        re.compile(
            r"^where\b|\bwhere (is|was|were|are|did|do|does)\b"
            r"|\bin what (city|country|place|region|province)\b"
        ),
    ),
    ("reason", re.compile(r"^why\b|\bwhy (is|was|were|are|did|do|does)\b")),
)


# A role named by a verb in a question ("Who chairs the committee?", "who heads it", "Who
# treasures ...") and the nouns a table or list names it by ("Chair | Priya Raman"). Keys
# are the verbs as `text.tokenize` folds them ("chairs" -> "chair", "presides" ->
# "preside"). Used for "who" questions only.
ROLE_VERBS: dict[str, tuple[str, ...]] = {
    "chair": ("chair", "chairman", "chairwoman", "chairperson", "president", "head"),
    "head": ("head", "chair", "chairman", "chairperson", "leader", "director", "president"),
    "lead": ("leader", "lead", "head", "chair", "director"),
    "preside": ("president", "chair", "chairman", "chairperson"),
    "treasure": ("treasurer",),
    "direct": ("director",),
    "manage": ("manager",),
    "edit": ("editor",),
    "found": ("founder",),
    "own": ("owner",),
    "coach": ("coach",),
    "host": ("host",),
    "teach": ("teacher", "instructor", "lecturer"),
    "govern": ("governor",),
    "organise": ("organiser", "organizer"),
    "organize": ("organizer", "organiser"),
    "moderate": ("moderator",),
    "supervise": ("supervisor",),
    "coordinate": ("coordinator",),
    "administer": ("administrator",),
    "maintain": ("maintainer",),
    "develop": ("developer",),
    "write": ("author", "writer"),
    "publish": ("publisher",),
    "sponsor": ("sponsor",),
    "represent": ("representative",),
}


def plural(n: int, noun: str) -> str:
    """`noun` as a message counts `n` of it: "1 document", "2 documents". Regular
    plurals only, which every noun qa counts has."""
    return noun if n == 1 else f"{noun}s"


def role_nouns(term: str) -> tuple[str, ...]:
    """The nouns naming the role the verb `term` ("chair", as tokenized) describes, or ()."""
    return ROLE_VERBS.get(term, ())


def answer_kind(question: str) -> AnswerKind:
    """What kind of answer the question's wording asks for."""
    q = " ".join(question.lower().split())
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(q):
            return kind
    return "other"


# Years of any century in running text ("1347", "AD 711", "the 1870s", "early 1990s"),
# centuries ("10th century"), eras ("Sui and Tang dynasties"); month and day names are
# matched as words.
_TIME_SHAPES = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b\d0s\b|\b(bc|bce|ad|ce) ?\d{1,4}\b|\b\d{1,4} ?(bc|bce|ad|ce)\b"
    r"|\b\d{1,2}(st|nd|rd|th)[ -]centur(y|ies)\b|\bcentur(y|ies)\b|\bdecades?\b"
    r"|\bdynast(y|ies)\b|\b(early|mid|late)[ -]\d{2,4}s?\b|\b\d{1,2}:\d{2}\b"
)
_YEAR = re.compile(r"(1\d{3}|20\d{2})s?")
_NUMBER_SHAPE = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def mentions_time(text: str) -> bool:
    lowered = text.lower()
    return bool(_TIME_SHAPES.search(lowered)) or any(
        w in _MONTH_NAMES or w in WEEKDAYS for w in re.findall(r"[a-z]+", lowered)
    )


def is_year(token: str) -> bool:
    return bool(_YEAR.fullmatch(token))


def mentions_number(text: str) -> bool:
    """A count or amount: digits that are not a year, or a number word ("five", "a
    dozen", "twice"). "How many" is not answered by "in 2021"."""
    words = re.findall(r"[\w.,%]+", text.lower())
    return any(
        (_NUMBER_SHAPE.search(w) and not is_year(w.strip(".,"))) or w in NUMBER_WORDS for w in words
    )


def names(text: str) -> set[str]:
    """Capitalised words after the first word, lower-cased: the names a sentence holds
    ("Wei Yilin", "Rollo", "GYMD"); the first word is capitalised whatever it is, and a
    month or weekday is not a name."""
    words = _WORD.findall(text)
    # A month or a weekday is capitalised but names no one ("met on 4 March").
    return {
        w.lower()
        for w in words[1:]
        if w[0].isupper() and w.lower() not in _MONTH_NAMES and w.lower() not in WEEKDAYS
    }


# A sentence that announces what follows ("... as follows:", "The list includes:").
# Not "a list of": "released a list of the top 20 counties" names a list that is given
# elsewhere, if at all; a sentence followed by an actual enumeration is paired with it
# anyway (`is_list`).
_LEAD_IN = re.compile(
    r"[:：]\s*$|\bas follows\b|\bthe following\b|\bnamely\b"
    r"|\b(include|includes|including|are|were)\s*[:：]"
)


def is_lead_in(sentence: str) -> bool:
    return bool(_LEAD_IN.search(sentence))


def is_list(sentence: str) -> bool:
    """A sentence that enumerates: three or more commas or semicolons between items."""
    return sum(sentence.count(mark) for mark in ",;，；") >= 3


# Sentence splitting (chunking.py).
# Words that end in a period without ending the sentence: "No. 18", "Co., Ltd. spokesperson".
ABBREVIATIONS = frozenset(
    """no nos co ltd inc corp mr mrs ms dr prof st vs etc jan feb mar apr jun jul aug sep sept
    oct nov dec approx dept est fig gov govt jr sr u.s e.g i.e""".split()
)


# Follow-up questions (followup.py).
# Phrases that open a follow-up and carry no content of their own; a phrase comes before
# any shorter one it starts with ("and what about" before "and").
FOLLOWUP_OPENERS = (
    "and what about",
    "and how about",
    "what about",
    "how about",
    "and what of",
    "what of",
    "same question for",
    "same for",
    "and for",
    "and",
    "also",
    "or",
    "then",
)
# Words that stand for something named earlier; with few content words around them the
# question has no subject of its own ("How many workers does it employ?").
PRONOUNS = frozenset(
    "it its they them their there this that these those he him his she her".split()
)
# Filler around the new subject of a follow-up: "And in 2020?", "What about the fourth one?"
FILLER = frozenset("the a an in for of about on at with then too instead one ones".split())
ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)


# Page furniture (features.candidates): lines a page prints around its text that are never
# an answer. A table row ("Treasurer | Maria Okafor") and a list are text, not furniture.
_PAGE_LINE = re.compile(r"\bpage\s+\d+(\s+of\s+\d+)?\b|^\W*\d{1,4}\W*$", re.IGNORECASE)
_BYLINE = re.compile(
    r"^(by|written by|author|authors|editor|edited by|reporter|source|copyright|©)\b",
    re.IGNORECASE,
)
_SENTENCE_END = (".", "!", "?", "。", "！", "？")
# A line that ends a sentence, or a clause (then a list item may follow it), closing quotes
# and brackets aside: what the readers test a printed line against.
ENDS_SENTENCE = re.compile(r"[.!?。！？][\"'”’)\]）]*\s*$")
ENDS_CLAUSE = re.compile(r"[.!?:;。！？：；][\"'”’)\]）]*\s*$")
# A heading is short: longer lines without closing punctuation are list items or captions.
HEADING_WORDS = 10
# "Who wrote ...?", "What is the title of ...?": questions about a document's metadata.
# Only of a document: "What title did the Norman rulers hold?" asks about people.
_DOCUMENT = r"(document|report|article|page|paper|book|file|minutes|notes|story|post|piece)"
_ASKS_AUTHOR = re.compile(
    rf"\bwho (wrote|authored|is the author of)\b|\bauthors? of (this|the|that) {_DOCUMENT}\b"
    rf"|\bwritten by\b.*\b{_DOCUMENT}\b|\b{_DOCUMENT}\b.*\bwritten by\b",
    re.IGNORECASE,
)
_ASKS_TITLE = re.compile(
    rf"\b(title|headline) of (this|the|that) {_DOCUMENT}\b"
    rf"|\bwhat is (this|the|that) {_DOCUMENT} (called|titled)\b",
    re.IGNORECASE,
)


def asks_for_metadata(question: str) -> Literal["author", "title", ""]:
    """ "author" or "title" when the question asks for a document's author or title (which
    a byline, heading or title line does answer), else ""."""
    if _ASKS_AUTHOR.search(question):
        return "author"
    return "title" if _ASKS_TITLE.search(question) else ""


# A line of code or a command, not prose: a shell prompt, a statement, or text dense in
# the symbols code is made of. Options explained in words ("-q, --quiet: Do not print
# the welcome.") are prose: they end like a sentence or hold several plain words per
# symbol.
_CODE_START = re.compile(
    r"^\s*(\$ |# |> |>>> |#include\b|import |from \S+ import |def |class |return\b"
    r"|(for|while|if)\s*\(|[A-Za-z_][\w.]*\s*(=|\+=|:=)\s*\S)"
)
_CODE_SYMBOLS = set("{}()[];=<>|&$\\/*`~^%")
# Questions that ask for a command, code or its syntax: then a code line may answer.
_ASKS_CODE = re.compile(
    r"\b(command|commands|syntax|example|examples|usage|invoke|invocation|code|snippet"
    r"|script|type|run|write|call|print|shell|how (do|can|would|should) (i|you|one)"
    r"|how to)\b",
    re.IGNORECASE,
)


# Questions that ask for a name of the kind manuals print in code: an option, a command, a
# variable, a function, a file ("Which du option ...", "What environment variable ...").
_ASKS_IDENTIFIER = re.compile(
    r"\b(which|what)\s+(\S+\s+){0,3}?(option|options|flag|flags|switch|command|commands"
    r"|function|functions|macro|variable|variables|header|file|files|program|action|format"
    r"|value|argument|parameter|setting|key|library|directive|sequence|signal|mode|suffix"
    r"|extension|keyword|operator|field|method|class|type)\b",
    re.IGNORECASE,
)
# Such a name in running text: "--summarize", "-print0", "FFI_DEFAULT_ABI", "gpg-error.h",
# "/proc/meminfo", "gpgrt_check_version", "%s".
_IDENTIFIER = re.compile(
    r"(?<![\w-])(--?[A-Za-z][\w=-]*|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{2,}[0-9]+[A-Z0-9]*"
    r"|[\w-]+\.(?:h|c|cc|conf|pc|m4|so|py|sh|cfg|ini|info|gz|bz2|xz)\b|/[\w.-]+(?:/[\w.-]+)+"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+|%[A-Za-z])"
)


# Questions that ask for several things at once ("Which two factories ...", "both"), and
# text that names several: names joined by "and" or listed with commas.
_ASKS_SEVERAL = re.compile(
    r"\b(which|what|name|list)\s+(the\s+)?(two|three|four|five|six|both|[2-9])\b|\bboth\b",
    re.IGNORECASE,
)
_NAMES_JOINED = re.compile(
    r"[A-Z][\w.’'-]*(?:\s+\d+)?\s*(?:,\s*[A-Z][\w.’'-]*\s*)*(?:,\s*)?(?:and|&)\s+[A-Z]"
)


def asks_several(question: str) -> bool:
    """Whether a question asks for two or more things ("Which two factories ...?")."""
    return bool(_ASKS_SEVERAL.search(question))


def joins_names(text: str) -> bool:
    """Whether `text` names several things together ("Bosch Changsha Factory and Sany Group
    No. 18 Factory", "Fuzhou, Xiamen and Quanzhou"); the first word, capitalised whatever
    it is, does not count."""
    return bool(_NAMES_JOINED.search(text, 1))


def asks_identifier(question: str) -> bool:
    """Whether a question asks for an option, command, variable, function or file name."""
    return bool(_ASKS_IDENTIFIER.search(question))


def identifiers(text: str) -> set[str]:
    """The option, variable, function and file names `text` holds, as written."""
    return {m.group(1).rstrip(".,;:") for m in _IDENTIFIER.finditer(text)}


def looks_like_code(line: str) -> bool:
    """Whether `line` is a line of code or a command rather than a sentence."""
    text = line.strip()
    if not text or (text.endswith(_SENTENCE_END) and len(text.split()) >= 6):
        return False
    if _CODE_START.match(text):
        return True
    visible = [ch for ch in text if not ch.isspace()]
    symbols = sum(ch in _CODE_SYMBOLS for ch in visible)
    plain_words = sum(1 for w in text.split() if w.isalpha() and len(w) > 2)
    return symbols >= 3 and symbols > 0.08 * len(visible) and plain_words < 2 * symbols


def asks_for_code(question: str) -> bool:
    """Whether a question asks for a command, code or syntax (which a code line answers)."""
    return bool(_ASKS_CODE.search(question))


def is_furniture(line: str, title: str = "") -> bool:
    """A heading, a title line, a byline, a running header or a page footer: text a page
    prints around what it says. Such a line ends in no sentence punctuation; it is a page
    number or "Page N of M", opens like a byline, repeats the document's title, or is a
    short line whose words are capitalised ("Garden Club Meeting Minutes")."""
    text = line.strip().rstrip("\"'”’)]）")
    if not text or text.endswith(_SENTENCE_END):
        return False
    if _PAGE_LINE.search(text) or _BYLINE.match(text):
        return True
    if "|" in text or sum(text.count(mark) for mark in ",;:，；：") >= 1:
        return False  # a table row, a list, a label and its value
    folded = " ".join(text.lower().split())
    if title and folded in " ".join(title.lower().split()):
        return True
    words = _WORD.findall(text)
    return 0 < len(text.split()) <= HEADING_WORDS and all(
        w[0].isupper() for w in words if len(w) > 3
    )


# The short answer inside a sentence (answer/spans.py). Words before a span that say what
# it is: a preposition ("in 1754", "by Rollo"), a copula ("is Latin"), a naming verb
# ("called the Great Binding", "known as Hunan").
PREPOSITIONS = frozenset(
    "in on at by from of to for with into as since until during between than about".split()
)
COPULAS = frozenset("is are was were be been became becomes remains remained".split())
NAMING_WORDS = frozenset("called named known titled dubbed termed nicknamed".split())
# Currency signs and words, and the marks that make a number a share.
CURRENCY = frozenset("$ € £ ¥ yuan dollars dollar euros euro pounds rmb usd".split())
PERCENT = frozenset("% percent per cent percentage".split())
DETERMINERS = frozenset("the a an its their his her our this that these those each every".split())
# Finer cues of what a question asks for than its kind, read by the span step.
ASKS_COUNT = re.compile(r"\bhow (many|much)\b", re.IGNORECASE)
ASKS_YEAR = re.compile(r"^when\b|\b(what|which) year\b|\bin what year\b", re.IGNORECASE)
ASKS_NAME = re.compile(r"\b(name|names|named|called|call|title|titled|known as)\b", re.IGNORECASE)
ASKS_DEFINITION = re.compile(
    r"^(what|who)\s+(is|are|was|were)\s+(a|an|the)?\s*\w+(\s+\w+)?\s*\??$", re.IGNORECASE
)
# Word shapes of verb forms and adverbs, for a span's edges (no tagger: endings only).
VERBISH = re.compile(r"[a-z]{3,}(ed|ing)")
ADVERBISH = re.compile(r"[a-z]{3,}ly")
# "What type of committee ...", "Which hall ...": the noun after the wh-word names the kind
# of thing asked for; these words before it only frame it.
_WH_HEAD = re.compile(
    r"\b(?:what|which)\s+(?:(?:type|kind|sort|form|name|part)s?\s+of\s+)?(?:the\s+)?"
    r"([^\W\d_][\w'’-]*)",
    re.IGNORECASE,
)


def wh_head(question: str) -> str:
    """The noun a "what"/"which" question asks for ("committee" in "What type of committee
    considered ...?"), lower-cased; "" when there is none (or it is a verb, "What is")."""
    match = _WH_HEAD.search(question)
    if not match:
        return ""
    word = match.group(1).lower()
    return "" if word in STOPWORDS else word
