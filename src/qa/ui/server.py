"""Running the chat web UI: `launch` (offline, on one address) and `serve`, what `qa serve`
and `python app.py` call. Owns the web-facing settings: address, sign-in, queue.
"""

from __future__ import annotations

import contextlib
import sys
import time

import gradio as gr

from ..config import Settings
from ..engine import QA
from ..errors import QAError, UsageError
from ..log import to_stderr
from ..process import configure_process
from . import render
from .app import build_app
from .examples import corpus_examples

# Simplified-Chinese faces on Linux (Noto, Source Han), macOS and Windows.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
)


def launch(
    app: gr.Blocks, settings: Settings, host: str, port: int, auth: tuple[str, str] | None = None
) -> str:
    """Start `app` on host:port in the background; returns its URL.

    Everything that would reach the internet is off: share links, Google fonts (the
    theme uses system fonts) and run history here; analytics and the version check by
    the app itself (`gr.Blocks(analytics_enabled=False)` in app.py, the flag Gradio
    checks before either), so no environment variable is needed.
    """
    check_free(host, port)
    app.queue(max_size=settings.queue_size, default_concurrency_limit=settings.answer_workers)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            share=False,
            auth=auth,
            auth_message="Sign in to ask the documents." if auth else None,
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
                    # Chinese outlets and names ("中国网") need a CJK font; without one
                    # in the stack the browser's fallback may draw boxes. Debian: the
                    # fonts-noto-cjk package (make browser-deps).
                    *CJK_FONTS,
                    "sans-serif",
                ],
                font_mono=[
                    "ui-monospace",
                    "SFMono-Regular",
                    "Menlo",
                    "Consolas",
                    "Noto Sans Mono CJK SC",
                    "monospace",
                ],
            ),
            css=render.CSS,
        )
    except Exception as e:  # Gradio's own errors advise its own settings, not ours
        if isinstance(e, OSError) and "port" in str(e).lower():
            raise QAError(f"Port {port} is in use: pass --port N or set QA_PORT.") from e
        raise QAError(
            f"The server cannot start on {host}:{port} ({type(e).__name__}): pass --host H "
            "and --port N, or set QA_HOST and QA_PORT."
        ) from e
    shown = "[" + host + "]" if ":" in host else host
    return f"http://{shown}:{port}/"


def check_free(host: str, port: int) -> None:
    """QAError unless host:port can be listened on: a busy port gets our own one line,
    before Gradio tries the port and answers with advice about its own settings."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise QAError(
            f"Cannot listen on {host!r}: no such address. Pass --host H or set QA_HOST."
        ) from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server will: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise QAError(f"Port {port} is in use: pass --port N or set QA_PORT.") from e
            raise QAError(
                f"Cannot listen on {host}:{port} ({(e.strerror or str(e)).lower()}): pass "
                "--host H and --port N, or set QA_HOST and QA_PORT."
            ) from e


def listen_address(
    settings: Settings, host: str | None = None, port: int | None = None
) -> tuple[str, int]:
    """host and port: the arguments, else the settings (QA_HOST / QA_PORT, 127.0.0.1:7860)."""
    host = host or settings.host
    port = settings.port if port is None else port
    if not 0 < port < 65536:
        raise UsageError(f"The port must be between 1 and 65535, not {port}.")
    return host, port


def sign_in(settings: Settings) -> tuple[str, str] | None:
    """(user, password) from settings.auth (QA_AUTH=user:password), or None when unset."""
    raw = settings.auth
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
    auth = sign_in(settings)
    configure_process()
    # Before minutes of loading or indexing, not after.
    check_free(host, port)
    to_stderr(f"Loading the index of {settings.corpus_dir}/ …")
    qa = QA.open(settings, log=to_stderr, progress=True)
    # Choosing the examples asks questions: the answer model loads now, not during the
    # first user's question.
    app = build_app(qa, corpus_examples(qa))
    url = launch(app, settings, host, port, auth)
    to_stderr(
        f"Ready: {url}" + ("  (sign-in required)" if auth else "") + "  Press Ctrl+C to stop."
    )
    try:
        while app.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        to_stderr("Stopping.")
    finally:
        # Gradio announces the shutdown on stdout; stdout is for results only.
        with contextlib.redirect_stdout(sys.stderr):
            app.close()
