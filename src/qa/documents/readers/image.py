"""An image of a page (a scan or a photo saved as PNG, JPEG or TIFF) through Pillow, read
by OCR (ocr.py): one page per image, or per frame of a multi-page TIFF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Extracted, ReadError, first_line

# A scan is rarely over 10,000 pixels a side; Pillow calls more a decompression bomb.
MAX_PIXELS = 120_000_000
# A multi-page TIFF of more frames than this is an archive, not a document.
MAX_FRAMES = 500


def read_image(path: Path) -> Extracted:
    """The image's text, read by Tesseract, one page per frame.

    Raises ReadError for a damaged file, one too large to open, or (without Tesseract)
    any image, saying how to install it."""
    from PIL import Image, UnidentifiedImageError

    from ...digest import file_sha256
    from ..ocr import ocr_pages

    try:
        with Image.open(path) as image:
            frames = min(getattr(image, "n_frames", 1), MAX_FRAMES)
            if image.width * image.height > MAX_PIXELS:
                raise ReadError(f"an image of {image.width:,} x {image.height:,} pixels, too large")
    except ReadError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise ReadError(f"damaged or not an image ({first_line(e)})") from e

    def render(page: int, dpi: int) -> Any:
        # An image is read at the resolution it was scanned at: enlarging it adds no detail.
        with Image.open(path) as image:
            image.seek(page - 1)
            image.load()
            return image.convert("L")

    try:
        read = ocr_pages(path.name, file_sha256(path), range(1, frames + 1), render)
    except ReadError:
        raise
    except (OSError, ValueError) as e:  # a frame that does not decode
        raise ReadError(f"damaged image ({first_line(e)})") from e
    pages = [read[n].paragraphs() if n in read else [] for n in range(1, frames + 1)]
    first = next((n for n in range(1, frames + 1) if pages[n - 1]), None)
    return Extracted(pages=pages, title=read[first].title() if first else None)
