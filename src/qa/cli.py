"""The `qa` command: parses arguments, calls the API, prints. Nothing else lives here.

stdout carries results only; progress, warnings and errors go to stderr. Exit codes:
0 success, 1 a known failure ("Error: ..."), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import MAX_K, MODES, Settings
from .documents.corpus import SUPPORTED_SUFFIXES
from .errors import QAError, UsageError
from .language import plural

if TYPE_CHECKING:
    from .answer import Answer
    from .answer.model import AnswerModel
    from .answer.verdicts import Operating


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from .process import configure_process

    configure_process()
    try:
        return int(args.run(args) or 0)
    except QAError as e:
        print(f"Error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a folder of documents; get the answering sentence, cited.",
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The defaults the help names are the ones Settings uses: one home for both.
    defaults = Settings()

    _add_ask(commands, defaults)
    _add_index(commands, defaults)
    _add_serve(commands, defaults)
    _add_calibrate(commands, defaults)
    _add_eval(commands, defaults)
    return parser


def _add_ask(commands: Any, defaults: Settings) -> None:
    ask = commands.add_parser(
        "ask", help="answer a question from the indexed documents", description=cmd_ask.__doc__
    )
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "-k", type=int, default=None, help=f"passages to cite (default {defaults.k}, 1..{MAX_K})"
    )
    ask.add_argument(
        "--mode", choices=MODES, default=None, help=f"retrieval mode (default {defaults.mode})"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--explain",
        action="store_true",
        help="show each passage's BM25 rank, dense rank and fused score",
    )
    _add_paths(ask)
    ask.set_defaults(run=cmd_ask)


def _add_index(commands: Any, defaults: Settings) -> None:
    index = commands.add_parser(
        "index", help="build or refresh the index of a folder", description=cmd_index.__doc__
    )
    index.add_argument(
        "corpus",
        nargs="?",
        type=Path,
        default=None,
        help=f"folder of documents ({', '.join(SUPPORTED_SUFFIXES)}; "
        f"default {defaults.corpus_dir}/)",
    )
    index.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="where the index is written (default index/<folder name>/)",
    )
    index.add_argument("--model", default=None, help="a sentence-transformers model folder")
    index.add_argument(
        "--rebuild", action="store_true", help="rebuild from scratch, even with another model"
    )
    index.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help="build on a Ray cluster: local (start one here), auto, HOST:6379 or "
        "ray://HOST:10001 (needs pip install 'qa[ray]')",
    )
    index.add_argument(
        "--workers",
        type=int,
        default=None,
        help="embedding workers with --ray (default: one per CPU, or per GPU)",
    )
    index.set_defaults(run=cmd_index)


def _add_serve(commands: Any, defaults: Settings) -> None:
    serve = commands.add_parser(
        "serve", help="start the chat web UI", description=cmd_serve.__doc__
    )
    serve.add_argument(
        "--host", default=None, help=f"address to bind (default {defaults.host}, or QA_HOST)"
    )
    serve.add_argument(
        "--port", type=int, default=None, help=f"port (default {defaults.port}, or QA_PORT)"
    )
    _add_paths(serve)
    serve.set_defaults(run=cmd_serve)


def _add_calibrate(commands: Any, defaults: Settings) -> None:
    cal = commands.add_parser(
        "calibrate",
        help="set this index's abstention threshold from the chat's thumbs up and down",
        description=cmd_calibrate.__doc__,
    )
    cal.add_argument(
        "--verdicts",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="the verdicts to read (default: the chat's, index/<folder name>-verdicts.jsonl)",
    )
    cal.add_argument(
        "--reset", action="store_true", help="go back to the answer model's own threshold"
    )
    _add_paths(cal)
    cal.set_defaults(run=cmd_calibrate)


def _add_eval(commands: Any, defaults: Settings) -> None:
    ev = commands.add_parser(
        "eval", help="score answers against a gold question file", description=cmd_eval.__doc__
    )
    # Required: the gold files live in a checkout (tests/gold/), not in the package.
    ev.add_argument(
        "gold",
        type=Path,
        metavar="GOLD.jsonl",
        help="JSONL gold questions, one object a line (in a checkout: tests/gold/*.jsonl)",
    )
    ev.add_argument(
        "--mode",
        choices=(*MODES, "all"),
        default=None,
        help=f"retrieval mode, or all three side by side (default {defaults.mode})",
    )
    ev.add_argument("-k", type=int, default=None, help="passages per question (default/minimum 10)")
    ev.add_argument("--json", action="store_true", help="print metrics, one JSON object per mode")
    ev.add_argument(
        "--out",
        type=Path,
        metavar="RESULTS.jsonl",
        help='write {"id", "mode", **qa ask --json -k K --mode M} per question and mode',
    )
    ev.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if a metric is below VALUE, e.g. hit@1=0.8 or abstention_near_miss=0.9 "
        "(repeatable)",
    )
    ev.add_argument(
        "--fail-over",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if a lower-is-better metric is above VALUE, e.g. false_abstention=0.1 "
        "or mean_answer_chars=300",
    )
    ev.add_argument("--plot", type=Path, metavar="FILE.png", help="draw hit@k, k=1..10, per mode")
    _add_paths(ev)
    ev.set_defaults(run=cmd_eval)


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help=f"folder of documents (default {Settings().corpus_dir}/)",
    )
    parser.add_argument(
        "--index-dir", type=Path, default=None, help="index folder (default index/<folder name>/)"
    )
    parser.add_argument("--model", default=None, help="a sentence-transformers model folder")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index_dir", None),
        model=getattr(args, "model", None),
    )


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer a question: the answering sentence, then the numbered passages it cites.
    Builds the index first when it is missing or out of date."""
    from .engine import QA, check_question

    settings = _settings(args)
    # Checked before the index is opened (or built): a bad question fails at once.
    query = check_question(args.question, settings, args.k, args.mode)
    answer = QA.open(settings).ask(query)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        # The short answer is marked **so** on a terminal; piped, the sentence is plain
        # text (--json has the span for scripts).
        print(format_answer(answer, explain=args.explain, mark_span=sys.stdout.isatty()))
    return 0


def format_answer(answer: Answer, explain: bool = False, mark_span: bool = False) -> str:
    """The human-readable answer: the sentence (or "the documents don't say"), with its
    short answer in **bold** when `mark_span`, then the numbered citations with their
    passages."""
    from .answer import HEDGE, NOT_FOUND

    lines = []
    if answer.hedged:
        lines += [HEDGE, answer.text or "", ""]
    elif answer.abstained:
        lines.append(NOT_FOUND)
        if answer.citations:
            lines += ["", "Nearest passages (they do not answer the question):"]
    else:
        text, span = answer.text or "", answer.span
        if mark_span and span is not None:
            text = f"{text[: span.start]}**{span.text}**{text[span.end :]}"
        lines += [text, ""]
    for c in answer.citations:
        lines.append(f"[{c.rank}] {c.label}")
        if explain:
            lines.append(
                f"    bm25 rank {c.hit.bm25_rank or '-'}, dense rank {c.hit.dense_rank or '-'}, "
                f"score {c.hit.score:.4f} "
                f"(bm25 {c.hit.bm25_score:.2f}, cosine {c.hit.dense_score:.3f})"
            )
        text = c.hit.chunk.text
        if c.answer_span:
            s, e = c.answer_span
            text = f"{text[:s]}>>{text[s:e]}<<{text[e:]}"
        lines.append("    " + " ".join(text.split()))
    if explain:
        lines.append(
            f"\nconfidence {answer.confidence:.2f} (answer model), "
            f"coverage {answer.coverage:.2f}, similarity {answer.similarity:.2f}"
        )
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    """Build the index of a folder of documents, or bring it up to date (only passages
    whose text changed are embedded again). With --ray, files are read, passages
    chunked and embedded on a Ray cluster, into the same index."""
    from .engine import QA

    settings = _settings(args)
    if args.ray is None:
        if args.workers is not None:
            raise UsageError("--workers is for a build on a Ray cluster: add --ray ADDRESS.")
        QA.build(settings, rebuild=args.rebuild)
        return 0
    from .index.distributed import RayBuild

    with RayBuild(args.ray, workers=args.workers) as builder:
        QA.build(settings, rebuild=args.rebuild, builder=builder)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the chat web UI (by default on 127.0.0.1:7860, or QA_HOST / QA_PORT)."""
    from .ui import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Read the verdicts given in the chat (thumbs up or down on answers, hedges and
    abstentions) and print what each threshold would have done to them. With at least
    30 judged, 5 of each kind, set the threshold below which this index abstains: the
    highest that abstains on at most the answer model's false-abstention budget (3%) of
    the replies that should have answered, as the model's own was chosen on the dev
    questions. It is recorded in the index's manifest (shown as "threshold" in qa ask
    --json). The answer model itself is never retrained."""
    from dataclasses import replace

    from .answer.model import load_answer_model
    from .answer.verdicts import (
        MIN_EACH,
        MIN_VERDICTS,
        calibration,
        choose_threshold,
        enough,
        operating_curve,
        read_points,
    )
    from .index.manifest import read_manifest
    from .index.store import write_manifest

    settings = _settings(args)
    index_dir = settings.index_path()
    manifest = read_manifest(index_dir)
    model = load_answer_model(settings.answer_model or None)
    shipped = model.hedge
    if args.reset:
        write_manifest(replace(manifest, calibration=None), index_dir)
        print(f"The index at {index_dir}/ abstains below the answer model's {shipped:.4f} again.")
        return 0
    source = args.verdicts or settings.verdicts_path()
    if args.verdicts is not None and not args.verdicts.is_file():
        raise UsageError(f"No verdicts file at {args.verdicts}.")
    points = read_points(source)
    answer = sum(p.should_answer for p in points)
    print(
        f"{len(points)} {plural(len(points), 'verdict')} in {source} ({answer} should have "
        f"answered, {len(points) - answer} should not)."
    )
    cut = choose_threshold(points, shipped, model.false_abstention) if enough(points) else None
    if points:
        print(format_curve(operating_curve(points, shipped), shipped, cut))
    if cut is None:
        print(
            f"At least {MIN_VERDICTS} verdicts, {MIN_EACH} of each kind, are needed to set a "
            f"threshold: this index keeps {_current(manifest.calibration, model)}."
        )
        return 0
    chosen = calibration(points, cut, model.false_abstention, model.digest)
    write_manifest(replace(manifest, calibration=chosen), index_dir)
    print(
        f"This index now abstains below {chosen['threshold']:.4f} (the answer model's own: "
        f"{shipped:.4f}), recorded in {index_dir}/manifest.json."
    )
    return 0


def _current(calibration: dict[str, Any] | None, model: AnswerModel) -> str:
    if calibration and calibration.get("answer_model") == model.digest:
        return f"the threshold set before, {float(calibration['threshold']):.4f}"
    return f"the answer model's own threshold, {model.hedge:.4f}"


# The thresholds `qa calibrate` prints the mistakes of (with the shipped and the chosen
# one): the full curve has a row per verdict.
CURVE_POINTS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)


def format_curve(curve: list[Operating], shipped: float, chosen: float | None) -> str:
    """The operating curve as a table: at CURVE_POINTS, the shipped threshold and the
    chosen one (None: none chosen)."""
    # At each grid point, the curve's row in force there (its highest cut not above it).
    picked = {next(o for o in reversed(curve) if o.threshold <= point) for point in CURVE_POINTS}
    picked |= {o for o in curve if o.threshold in (shipped, chosen)}
    rows = sorted(picked, key=lambda o: o.threshold)
    lines = ["threshold  shown wrongly  abstained wrongly  mistakes"]
    for o in rows:
        mark = "  <- the answer model's" if o.threshold == shipped else ""
        mark += "  <- chosen" if o.threshold == chosen else ""
        lines.append(
            f"{o.threshold:9.4f}  {o.wrongly_shown:13d}  {o.wrongly_abstained:17d}  "
            f"{o.errors:8d}{mark}"
        )
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace) -> int:
    """Score the answers to a gold question file: hit@1/3/5/10, MRR@10, answer accuracy,
    abstention, false abstention, passage and answer length and latency, per mode; with
    gold "kind"s, abstention per kind; with gold "file" and "spans", span hit@1/5, span
    MRR@10 and answer span hit. Then the failed questions. --out lines equal `qa ask
    --json -k K --mode M` (K = -k, default 10), plus "id" and "mode". Exits 1 when a
    --fail-under/--fail-over threshold is broken."""
    from .engine import QA
    from .evaluation import load_gold, report, run, thresholds

    # A gold set is written for the corpus: what users uploaded is left out (in an index
    # of its own while there are uploads, so the served one is not rebuilt).
    settings = _settings(args).replace(include_uploads=False)
    limits = thresholds.parse_thresholds(args.fail_under, args.fail_over)
    gold = load_gold(args.gold, settings)
    k = run.passages_for(args.k, log=lambda message: print(message, file=sys.stderr))
    run.check_writable(args.out)
    run.check_writable(args.plot, suffix=".png")
    modes = MODES if args.mode == "all" else (args.mode or settings.mode,)

    evaluation = run.evaluate(QA.open(settings), gold, modes, k)
    if args.json:
        for metrics in run.to_json(evaluation):
            print(json.dumps(metrics, ensure_ascii=False))
    else:
        print(report.format_report(evaluation))
    if args.out:
        run.write_results(evaluation, args.out)
    if args.plot:
        from .evaluation.plot import plot_hit_curves

        plot_hit_curves(run.hit_curves(evaluation), args.plot, f"hit@k on {gold.path.name}")
    broken = thresholds.broken_thresholds(evaluation, limits)
    for message in broken:
        print(f"Failed: {message}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
