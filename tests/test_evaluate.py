"""The evaluator: metric arithmetic by hand, gold file validation, and `qa eval` end to end
over the real corpus and model (small gold files, so it stays quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import QA, Settings
from qa.cli import main
from qa.errors import GoldFileError
from qa.evaluate import (
    Evaluation,
    Gold,
    GoldQuestion,
    Judgement,
    ModeRun,
    Result,
    broken_thresholds,
    hit_curve,
    judge,
    load_gold,
    metrics,
    parse_thresholds,
    percentile,
)
from qa.report import format_report

ANSWERABLE = {
    "id": "q-vp",
    "question": "Who is the executive VP of the Changsha Construction Machinery Industry "
    "Association?",
    "answers": ["Wu Jingsheng"],
    "doc_id": "changsha-advanced-manufacturing-center",
}
OFF_TOPIC = {"id": "q-brazil", "question": "What is the capital of Brazil?", "answers": []}


def _judgement(
    answerable: bool, rank: int | None, abstained: bool, correct: bool, chars: int, ms: float
) -> Judgement:
    return Judgement(answerable, rank, abstained, correct, chars, ms)


# Five answerable questions and two unanswerable ones:
#   A rank 1, answered right     B rank 3, answered wrong     C no gold passage, abstained
#   D rank 2, answered right     E rank 12 (past 10), answered wrong
#   F unanswerable, abstained    G unanswerable, answered
TINY = [
    _judgement(True, 1, False, True, 1000, 10),
    _judgement(True, 3, False, False, 800, 20),
    _judgement(True, None, True, False, 600, 30),
    _judgement(True, 2, False, True, 1200, 40),
    _judgement(True, 12, False, False, 1500, 50),
    _judgement(False, None, True, False, 500, 60),
    _judgement(False, None, False, False, 900, 70),
]


def test_metrics_on_a_hand_worked_example() -> None:
    values = metrics(TINY)
    # Over the 5 answerable: rank <= 1 only A; <= 3, 5 and 10: A, B, D (E is at 12).
    assert values["hit@1"] == pytest.approx(1 / 5)
    assert values["hit@3"] == pytest.approx(3 / 5)
    assert values["hit@5"] == pytest.approx(3 / 5)
    assert values["hit@10"] == pytest.approx(3 / 5)
    # MRR@10 = (1/1 + 1/3 + 0 + 1/2 + 0) / 5 = (11/6) / 5 = 11/30; E counts 0 past rank 10.
    assert values["mrr@10"] == pytest.approx(11 / 30)
    # Answered and right: A and D, 2 of 5; abstained while answerable: C, 1 of 5.
    assert values["answer_accuracy"] == pytest.approx(2 / 5)
    assert values["false_abstention"] == pytest.approx(1 / 5)
    # Unanswerable: F abstained, G did not: 1 of 2.
    assert values["abstention"] == pytest.approx(1 / 2)
    # All 7 questions: (1000 + 800 + 600 + 1200 + 1500 + 500 + 900) / 7 = 6500 / 7.
    assert values["mean_chars_top5"] == pytest.approx(6500 / 7)
    # Latencies 10..70: p50 sits at position 0.5 * 6 = 3 -> 40; p95 at 0.95 * 6 = 5.7,
    # between 60 and 70 -> 60 + 0.7 * 10 = 67.
    assert values["latency_p50_ms"] == pytest.approx(40)
    assert values["latency_p95_ms"] == pytest.approx(67)
    # hit@k for k = 1..10: A by 1, D by 2, B by 3; then flat at 3 of 5.
    assert hit_curve(TINY) == pytest.approx([0.2, 0.4] + [0.6] * 8)


def test_percentile_interpolates_like_numpy() -> None:
    # Four values: p50 at position 1.5 -> 20 + 0.5 * 10 = 25; p95 at 2.85 -> 30 + 8.5 = 38.5.
    assert percentile([40, 10, 30, 20], 50) == pytest.approx(25)
    assert percentile([40, 10, 30, 20], 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_metrics_without_unanswerable_questions_leave_abstention_undefined() -> None:
    values = metrics([j for j in TINY if j.answerable])
    assert values["abstention"] is None
    assert values["hit@1"] == pytest.approx(1 / 5)


def _answer(passages: list[str], answer: str | None, abstained: bool = False) -> dict:
    """The parts of Answer.to_dict() that judge() reads."""
    return {
        "abstained": abstained,
        "answer": answer,
        "passages": [{"rank": r, "text": t} for r, t in enumerate(passages, start=1)],
    }


def test_judge_ignores_case_whitespace_and_apostrophe_style() -> None:
    gold = GoldQuestion("q", "Where?", ("capital of central China's  Hunan",), None, 1)
    passages = ["Nothing here.", "Changsha, CAPITAL of central\nChina’s Hunan Province."]
    j = judge(gold, _answer(passages, "Changsha, capital of central China’s Hunan Province."), 5.0)
    assert (j.rank, j.correct, j.abstained) == (2, True, False)
    assert j.top5_chars == sum(len(p) for p in passages)


def test_judge_does_not_credit_an_abstention_or_an_unanswerable_question() -> None:
    gold = GoldQuestion("q", "Who?", ("Wu Jingsheng",), None, 1)
    j = judge(gold, _answer(["said Wu Jingsheng."], None, abstained=True), 1.0)
    assert (j.rank, j.correct, j.abstained) == (1, False, True)
    unanswerable = GoldQuestion("u", "Brazil?", (), None, 2)
    assert judge(unanswerable, _answer(["said Wu Jingsheng."], "x"), 1.0).rank is None


def _fake_evaluation(judgements: list[Judgement], modes: tuple = ("hybrid",)) -> Evaluation:
    results = []
    for i, j in enumerate(judgements):
        gold = GoldQuestion(f"q{i}", f"Question {i}?", ("gold",) if j.answerable else (), "doc", i)
        text = "gold" if j.correct else "a passage " * 30
        answer = {
            "abstained": j.abstained,
            "answer": None if j.abstained else text,
            "passages": [{"rank": 1, "doc_id": "other", "text": text, "answer_span": [0, 4]}],
        }
        results.append(Result(gold, answer, j))
    gold_file = Gold(Path("tiny.jsonl"), tuple(r.gold for r in results))
    return Evaluation(gold_file, 10, tuple(ModeRun(m, tuple(results)) for m in modes))


def test_thresholds_fail_below_a_floor_or_above_a_ceiling() -> None:
    evaluation = _fake_evaluation(TINY)
    # hit@1 is 0.2 and false_abstention 0.2 (see TINY).
    assert (
        broken_thresholds(evaluation, parse_thresholds(["hit@1=0.2"], ["false_abstention=0.2"]))
        == []
    )
    broken = broken_thresholds(
        evaluation, parse_thresholds(["hit@1=0.25"], ["false_abstention=0.1"])
    )
    assert broken == [
        "hybrid hit@1 = 0.2, below the required 0.25.",
        "hybrid false_abstention = 0.2, above the allowed 0.1.",
    ]


def test_report_marks_failures_and_fits_100_columns() -> None:
    report = format_report(_fake_evaluation(TINY, modes=("hybrid", "bm25", "dense")))
    header = next(line for line in report.splitlines() if line.startswith("metric"))
    assert header.split()[:7] == ["metric", "hybrid", "bm25", "dense", "vs", "bm25", "vs"]
    assert "ABSTAINED though answerable" in report
    assert "ANSWERED though unanswerable" in report
    assert report.count("Failures, ") == 3
    assert max(len(line) for line in report.splitlines()) <= 100


def _write_gold(path: Path, *items: dict) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def _paths(settings: Settings) -> list[str]:
    return ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_path())]


def test_out_lines_equal_qa_ask_json(
    qa: QA, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = _write_gold(tmp_path / "gold.jsonl", ANSWERABLE, OFF_TOPIC)
    out, png = tmp_path / "results.jsonl", tmp_path / "hits.png"
    code = main(
        [
            "eval",
            str(gold),
            "--mode",
            "all",
            "--json",
            "--out",
            str(out),
            "--plot",
            str(png),
            "--fail-under",
            "hit@1=0.5",
            *_paths(settings),
        ]
    )
    stdout = capsys.readouterr().out
    assert code == 0

    summaries = [json.loads(line) for line in stdout.splitlines()]
    assert [s["mode"] for s in summaries] == ["hybrid", "bm25", "dense"]
    # Every mode puts Wu Jingsheng's passage first.
    assert all((s["answerable"], s["unanswerable"], s["hit@1"]) == (1, 1, 1.0) for s in summaries)

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(line["mode"], line["id"]) for line in lines] == [
        (mode, id_) for mode in ("hybrid", "bm25", "dense") for id_ in ("q-vp", "q-brazil")
    ]
    for line in (lines[0], lines[5]):
        assert (
            main(
                [
                    "ask",
                    line["question"],
                    "--json",
                    "-k",
                    "10",
                    "--mode",
                    line["mode"],
                    *_paths(settings),
                ]
            )
            == 0
        )
        asked = json.loads(capsys.readouterr().out)
        assert {k: v for k, v in line.items() if k not in ("id", "mode")} == asked

    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_fail_under_exits_1_naming_the_metric(
    qa: QA, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An answer string no article holds: no passage can contain it, so hit@1 is 0.
    unfindable = {**ANSWERABLE, "answers": ["no article says this"]}
    gold = _write_gold(tmp_path / "gold.jsonl", unfindable)
    code = main(["eval", str(gold), "--fail-under", "hit@1=0.5", *_paths(settings)])
    captured = capsys.readouterr()
    assert code == 1
    assert "hybrid hit@1 = 0, below the required 0.5" in captured.err
    assert "WRONG answer; no gold passage shown" in captured.out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fail-under", "recall=0.5"], "unknown metric 'recall'"),
        (["--fail-under", "false_abstention=0.1"], "use --fail-over false_abstention=0.1"),
        (["--fail-over", "hit@1"], "expected METRIC=VALUE"),
    ],
)
def test_bad_thresholds_are_usage_errors(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    gold = _write_gold(tmp_path / "gold.jsonl", ANSWERABLE)
    assert main(["eval", str(gold), *flags, *_paths(settings)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"id": "a", "question": "Q?", "answers": []}\n{"id": "b", "question": \n',
            "line 2: not valid JSON",
        ),
        ('{"id": "a", "question": "Q?"}\n', "line 1: missing field 'answers'"),
        ('{"id": "a", "question": "Q?", "answers": "Wu"}\n', "line 1: 'answers' must be a list"),
        ('{"id": 7, "question": "Q?", "answers": []}\n', "line 1: 'id' must be a non-empty string"),
        ('{"id": "a", "question": "Q?", "answers": [], "doc_id": 3}\n', "line 1: 'doc_id'"),
        ('["a", "Q?"]\n', "line 1: expected a JSON object"),
        (
            '{"id": "a", "question": "Q?", "answers": []}\n\n'
            '{"id": "a", "question": "R?", "answers": []}\n',
            "line 3: duplicate id 'a' (first on line 1)",
        ),
        ("\n\n", "is empty"),
    ],
)
def test_bad_gold_files_exit_2_naming_the_line(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(content, encoding="utf-8")
    assert main(["eval", str(gold), *_paths(settings)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {gold}")
    assert message in err


def test_missing_gold_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GoldFileError, match="No gold file at .*absent.jsonl"):
        load_gold(tmp_path / "absent.jsonl")


def test_over_long_question_fails_before_the_model_loads(
    settings: Settings, tmp_path: Path
) -> None:
    gold = _write_gold(tmp_path / "gold.jsonl", {**OFF_TOPIC, "question": "why " * 1000})
    with pytest.raises(GoldFileError, match="line 1: The question is 4,000 characters long"):
        load_gold(gold, settings)


def test_default_gold_file_missing_is_a_usage_error(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["eval", *_paths(settings)]) == 2
    assert "No gold file given" in capsys.readouterr().err
