"""The chat web UI: the Gradio layout over `chat.ChatApp`, and `serve()`, which runs it.

Thin by design: this module places components, wires their events to `chat.ChatApp`'s
methods, and owns the web-facing settings (address, sign-in, queue, offline launch).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import gradio as gr

from . import render
from .chat import ChatApp, Conversation
from .config import MODES, Settings
from .engine import QA
from .errors import QAError, UsageError

EXAMPLES = (
    "How many Fujian counties are among the top 20 for industrial internet?",
    "Which two factories in Changsha were chosen as global lighthouse factories?",
    "How many staff does Liangjiang's digital economy park employ?",
    "What was Liangjiang's digital economy added value in H1 2021?",
    "How do I bake sourdough bread?",
)


def build_app(qa: QA, examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The Gradio Blocks app over `qa`: an Ask tab (chat, examples, settings, sources
    panel), a Documents tab (table and upload), and the `/ask` API endpoint."""
    handlers = ChatApp(qa)
    settings = qa.settings
    with gr.Blocks(
        title="qa · ask the articles", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as app:
        conversation = gr.State(Conversation())
        with gr.Tab("Ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,
                        elem_id="qa-chat",
                        height=520,
                        layout="bubble",
                        # Replies are HTML built from escaped text in render.py; no
                        # Markdown or LaTeX pass may reinterpret them.
                        render_markdown=False,
                        sanitize_html=True,
                        latex_delimiters=[],
                        allow_tags=False,
                        buttons=[],
                        feedback_options=None,
                        # A notice after a reply is its own bubble, not part of it.
                        group_consecutive_messages=False,
                        placeholder=(
                            "Ask about the articles. Every answer is a sentence quoted "
                            "from them, with its sources."
                        ),
                    )
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question, e.g. “Which cities made the top 20?”",
                        submit_btn="Ask",
                        elem_id="qa-question",
                        lines=1,
                        max_lines=4,
                        autofocus=True,
                    )
                    samples = gr.Dataset(
                        components=[question],
                        samples=[[q] for q in examples],
                        label="Examples",
                        elem_id="qa-examples",
                    )
                    with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                        mode = gr.Radio(
                            list(MODES),
                            value=settings.mode,
                            label="Retrieval mode",
                            elem_id="qa-mode",
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
                        render.empty_sources_html(),
                        elem_id="qa-sources",
                        js_on_load=render.VIEWER_JS,
                    )
        with gr.Tab("Documents") as documents_tab:
            documents = gr.HTML(handlers.documents(), elem_id="qa-documents")
            limit_kb = settings.max_upload_bytes // 1000
            files = gr.File(
                label=f"Add articles (.txt or .md, UTF-8, {limit_kb:,} kB at most)",
                file_types=[".txt", ".md"],
                file_count="multiple",
                type="filepath",
                elem_id="qa-upload",
            )
            add = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
            status = gr.HTML(elem_id="qa-upload-status")

        ask_io: dict[str, Any] = dict(
            outputs=[question, chatbot, sources, conversation],
            # A session's question runs to its end before its next one starts: a burst of
            # Enter presses cannot interleave two turns of one conversation (the text
            # typed meanwhile stays in the box).
            trigger_mode="once",
            concurrency_limit=settings.answer_workers,
            concurrency_id="answer",
            api_visibility="private",
        )
        inputs = [conversation, k, mode, explain]
        question.submit(handlers.respond, [question, *inputs], **ask_io)
        samples.click(handlers.respond_example, [samples, *inputs], **ask_io)
        chatbot.select(
            handlers.show_sources,
            [conversation, explain],
            [sources, conversation],
            api_visibility="private",
        )
        explain.change(
            handlers.redraw_sources, [conversation, explain], sources, api_visibility="private"
        )
        gr.on(
            [chatbot.clear, new.click],
            handlers.clear,
            None,
            [chatbot, sources, conversation, question],
            api_visibility="private",
        )
        documents_tab.select(handlers.documents, None, documents, api_visibility="private")
        # One upload at a time: each reindex starts from the previous one's result.
        add.click(
            handlers.add_files,
            files,
            [status, documents, files],
            concurrency_limit=1,
            api_visibility="private",
        )
        gr.api(
            handlers.ask_api,
            api_name="ask",
            concurrency_limit=settings.answer_workers,
            concurrency_id="answer",
        )
    return app


def launch(
    app: gr.Blocks, settings: Settings, host: str, port: int, auth: tuple[str, str] | None = None
) -> str:
    """Start `app` on host:port in the background; returns its URL.

    Everything that would reach the internet is off: analytics, share links, the
    version check, Google fonts (the theme uses system fonts), run history.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app.queue(max_size=settings.queue_size, default_concurrency_limit=settings.answer_workers)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            share=False,
            auth=auth,
            auth_message="Sign in to ask the articles." if auth else None,
            prevent_thread_lock=True,
            quiet=True,
            show_error=False,
            footer_links=["api"],
            run_history=False,
            max_file_size=settings.max_upload_bytes,
            enable_monitoring=False,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            theme=gr.themes.Default(
                font=[
                    "system-ui",
                    "-apple-system",
                    "Segoe UI",
                    "Roboto",
                    "Helvetica",
                    "Arial",
                    "sans-serif",
                ],
                font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
            ),
            css=render.CSS,
        )
    except OSError as e:
        raise QAError(
            f"Cannot listen on {host}:{port} ({e}). Pass another --port or set QA_PORT."
        ) from e
    shown = "[" + host + "]" if ":" in host else host
    return f"http://{shown}:{port}/"


def listen_address(
    settings: Settings, host: str | None = None, port: int | None = None
) -> tuple[str, int]:
    """host and port: the arguments, else the settings (QA_HOST / QA_PORT, 127.0.0.1:7860)."""
    host = host or settings.host
    port = settings.port if port is None else port
    if not 0 < port < 65536:
        raise UsageError(f"The port must be between 1 and 65535, not {port}.")
    return host, port


def auth_from_env() -> tuple[str, str] | None:
    """(user, password) from QA_AUTH=user:password, or None when it is unset."""
    raw = os.environ.get("QA_AUTH", "")
    if not raw:
        return None
    user, colon, password = raw.partition(":")
    if not colon or not user or not password:
        raise UsageError("QA_AUTH must look like user:password (both non-empty).")
    return user, password


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Build or load the index, then serve the chat UI until interrupted.

    Args:
        settings: corpus, index and model (e.g. Settings.from_env()).
        host: address to bind; None means QA_HOST, else 127.0.0.1.
        port: port; None means QA_PORT, else 7860.

    Raises:
        QAError: the corpus or index cannot be used, the address is taken, or QA_AUTH,
            QA_PORT are malformed.
    """
    host, port = listen_address(settings, host, port)
    auth = auth_from_env()
    _stderr(f"Loading the index of {settings.corpus_dir}/ …")
    qa = QA.open(settings, log=_stderr, progress=True)
    qa.ask(EXAMPLES[0])  # loads the model now, not during the first user's question
    app = build_app(qa)
    url = launch(app, settings, host, port, auth)
    _stderr(f"Ready: {url}" + ("  (sign-in required)" if auth else "") + "  Press Ctrl+C to stop.")
    try:
        while app.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        _stderr("Stopping.")
    finally:
        # Gradio announces the shutdown on stdout; stdout is for results only.
        with contextlib.redirect_stdout(sys.stderr):
            app.close()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
