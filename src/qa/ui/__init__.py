"""The chat web UI, the outer ring over `qa.engine.QA`.

- `app`: the Gradio layout (`build_app`) and the example questions;
- `server`: `launch` (offline, one address) and `serve` (what `qa serve` and
  `python app.py` run);
- `chat`: what each UI event does, as plain methods over one `QA`;
- `render`: all the HTML, from escaped text only; its CSS and the article viewer's script
  are files in `static/`;
- `uploads`: checking and saving uploaded documents.

Importing this package imports Gradio.
"""

from __future__ import annotations

from .app import build_app
from .server import launch, serve

__all__ = ["build_app", "launch", "serve"]
