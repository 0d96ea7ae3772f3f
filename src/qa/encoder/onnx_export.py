"""Making the ONNX export: the sentence-transformers pipeline as one graph, checked.

Needs torch (and onnx, onnxscript), so it runs in a process of its own, started by
`engines.export_model` once per model, when an index is built:

    python -m qa.encoder.onnx_export MODEL_PATH MODEL_SHA256 FOLDER

Running the export needs none of it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..digest import file_sha256
from ..errors import ModelError
from .onnx_encoder import (
    CONFIG_FILE,
    ENCODER_FORMAT,
    EXPORT_ERROR,
    INPUTS,
    ONNX_FILE,
    TOKENIZER_FILE,
    TOLERANCE,
    OnnxEncoder,
)

# Texts the export is checked on: cased and uncased, punctuation, digits, accents, CJK,
# emoji, empty, blank, and one longer than any max_seq_length, cut by truncation.
PROBES = (
    "How many workers does Liangjiang's digital economy park employ?",
    "THE QUICK BROWN FOX, jumped over 13 lazy dogs in 2021!",
    "Café déjà vu: naïve façade — résumé.",
    "重庆两江新区数字经济产业园 employs 3,000 people.",
    "Emoji 🚀 and symbols ©®™ at the end",
    "",
    "   ",
    " ".join(f"word{i} and more text" for i in range(400)),
)


def export(model: Any, model_path: Path, model_hash: str, folder: Path) -> None:
    """Export the loaded SentenceTransformer `model` into `folder`, and check that the
    export reproduces it on PROBES.

    Raises:
        ModelError: the model cannot be exported or its export does not reproduce it.
    """
    import torch

    if getattr(model, "default_prompt_name", None) and (model.prompts or {}).get(
        model.default_prompt_name
    ):
        raise ModelError(
            f"The model at {model_path} prepends a prompt to every text, which the ONNX "
            "export does not do. Set QA_ENCODER=torch to embed with sentence-transformers."
        )
    first = model[0]
    tokenizer = getattr(first, "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(
            f"The model at {model_path} has no fast tokenizer (tokenizer.json), which qa "
            "needs to encode without torch. Set QA_ENCODER=torch to use it."
        )
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    features = preprocess(list(PROBES[:2]))
    names = [n for n in INPUTS if isinstance(features.get(n), torch.Tensor)]
    others = [k for k, v in features.items() if isinstance(v, torch.Tensor) and k not in names]
    if "input_ids" not in names or "attention_mask" not in names or others:
        raise ModelError(
            f"The model at {model_path} reads {', '.join(sorted(features))}; qa's ONNX export "
            f"feeds only {', '.join(INPUTS)}. Set QA_ENCODER=torch to use it."
        )
    constants = {k: v for k, v in features.items() if not isinstance(v, torch.Tensor)}
    max_seq_length = int(model.max_seq_length)
    reference = model.encode(
        list(PROBES), batch_size=len(PROBES), convert_to_numpy=True, normalize_embeddings=True
    )
    dimension = int(reference.shape[1])
    expected_ids = _reference_ids(preprocess(list(PROBES)))

    onnx_path = folder / ONNX_FILE
    exporter = _export_graph(model, names, constants, features, max_seq_length, onnx_path)
    config = {
        "format": ENCODER_FORMAT,
        "model_sha256": model_hash,
        "model_path": str(model_path),
        "onnx_sha256": file_sha256(onnx_path),
        "exporter": exporter,
        "torch_version": torch.__version__,
        "inputs": names,
        "output": "sentence_embedding",
        "token_output": "token_embeddings",
        "dimension": dimension,
        "max_seq_length": max_seq_length,
        "do_lower_case": bool(getattr(first, "do_lower_case", False)),
        "pad_token_id": int(getattr(tokenizer, "pad_token_id", 0) or 0),
        "padding_side": str(getattr(tokenizer, "padding_side", "right")),
        "truncation_side": str(getattr(tokenizer, "truncation_side", "right")),
        "modules": [type(m).__name__ for m in model],
    }
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")

    # The model's own tokenizer.json if it tokenizes as sentence-transformers does, else
    # the tokenizer sentence-transformers built (from tokenizer_config.json, vocab.txt).
    candidates: list[Callable[[Path], object]] = []
    if (model_path / TOKENIZER_FILE).is_file():
        candidates.append(lambda p: shutil.copyfile(model_path / TOKENIZER_FILE, p))
    candidates.append(lambda p: backend.save(str(p)))
    for write in candidates:
        write(folder / TOKENIZER_FILE)
        encoder = OnnxEncoder(folder)
        if encoder.token_ids(list(PROBES)) == expected_ids:
            break
    else:
        raise ModelError(
            f"The tokenizer of the model at {model_path} cannot be reproduced without "
            "transformers. Set QA_ENCODER=torch to use it."
        )
    difference = float(np.abs(encoder.encode(list(PROBES)) - reference).max())
    if not difference <= TOLERANCE:
        raise ModelError(
            f"The ONNX export of the model at {model_path} differs from sentence-transformers "
            f"by {difference:.2g} (more than {TOLERANCE:g}). Set QA_ENCODER=torch to use it."
        )


def _reference_ids(features: dict[str, Any]) -> list[list[int]]:
    ids = features["input_ids"].tolist()
    mask = features["attention_mask"].tolist()
    return [
        [t for t, m in zip(row, keep, strict=True) if m]
        for row, keep in zip(ids, mask, strict=True)
    ]


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """The exporters log their progress and torchvision's absence through `logging`,
    whose handlers hold the real stderr: raise the level while exporting."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _export_graph(
    model: Any,
    names: list[str],
    constants: dict[str, Any],
    features: dict[str, Any],
    max_seq_length: int,
    path: Path,
) -> str:
    """Write the graph: torch.export (dynamo), else the TorchScript exporter. Returns
    which one wrote it."""
    import torch

    class Pipeline(torch.nn.Module):
        """The SentenceTransformer as a function of tensors: features in, sentence
        embedding out, through every module modules.json lists."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> tuple[torch.Tensor, torch.Tensor]:
            given = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                given["token_type_ids"] = token_type_ids
            out = self.model({**constants, **given})
            # The token vectors (the last layer, before pooling) come out too: the answer
            # step aligns a question's words with a sentence's (alignment.py). Computing
            # them costs nothing extra; onnxruntime returns only the outputs asked for.
            return out["sentence_embedding"], out["token_embeddings"]

    pipeline = Pipeline().eval()
    args = tuple(features[n] for n in names)
    batch = torch.export.Dim("batch")
    tokens = torch.export.Dim("tokens", max=max(max_seq_length, 2))
    torchscript = {
        "dynamo": False,
        "opset_version": 17,
        "dynamic_axes": {
            **{n: {0: "batch", 1: "tokens"} for n in names},
            "sentence_embedding": {0: "batch"},
            "token_embeddings": {0: "batch", 1: "tokens"},
        },
    }
    attempts: list[tuple[str, dict[str, Any], bool]] = [
        # First the graph onnxruntime's transformer optimiser can fuse (_fused): the
        # TorchScript exporter's, of attention written out ("eager"). Fused, embedding
        # man-page passages ran 1.2x faster, the same vectors within 1e-6
        # (docs/BENCHMARKS.md); the dynamo graph and SDPA attention fuse nothing.
        ("torch.onnx (torchscript, eager attention)", torchscript, True),
        (
            "torch.onnx (dynamo)",
            {
                "dynamo": True,
                "external_data": False,
                "dynamic_shapes": {n: {0: batch, 1: tokens} for n in names},
            },
            False,
        ),
        ("torch.onnx (torchscript)", torchscript, False),
    ]
    failures = []
    for exporter, options, eager in attempts:
        chatter = io.StringIO()
        try:
            with (
                torch.no_grad(),
                warnings.catch_warnings(),
                contextlib.redirect_stdout(chatter),
                contextlib.redirect_stderr(chatter),
                _quiet_logger("torch.onnx"),
                _quiet_logger("torch.export"),
                _quiet_logger("onnxscript"),
                _attention(model, "eager" if eager else None),
            ):
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    pipeline,
                    args,
                    str(path),
                    input_names=names,
                    output_names=["sentence_embedding", "token_embeddings"],
                    verbose=False,
                    **options,
                )
            if path.is_file():
                if eager:
                    fused = _fused(path, model, names)
                    exporter += f", fused: {fused}" if fused else ", not fused"
                return exporter
        except Exception as e:  # each exporter fails in its own ways
            failures.append(f"{exporter}: {type(e).__name__}: {e}".splitlines()[0])
        path.unlink(missing_ok=True)
    raise ModelError("The model cannot be exported to ONNX (" + "; ".join(failures) + ").")


@contextlib.contextmanager
def _attention(model: Any, implementation: str | None) -> Iterator[None]:
    """The transformer's attention written out as `implementation` ("eager": matrix
    products and a softmax, which the optimiser recognises) while exporting."""
    inner = getattr(model[0], "auto_model", None)
    setter = getattr(inner, "set_attn_implementation", None)
    before = getattr(getattr(inner, "config", None), "_attn_implementation", None)
    if implementation is None or setter is None or before is None:
        yield
        return
    setter(implementation)
    try:
        yield
    finally:
        setter(before)


# The fused operators that make the optimised graph faster on a CPU.
_FUSIONS = ("Attention", "EmbedLayerNormalization", "SkipLayerNormalization", "BiasGelu")


def _fused(path: Path, model: Any, names: list[str]) -> str:
    """Rewrite the graph at `path` with onnxruntime's transformer optimiser (attention,
    layer norms and GELU fused into one operator each), when it is a BERT-like encoder
    and the fused graph gives the same outputs on PROBES; else leave it. Returns what
    was fused ("" for nothing)."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    heads = getattr(config, "num_attention_heads", None)
    hidden = getattr(config, "hidden_size", None)
    if getattr(config, "model_type", "") not in ("bert", "roberta", "xlm-roberta", "mpnet"):
        return ""
    if not heads or not hidden:
        return ""
    try:
        from onnxruntime.transformers import optimizer

        with _quiet_logger("onnxruntime.transformers"), _quiet_logger("fusion"):
            optimised = optimizer.optimize_model(
                str(path), model_type="bert", num_heads=int(heads), hidden_size=int(hidden)
            )
        counts = optimised.get_fused_operator_statistics()
        done = {op: counts.get(op, 0) for op in _FUSIONS if counts.get(op, 0)}
        if not done.get("Attention"):
            return ""
        candidate = path.with_suffix(".fused.onnx")
        optimised.save_model_to_file(str(candidate))
    except Exception:  # the optimiser is a speed-up only: a graph it cannot rewrite stays
        return ""
    if not _same_outputs(path, candidate, model, names):
        candidate.unlink(missing_ok=True)
        return ""
    candidate.replace(path)
    return ", ".join(f"{op} x{n}" for op, n in done.items())


def _same_outputs(plain: Path, fused: Path, model: Any, names: list[str]) -> bool:
    """Both graphs give the same sentence and token vectors on PROBES (within
    TOLERANCE), padded batches included."""
    import onnxruntime as ort

    features = (getattr(model, "preprocess", None) or model.tokenize)(list(PROBES))
    feed = {n: features[n].numpy() for n in names}
    try:
        outputs = [
            ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feed)
            for p in (plain, fused)
        ]
    except Exception:
        return False
    mask = feed["attention_mask"][..., None].astype(bool)
    sentence = float(np.abs(outputs[0][0] - outputs[1][0]).max())
    tokens = float(np.abs(np.where(mask, outputs[0][1] - outputs[1][1], 0)).max())
    return sentence <= TOLERANCE and tokens <= 10 * TOLERANCE


def main(argv: list[str]) -> int:
    """The child process of engines.export_model: load the model at argv[0], export it
    into argv[2] for its hash argv[1]. A refusal is one line on stderr (EXPORT_ERROR);
    anything else keeps its traceback."""
    from .engines import load_model

    model_path, model_hash, folder = Path(argv[0]), argv[1], Path(argv[2])
    try:
        export(load_model(model_path), model_path, model_hash, folder)
    except ModelError as e:
        print(f"{EXPORT_ERROR}{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
