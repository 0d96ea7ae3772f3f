"""The encoder: the sentence-transformers model folder (model_folder), its ONNX export
(onnx_export, made once with torch) and runtime (onnx_encoder), and the Embedder that
embeds passages and questions with either engine (embedding)."""

from .embedding import Embedder

__all__ = ["Embedder"]
