"""The example questions the chat UI shows for the corpus served: the ones a folder
ships with, in the hidden file EXAMPLES_FILE (the bundled articles' are in
corpus/.qa-examples.json), else questions about its documents' titles. Either way an
example is shown only when this index answers it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine import QA
from ..errors import UsageError

log = logging.getLogger(__name__)

# Hidden, so the corpus walk never indexes it; in the folder, so a copy of the folder
# keeps its examples.
EXAMPLES_FILE = ".qa-examples.json"
# Any other corpus gets questions about its own documents. A title quoted as the name of
# a document ("What does “Steam engine” say?") is answered by its opening sentences, for
# encyclopedic titles and for news headlines alike; "What is <title>?" reads wrongly for
# a headline.
TITLE_QUESTION = "What does “{title}” say?"
MAX_TITLE_EXAMPLES = 4
# Longer titles make an example chip that wraps over several lines.
MAX_TITLE_CHARS = 80
# Cold, a question costs up to half a second of sentence embedding (then it is cached):
# a few spare candidates at most, so startup stays quick.
_SPARE_TITLE_CANDIDATES = 2


@dataclass(frozen=True)
class FolderExamples:
    """A folder's own examples: questions its documents answer, the question box's hint,
    and questions they do not answer (shown after, so a user sees an abstention)."""

    answered: tuple[str, ...]
    hint: str = ""
    refused: tuple[str, ...] = ()


def folder_examples(corpus_dir: Path | str) -> FolderExamples | None:
    """The examples in `corpus_dir`/EXAMPLES_FILE, or None when there is none (or it
    cannot be read: logged, and the title questions are used instead)."""
    path = Path(corpus_dir) / EXAMPLES_FILE
    if not path.is_file():
        return None
    try:
        item = json.loads(path.read_text(encoding="utf-8"))
        return FolderExamples(
            answered=tuple(str(q) for q in item["answered"]),
            hint=str(item.get("hint", "")),
            refused=tuple(str(q) for q in item.get("refused", ())),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("Ignoring the examples in %s: %s", path, e)
        return None


def corpus_examples(qa: QA, limit: int = MAX_TITLE_EXAMPLES) -> tuple[str, ...]:
    """The example questions to show for the corpus `qa` serves.

    The folder's own (folder_examples) when this index answers every one of them;
    otherwise up to `limit` questions about the documents' titles (TITLE_QUESTION), each
    kept only when this index answers it; none when no title question is answered.

    An example is worth showing only if clicking it gets an answer: a folder whose
    documents no longer answer its examples (a file removed, another model) gets title
    questions rather than abstentions. Asking stops at the first abstention; the bundled
    corpus pays four questions at start-up, which loads the answer model (serve()'s
    warm-up) and puts their sentence vectors in the cache, so clicking them later is
    answered at once.
    """
    own = folder_examples(qa.settings.corpus_dir)
    if own is not None and all(_answered(qa, question) for question in own.answered):
        return own.answered + own.refused
    titles: dict[str, str] = {}
    for document in sorted(qa.index.documents.values(), key=lambda d: d.id):
        title = " ".join(document.title.split())
        if 2 <= len(title) <= MAX_TITLE_CHARS:
            titles.setdefault(title.casefold(), title)
    pool = list(titles.values())
    # Spread over the corpus (documents sorted by id), not its first few files.
    count = min(len(pool), limit + _SPARE_TITLE_CANDIDATES)
    candidates = [pool[i * len(pool) // count] for i in range(count)]
    examples: list[str] = []
    for title in candidates:
        if len(examples) == limit:
            break
        question = TITLE_QUESTION.format(title=title)
        if _answered(qa, question):
            examples.append(question)
    return tuple(examples)


def question_hint(qa: QA, examples: Sequence[str]) -> str:
    """The question box's placeholder: the folder's hint when its own examples are the
    ones shown, else a plain invitation."""
    own = folder_examples(qa.settings.corpus_dir)
    if own is not None and own.hint and tuple(examples) == own.answered + own.refused:
        return f"Ask a question, e.g. “{own.hint}”"
    return "Ask a question"


def _answered(qa: QA, question: str) -> bool:
    try:
        return qa.ask(question).text is not None
    except UsageError:
        return False
