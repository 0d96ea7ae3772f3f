"""The encoder: the sentence-transformers model folder (model_folder), its ONNX export
(onnx_export, made once with torch) and runtime (onnx_encoder), and the Embedder that
embeds passages and questions with either engine (embedding); what the index needs of
any encoder, as a type (interface)."""

from .embedding import Embedder
from .interface import TextEncoder

__all__ = ["Embedder", "TextEncoder"]
