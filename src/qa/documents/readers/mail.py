"""E-mail saved as a file (.eml, RFC 5322) through the standard library's email package:
the subject as title, the sender as author, its date, the plain-text body (or the HTML
body through the HTML reader when it has no plain one), and its attachments, which
`corpus.py` reads as documents of their own."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from .base import Extracted, ReadError, clean_text, first_line

# A quoted reply ("> ...") repeats an earlier message: left out, so a question finds
# the message that said it, not every reply that quoted it.
_QUOTED = ">"


def read_eml(path: Path) -> Extracted:
    """One message. Raises ReadError for a file that is not an e-mail."""
    from . import READERS

    try:
        message = BytesParser(policy=email.policy.default).parse(path.open("rb"))
    except (ValueError, TypeError, LookupError) as e:
        raise ReadError(f"not a readable e-mail ({first_line(e)})") from e
    if not isinstance(message, EmailMessage) or not (message["From"] or message["Subject"]):
        raise ReadError("not an e-mail (no From or Subject header)")
    paragraphs = _body(message)
    attachments = []
    for part in message.iter_attachments():
        name = part.get_filename()
        if not name or Path(name).suffix.lower() not in READERS:
            continue
        try:
            data = part.get_payload(decode=True)
        except (ValueError, LookupError):
            continue
        if isinstance(data, bytes) and data:
            attachments.append((name, data))
    return Extracted(
        paragraphs=paragraphs,
        title=clean_text(message["Subject"]),
        author=_sender(message),
        date=_date(message),
        attachments=attachments,
    )


def _body(message: EmailMessage) -> list[str]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: read it as Latin-1
        payload = part.get_payload(decode=True)
        content = payload.decode("latin-1") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        from .html import read_markup

        try:
            return list(read_markup(content).paragraphs)
        except ReadError:
            return []
    lines = [line for line in str(content).splitlines() if not line.lstrip().startswith(_QUOTED)]
    # Paragraphs are blank-line separated; a hard-wrapped paragraph is one (corpus.py's
    # joining of wrapped lines applies to text that comes as one string).
    return [p for block in "\n".join(lines).split("\n\n") if (p := " ".join(block.split()))]


def _sender(message: EmailMessage) -> str | None:
    sender = message["From"]
    if sender is None:
        return None
    addresses = getattr(sender, "addresses", ())
    if addresses:
        first = addresses[0]
        return clean_text(first.display_name) or clean_text(first.addr_spec)
    return clean_text(str(sender))


def _date(message: EmailMessage) -> str | None:
    try:
        when = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None
    return when.strftime("%Y-%m-%d") if when else None
