"""Start the chat web UI over the documents: `python app.py [--host HOST] [--port PORT]`
(what `make run` runs).

Thin: it is `qa serve` with the same arguments, reading the rest of the settings from
the environment (QA_CORPUS_DIR, QA_INDEX_DIR, QA_UPLOADS_DIR, QA_MODEL, QA_HOST,
QA_PORT, QA_AUTH).
"""

from __future__ import annotations

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
