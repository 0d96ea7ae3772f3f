"""The encoder: the sentence-transformers model folder (model_folder), its ONNX export
(onnx_export, made once with torch) and runtime (onnx_encoder), the two engines that run
the model (engines: ONNX or torch), and the Embedder that embeds passages and questions
with the one chosen (embedding); what the index needs of any encoder and what the
Embedder needs of an engine, as types (interface)."""

from .embedding import Embedder
from .interface import TextEncoder

__all__ = ["Embedder", "TextEncoder"]
