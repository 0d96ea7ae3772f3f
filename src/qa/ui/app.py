"""The chat web UI's layout: the Gradio components of each tab, and their events wired
to `chat.ChatApp`'s methods. The examples shown come from `examples.py`; `server.py`
runs the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import MODES, Settings
from ..documents.corpus import SUPPORTED_SUFFIXES
from ..engine import QA
from . import render
from .chat import ChatApp, Conversation
from .examples import corpus_examples, question_hint
from .uploads import format_size


def build_app(qa: QA, examples: Sequence[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app over `qa`: an Ask tab (chat, examples, settings, sources
    panel), a Documents tab (table, upload, removal), and the `/ask` API endpoint.

    `examples`: the example questions; None means corpus_examples(qa), which asks them
    (an example is shown only when it is answered)."""
    examples = corpus_examples(qa) if examples is None else tuple(examples)
    handlers = ChatApp(qa)
    settings = qa.settings
    with gr.Blocks(
        title="qa · ask your documents", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as app:
        conversation = gr.State(Conversation())
        with gr.Tab("Ask"):
            ask = _ask_tab(settings, examples, question_hint(qa, examples))
        with gr.Tab("Documents") as documents_tab:
            documents = _documents_tab(handlers, settings)
        _wire_ask(handlers, settings, conversation, ask)
        _wire_documents(handlers, documents_tab, documents)
        gr.api(
            handlers.ask_api,
            api_name="ask",
            concurrency_limit=settings.answer_workers,
            concurrency_id="answer",
        )
    return app


@dataclass(frozen=True)
class _AskTab:
    chatbot: gr.Chatbot
    question: gr.Textbox
    samples: gr.Dataset
    mode: gr.Radio
    k: gr.Slider
    explain: gr.Checkbox
    new: gr.Button
    sources: gr.HTML


def _ask_tab(settings: Settings, examples: Sequence[str], hint: str) -> _AskTab:
    """The chat, the question box, the examples and settings, and the sources panel."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="qa-chat",
                height=520,
                layout="bubble",
                # Replies are HTML built from escaped text in render.py; no Markdown or
                # LaTeX pass may reinterpret them.
                render_markdown=False,
                sanitize_html=True,
                latex_delimiters=[],
                allow_tags=False,
                buttons=[],
                # Thumbs up and down on each reply: the user's verdicts, kept for
                # `qa calibrate` (chat.ChatApp.judge).
                feedback_options=("Like", "Dislike"),
                # A notice after a reply is its own bubble, not part of it.
                group_consecutive_messages=False,
                placeholder=(
                    "Ask about the documents. Every answer is a sentence quoted "
                    "from them, with its sources."
                ),
            )
            question = gr.Textbox(
                show_label=False,
                placeholder=hint,
                submit_btn="Ask",
                elem_id="qa-question",
                lines=1,
                max_lines=4,
                autofocus=True,
            )
            gr.HTML(render.VERDICT_HINT, elem_id="qa-verdict-hint")
            samples = gr.Dataset(
                components=[question],
                samples=[[q] for q in examples],
                label="Examples",
                elem_id="qa-examples",
                visible=bool(examples),
            )
            with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                mode = gr.Radio(
                    list(MODES), value=settings.mode, label="Retrieval mode", elem_id="qa-mode"
                )
                k = gr.Slider(
                    1,
                    settings.max_k_ui,
                    value=settings.k,
                    step=1,
                    label="Passages to cite (k)",
                    elem_id="qa-k",
                )
                explain = gr.Checkbox(
                    False,
                    label="Explain ranking (BM25 rank, dense rank, fused score)",
                    elem_id="qa-explain",
                )
                new = gr.Button("New conversation", size="sm")
        with gr.Column(scale=2):
            sources = gr.HTML(
                render.empty_sources_html(), elem_id="qa-sources", js_on_load=render.VIEWER_JS
            )
    return _AskTab(chatbot, question, samples, mode, k, explain, new, sources)


@dataclass(frozen=True)
class _DocumentsTab:
    table: gr.HTML
    files: gr.File
    add: gr.Button
    uploaded: gr.Dropdown
    remove: gr.Button
    status: gr.HTML


def _documents_tab(handlers: ChatApp, settings: Settings) -> _DocumentsTab:
    """The documents table, the upload, and the menu of uploads to remove."""
    table = gr.HTML(handlers.documents(), elem_id="qa-documents")
    # Gradio's own check, before the file is sent, words its refusal in binary units
    # ("976.6 Kb" for 1,000,000 bytes); format_size writes the same number.
    limit = format_size(settings.max_upload_bytes)
    files = gr.File(
        label=f"Add documents ({', '.join(SUPPORTED_SUFFIXES)}; {limit} at most)",
        file_types=list(SUPPORTED_SUFFIXES),
        file_count="multiple",
        type="filepath",
        elem_id="qa-upload",
    )
    add = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
    with gr.Row(equal_height=True):
        # Only uploads are offered: the corpus folder is the user's own, edited where it
        # lives.
        uploaded = gr.Dropdown(
            handlers.uploads(),
            value=None,
            label=f"Uploaded documents (kept in {settings.uploads_path()}/)",
            elem_id="qa-uploaded",
            scale=3,
        )
        remove = gr.Button("Remove", variant="stop", elem_id="qa-remove", scale=1)
    status = gr.HTML(elem_id="qa-upload-status")
    return _DocumentsTab(table, files, add, uploaded, remove, status)


def _wire_ask(handlers: ChatApp, settings: Settings, conversation: gr.State, tab: _AskTab) -> None:
    ask_io: dict[str, Any] = dict(
        outputs=[tab.question, tab.chatbot, tab.sources, conversation],
        # A session's question runs to its end before its next one starts: a burst of
        # Enter presses cannot interleave two turns of one conversation (the text typed
        # meanwhile stays in the box).
        trigger_mode="once",
        concurrency_limit=settings.answer_workers,
        concurrency_id="answer",
        api_visibility="private",
    )
    inputs = [conversation, tab.k, tab.mode, tab.explain]
    tab.question.submit(handlers.respond, [tab.question, *inputs], **ask_io)
    tab.samples.click(handlers.respond_example, [tab.samples, *inputs], **ask_io)
    tab.chatbot.select(
        handlers.show_sources,
        [conversation, tab.explain],
        [tab.sources, conversation],
        api_visibility="private",
    )
    tab.chatbot.like(handlers.judge, conversation, None, api_visibility="private")
    tab.explain.change(
        handlers.redraw_sources,
        [conversation, tab.explain],
        tab.sources,
        api_visibility="private",
    )
    gr.on(
        [tab.chatbot.clear, tab.new.click],
        handlers.clear,
        None,
        [tab.chatbot, tab.sources, conversation, tab.question],
        api_visibility="private",
    )


def _wire_documents(handlers: ChatApp, opened: gr.Tab, tab: _DocumentsTab) -> None:
    opened.select(handlers.documents, None, tab.table, api_visibility="private")
    # One change at a time: each reindex starts from the previous one's result.
    change_io: dict[str, Any] = dict(
        outputs=[tab.status, tab.table, tab.files, tab.uploaded],
        concurrency_limit=1,
        concurrency_id="corpus",
        api_visibility="private",
    )
    tab.add.click(handlers.add_files, tab.files, **change_io)
    tab.remove.click(handlers.remove_file, tab.uploaded, **change_io)
