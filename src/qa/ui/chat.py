"""What happens on each event of the chat UI: a chat turn, a click on an older reply,
the explain switch, an upload, a call to the `/ask` API.

Plain methods over one `QA` and a per-session `Conversation`; `app.py` wires them to
Gradio components. Answers come from `QA.ask`, follow-ups are rewritten by
`qa.followup.resolve_followup`, all HTML comes from `render`, uploads are checked by
`uploads`.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import gradio as gr

from ..answer import Answer
from ..answer.verdicts import append_verdict, verdict_record
from ..config import Mode
from ..digest import visible_files
from ..documents.corpus import UPLOADS
from ..engine import QA
from ..errors import QAError, UsageError
from . import render
from .uploads import read_upload, remove_upload, save_upload

log = logging.getLogger(__name__)

# Answers a session keeps so clicking an older reply can show its sources again.
KEPT_ANSWERS = 50
_EMPTY = "Please type a question about the documents."
_FAILED = "Sorry, something went wrong while answering that. The details are in the server log."


@dataclass(frozen=True)
class Reply:
    """An answer in the chat, the retrieval mode it was asked with, and the id its
    verdicts are kept under (a second click on the thumbs replaces the first)."""

    answer: Answer
    mode: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def sources(self, explain: bool, position: int) -> str:
        return render.sources_html(self.answer, explain, str(position), self.mode)


@dataclass
class Conversation:
    """One browser session's chat (held in a gr.State, so each session has its own)."""

    messages: list[dict[str, str]] = field(default_factory=list)
    # Every answered question as it was searched, oldest first: follow-ups resolve from it.
    searched: list[str] = field(default_factory=list)
    # Answers by the index of their bot message in `messages`.
    replies: dict[int, Reply] = field(default_factory=dict)
    # The bot message whose sources are on screen.
    shown: int | None = None

    def remember(self, position: int, reply: Reply) -> None:
        self.replies[position] = reply
        self.shown = position
        for old in sorted(self.replies)[:-KEPT_ANSWERS]:
            del self.replies[old]


class ChatApp:
    """The UI's event handlers over one `QA` (made by `app.build_app`, never at import)."""

    def __init__(self, qa: QA) -> None:
        self.qa = qa

    def respond(
        self, message: str | None, conversation: Conversation, k: float, mode: str, explain: bool
    ) -> Iterator[tuple[Any, ...]]:
        """Chat turn: show the question at once, then the reply and its sources.

        Yields (textbox, chatbot messages, sources panel, conversation). The textbox is
        cleared with the first yield only, so text typed while the answer is on its way
        stays where it is.
        """
        message = message or ""
        if not message.strip():
            conversation.messages.append(_bot(render.notice_html(_EMPTY)))
            yield "", conversation.messages, gr.skip(), conversation
            return
        conversation.messages.append({"role": "user", "content": render.question_html(message)})
        conversation.messages.append(_bot(render.pending_html()))
        yield "", conversation.messages, gr.skip(), conversation

        position = len(conversation.messages) - 1
        try:
            answer = self._ask(message, k, mode, conversation.searched)
        except QAError as e:
            conversation.messages[position] = _bot(render.notice_html(str(e)))
            yield gr.skip(), conversation.messages, gr.skip(), conversation
            return
        except Exception:
            # The boundary between a bug and a user: the traceback goes to the server
            # log, the chat gets an apology, never the traceback.
            log.exception("Answering %r failed", message[:200])
            conversation.messages[position] = _bot(render.notice_html(_FAILED))
            yield gr.skip(), conversation.messages, gr.skip(), conversation
            return
        conversation.searched.append(answer.searched)
        conversation.messages[position] = _bot(render.reply_html(answer))
        reply = Reply(answer, mode)
        conversation.remember(position, reply)
        yield gr.skip(), conversation.messages, reply.sources(explain, position), conversation

    def respond_example(
        self, sample: list[str], conversation: Conversation, k: float, mode: str, explain: bool
    ) -> Iterator[tuple[Any, ...]]:
        """An example question clicked: asked as if typed."""
        yield from self.respond(sample[0] if sample else "", conversation, k, mode, explain)

    def _ask(self, message: str, k: float | None, mode: str, previous: Sequence[str]) -> Answer:
        # QA.ask checks the mode (an unknown one is a UsageError like any bad input), and
        # decides whether a follow-up is searched with the conversation.
        count = None if k is None else int(k)  # the slider sends a float
        return self.qa.ask(message, k=count, mode=cast(Mode, mode), previous=previous)

    def show_sources(
        self, conversation: Conversation, explain: bool, event: gr.SelectData
    ) -> tuple[Any, ...]:
        """A click on a reply in the chat shows that reply's sources."""
        position = event.index if isinstance(event.index, int) else None
        if position is None or position not in conversation.replies:
            return gr.skip(), conversation
        conversation.shown = position
        return conversation.replies[position].sources(explain, position), conversation

    def redraw_sources(self, conversation: Conversation, explain: bool) -> Any:
        """The explain switch flipped: draw the shown sources again, with or without ranks."""
        position = conversation.shown
        if position is None or position not in conversation.replies:
            return gr.skip()
        return conversation.replies[position].sources(explain, position)

    def judge(self, conversation: Conversation, event: gr.LikeData) -> None:
        """A thumbs up or down on a reply: appended to the verdicts file beside the index
        (verdicts.py), for `qa calibrate`. Up on an abstention: right not to answer; down:
        it should have answered. Notices (errors, empty questions) are not answers and
        are not kept."""
        position = event.index if isinstance(event.index, int) else None
        reply = conversation.replies.get(position) if position is not None else None
        if reply is None:
            return
        liked = event.liked if isinstance(event.liked, bool) else None
        try:
            append_verdict(
                self.qa.settings.verdicts_path(), verdict_record(reply.answer, liked, reply.id)
            )
        except OSError as e:
            # The chat goes on; the verdict is lost, and the log says why.
            log.warning("Cannot keep the verdict in %s: %s", self.qa.settings.verdicts_path(), e)

    def clear(self) -> tuple[Any, ...]:
        """Start a new conversation (follow-ups no longer refer to the old one)."""
        return [], render.empty_sources_html(), Conversation(), ""

    def documents(self) -> str:
        """The documents table for the index as it is now, uploads marked."""
        index = self.qa.index
        ordered = sorted(index.documents.values(), key=lambda d: (d.title.lower(), d.id))
        uploads = self.qa.settings.indexed_uploads()
        # The id says where a document may come from; the path settles it (a corpus may
        # have a folder of its own named "uploads"), resolved for those few only.
        uploaded = {
            d.id
            for d in ordered
            if uploads is not None and d.id.startswith(f"{UPLOADS}/") and _is_under(d.path, uploads)
        }
        passages = Counter(chunk.doc_id for chunk in index.chunks)
        return render.documents_html(ordered, passages, uploaded)

    def uploads(self) -> list[str]:
        """The names of the uploaded files, for the remove menu."""
        return [path.name for path in visible_files(self.qa.settings.uploads_path())]

    def add_files(self, files: list[str] | None) -> tuple[Any, ...]:
        """Upload: check and save each file into the uploads folder, then reindex in place.

        Returns (status, documents table, cleared file input, remove menu)."""
        if not files:
            return (
                render.status_html(["Choose one or more documents first."], ok=False),
                gr.skip(),
                None,
                gr.skip(),
            )
        added: list[str] = []
        problems: list[str] = []
        for path in files:
            try:
                upload = read_upload(path, Path(path).name, self.qa.settings.max_upload_bytes)
                save_upload(upload, self.qa.settings.uploads_path())
                added.append(upload.name)
            except UsageError as e:
                problems.append(str(e))
            except OSError as e:
                problems.append(f"{Path(path).name} could not be saved: {e.strerror or e}.")
        lines: list[str] = []
        if added:
            lines, failed = self._reindex(
                f"Added {', '.join(added)}", "They can be asked about now."
            )
            problems += failed
        return self._after_change(lines, problems, cleared=None)

    def remove_file(self, name: str | None) -> tuple[Any, ...]:
        """Remove an uploaded file, then reindex. Returns (status, documents table, file
        input left as it is, remove menu)."""
        try:
            remove_upload(name or "", self.qa.settings.uploads_path())
        except UsageError as e:
            return self._after_change([], [str(e)], cleared=gr.skip())
        except OSError as e:
            problem = f"{name} could not be removed: {e.strerror or e}."
            return self._after_change([], [problem], cleared=gr.skip())
        lines, problems = self._reindex(f"Removed {name}", "It is no longer searched.")
        return self._after_change(lines, problems, cleared=gr.skip())

    def _reindex(self, change: str, done: str) -> tuple[list[str], list[str]]:
        """Bring the index up to date after `change` ("Added a.txt"): (lines, problems)."""
        lines: list[str] = []
        try:
            self.qa.reindex(log=lines.append)
        except QAError as e:
            return [], [f"{change}, but the index was not updated: {e}"]
        return [f"{change}. {done}", *lines], []

    def _after_change(
        self, lines: list[str], problems: list[str], cleared: Any = None
    ) -> tuple[Any, ...]:
        menu = gr.update(choices=self.uploads(), value=None)
        status = render.status_html(lines + problems, ok=not problems)
        return status, self.documents(), cleared, menu

    def ask_api(
        self,
        question: str,
        k: int | None = None,
        mode: Mode | None = None,
    ) -> dict[str, Any]:
        """Answer `question` from the documents; returns the object `qa ask --json` prints.

        Args:
            question: the question.
            k: passages to cite (1..100; default from the server's settings).
            mode: "hybrid", "bm25" or "dense" (default hybrid).
        """
        try:
            return self.qa.ask(question, k=k, mode=mode).to_dict()
        except QAError as e:
            raise gr.Error(str(e), print_exception=False) from e


def _is_under(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _bot(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}
