"""Start the chat web UI over the articles: `python app.py [--host HOST] [--port PORT]`.

Thin: parses the address, reads the rest of the settings from the environment
(QA_CORPUS_DIR, QA_INDEX_DIR, QA_MODEL, QA_HOST, QA_PORT, QA_AUTH) and calls
`qa.ui.serve`, the same function `qa serve` calls.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qa import QAError, Settings


def main(argv: Sequence[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        description=f"Serve the qa chat UI (default http://{defaults.host}:{defaults.port})."
    )
    parser.add_argument(
        "--host", default=None, help=f"address to bind (default {defaults.host}, or QA_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help=f"port (default {defaults.port}, or QA_PORT)"
    )
    args = parser.parse_args(argv)

    from qa.ui import serve

    try:
        serve(Settings.from_env(), host=args.host, port=args.port)
    except QAError as e:
        print(f"Error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
