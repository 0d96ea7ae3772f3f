"""Documents: files read as their libraries read them (readers), the header of a page
saved as text (page_header), a folder walked into Documents (corpus), and Documents cut
into passages of whole sentences (chunking)."""

from ..passage import Chunk
from .chunking import chunk_document, split_sentences
from .corpus import SUPPORTED_SUFFIXES, Document, load_documents

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "Document",
    "chunk_document",
    "load_documents",
    "split_sentences",
]
