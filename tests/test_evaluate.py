"""The evaluator: metric arithmetic by hand, gold file validation, and `qa eval` end to end
over the real corpus and model (small gold files, so it stays quick), and once over the
SQuAD copy in data/squad for the per-kind and span metrics."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from qa import QA, Settings
from qa.cli import main
from qa.errors import GoldFileError
from qa.evaluation.gold import Gold, GoldQuestion, load_gold
from qa.evaluation.judge import (
    FileLocator,
    Judgement,
    file_doc_id,
    hit_curve,
    intervals,
    judge,
    metrics,
    percentile,
    wilson,
)
from qa.evaluation.report import format_report, format_table
from qa.evaluation.run import Evaluation, ModeRun, Result, evaluate, to_json
from qa.evaluation.thresholds import broken_thresholds, parse_thresholds

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT / "data" / "squad"

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
    # No gold spans, kinds or answer lengths: those metrics have no value (or no key).
    for name in ("span_hit@1", "span_hit@5", "span_mrr@10", "answer_span_hit"):
        assert values[name] is None
    assert values["mean_answer_chars"] is None
    assert not any(name.startswith("abstention_") for name in values)


# Kinds, spans and answer lengths. Answerable, with gold spans unless noted:
#   H span at rank 1, answer covers it, 40 chars    I span at rank 4, answer misses, 100
#   J span at rank 7, abstained                      K no span shown, answer misses, 10
#   L answerable without spans (not counted by span metrics), answer 50 chars
# Unanswerable: M near_miss abstained, N near_miss answered (30 chars), O off_corpus
# abstained, P off_corpus abstained, Q no kind, answered (20 chars).
def _spanned(kind: str | None, span_rank: int | None, hit: bool, chars: int | None) -> Judgement:
    answerable = kind == "answerable"
    return Judgement(
        answerable=answerable,
        rank=span_rank if answerable else None,
        abstained=chars is None,
        correct=hit,
        top5_chars=100,
        latency_ms=1.0,
        kind=kind,
        has_spans=answerable and kind is not None,
        span_rank=span_rank,
        answer_span_hit=hit,
        answer_chars=chars,
    )


KINDS = [
    _spanned("answerable", 1, True, 40),
    _spanned("answerable", 4, False, 100),
    _spanned("answerable", 7, False, None),
    _spanned("answerable", None, False, 10),
    Judgement(True, 1, False, True, 100, 1.0, "answerable", False, None, False, 50),
    _spanned("near_miss", None, False, None),
    _spanned("near_miss", None, False, 30),
    _spanned("off_corpus", None, False, None),
    _spanned("off_corpus", None, False, None),
    _spanned(None, None, False, 20),
]


def test_every_share_has_its_95_percent_wilson_interval() -> None:
    spread = intervals(TINY)
    # hit@1 is 1 of 5: p = 0.2, z = 1.96, z^2 = 3.8416; centre (0.2 + 3.8416 / 10) /
    # (1 + 3.8416 / 5) = 0.58416 / 1.76832 = 0.33035; half-width 1.96 * sqrt(0.16 / 5 +
    # 3.8416 / 100) / 1.76832 = 1.96 * 0.26536 / 1.76832 = 0.29413 -> [0.0362, 0.6245].
    assert spread["hit@1"] == pytest.approx((0.0362, 0.6245), abs=1e-4)
    # Abstention is 1 of the 2 unanswerable: p = 0.5, symmetric about 0.5.
    low, high = spread["abstention"]
    assert low == pytest.approx(1 - high) and 0.09 < low < 0.1
    # 0 of n and n of n stay inside [0, 1]: 0 of 20 -> [0, 0.161].
    assert wilson(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson(20, 20) == pytest.approx((0.8389, 1.0), abs=1e-4)
    # Means and latencies are not shares of questions: no interval.
    assert "mean_chars_top5" not in spread and "mrr@10" not in spread


def test_hedges_are_counted_apart_from_answers_and_abstentions() -> None:
    def reply(answerable: bool, hedged: bool, right: bool, kind: str | None = None) -> Judgement:
        return Judgement(
            answerable, 1, False, right and not hedged, 100, 1.0, kind,
            hedged=hedged, sentence_correct=right, answer_chars=50,
        )  # fmt: skip

    # Answerable: right answer, right hedge, wrong hedge. Near misses: a hedge, an answer.
    judgements = [
        reply(True, False, True),
        reply(True, True, True),
        reply(True, True, False),
        reply(False, True, False, "near_miss"),
        reply(False, False, False, "near_miss"),
    ]
    values = metrics(judgements)
    assert values["answer_accuracy"] == pytest.approx(1 / 3)
    assert values["sentence_accuracy"] == pytest.approx(2 / 3)
    assert values["hedged"] == pytest.approx(2 / 3)
    assert values["hedged_right"] == pytest.approx(1 / 3)
    # A hedge is not an abstention: neither answerable hedge is a false abstention, and
    # the hedged near miss is not counted as abstained.
    assert values["false_abstention"] == 0.0
    assert values["abstention_near_miss"] == 0.0
    assert values["hedged_near_miss"] == pytest.approx(1 / 2)


def test_kind_span_and_length_metrics_by_hand() -> None:
    values = metrics(KINDS)
    # Span metrics over H, I, J, K (L has no spans): rank <= 1 only H; <= 5 H and I.
    assert values["span_hit@1"] == pytest.approx(1 / 4)
    assert values["span_hit@5"] == pytest.approx(2 / 4)
    # (1/1 + 1/4 + 1/7 + 0) / 4.
    assert values["span_mrr@10"] == pytest.approx((1 + 1 / 4 + 1 / 7) / 4)
    # Only H's answer sentence covers its span.
    assert values["answer_span_hit"] == pytest.approx(1 / 4)
    # Unanswerable M..Q: M, O, P abstained, 3 of 5; per kind: near_miss 1 of 2,
    # off_corpus 2 of 2; Q has no kind and no metric of its own.
    assert values["abstention"] == pytest.approx(3 / 5)
    assert values["abstention_near_miss"] == pytest.approx(1 / 2)
    assert values["abstention_off_corpus"] == pytest.approx(1.0)
    assert "abstention_answerable" not in values
    assert [n for n in values if n.startswith("abstention")] == [
        "abstention",
        "abstention_near_miss",
        "abstention_off_corpus",
    ]
    # Answered: H 40, I 100, K 10, L 50, N 30, Q 20 -> 250 / 6.
    assert values["mean_answer_chars"] == pytest.approx(250 / 6)


def test_kind_abstention_takes_thresholds() -> None:
    evaluation = _fake_evaluation(KINDS)
    assert broken_thresholds(evaluation, parse_thresholds(["abstention_off_corpus=1"])) == []
    assert broken_thresholds(
        evaluation,
        parse_thresholds(
            ["abstention_near_miss=0.9", "abstention_typo=0.5"], ["mean_answer_chars=40"]
        ),
    ) == [
        "hybrid abstention_near_miss = 0.5, below the required 0.9.",
        "hybrid abstention_typo has no value: the gold file has no questions it counts.",
        "hybrid mean_answer_chars = 41.67, above the allowed 40.",
    ]
    summary = to_json(evaluation)[0]
    assert (summary["abstention_near_miss"], summary["span_hit@5"]) == (0.5, 0.5)
    report = format_report(evaluation)
    for name in ("abstention_near_miss", "abstention_off_corpus", "span_mrr@10", "answer_span_hit"):
        assert f"\n{name} " in report
    assert "unanswerable by kind: 2 near_miss, 2 off_corpus" in report
    assert max(len(line) for line in report.splitlines()) <= 100


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


# A raw article file: "Title\n\n" then the body; the gold answer "1066" sits at 31..35.
ARTICLE = "Normans\n\nHastings was fought in 1066. It ended the reign. Hastings was fought.\n"
SPAN = (ARTICLE.index("1066"), ARTICLE.index("1066") + 4)


def _locate(file: str, text: str, start: int) -> int | None:
    """A `Locate` over one in-memory file, first occurrence only."""
    found = {"a/normans.txt": ARTICLE}.get(file, "").find(text)
    return None if found < 0 else found


def _passage(rank: int, doc_id: str, text: str, answer_span: list[int] | None = None) -> dict:
    return {"rank": rank, "doc_id": doc_id, "start": 0, "text": text, "answer_span": answer_span}


def test_judge_counts_a_passage_only_where_it_covers_a_gold_span_in_the_gold_file() -> None:
    gold = GoldQuestion(
        "q", "When?", ("1066",), None, 1, "answerable", "a/normans.txt", (SPAN, (0, 2))
    )
    answer = {
        "abstained": False,
        "answer": "Hastings was fought in 1066.",
        "passages": [
            # Holds the answer text, but in another document.
            _passage(1, "b/other", "Hastings was fought in 1066."),
            # The right document, but not found in its file.
            _passage(2, "a/normans", "Hastings was fought in 1066 AD."),
            # Found, but cuts the span short.
            _passage(3, "a/normans", "Hastings was fought in 106"),
            # Found and covers it; the answer sentence is its first 28 characters.
            _passage(4, "a/normans", "Hastings was fought in 1066. It ended", [0, 28]),
        ],
    }
    j = judge(gold, answer, 2.0, _locate)
    assert (j.rank, j.has_spans, j.span_rank, j.answer_span_hit, j.correct) == (
        1,
        True,
        4,
        True,
        True,
    )
    assert j.answer_chars == len("Hastings was fought in 1066.")
    # The answer sentence "It ended" (29..37) covers no span; abstaining credits none either.
    answer["passages"][3]["answer_span"] = [29, 37]
    assert judge(gold, answer, 2.0, _locate).answer_span_hit is False
    answer["passages"][3]["answer_span"] = [0, 28]
    abstained = judge(gold, {**answer, "abstained": True, "answer": None}, 2.0, _locate)
    assert (abstained.span_rank, abstained.answer_span_hit, abstained.answer_chars) == (
        4,
        False,
        None,
    )
    # Without a locator, or without spans, no span metric counts the question.
    assert judge(gold, answer, 2.0).span_rank is None
    no_spans = GoldQuestion("q", "When?", ("1066",), None, 1, "answerable", "a/normans.txt")
    assert judge(no_spans, answer, 2.0, _locate).has_spans is False


def test_file_locator_reads_once_and_prefers_the_nearest_occurrence(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "normans.txt").write_bytes(ARTICLE.replace("\n", "\r\n").encode("utf-8"))
    locate = FileLocator(tmp_path)
    # Line ends count as "\n", as the loader makes them.
    assert locate("sub/normans.txt", "1066. It", 0) == SPAN[0]
    # "Hastings was fought" occurs at 9 and 60: the hint picks one.
    second = ARTICLE.rindex("Hastings was fought")
    assert locate("sub/normans.txt", "Hastings was fought", 0) == ARTICLE.index("Hastings")
    assert locate("sub/normans.txt", "Hastings was fought", second - 5) == second
    assert locate("sub/normans.txt", "not in it", 0) is None
    assert locate("sub/absent.txt", "Hastings", 0) is None
    # Read once: the file going away does not change the answer.
    (folder / "normans.txt").unlink()
    assert locate("sub/normans.txt", "1066. It", 0) == SPAN[0]


def test_gold_lines_carry_kind_file_and_spans(tmp_path: Path) -> None:
    gold = _write_gold(
        tmp_path / "gold.jsonl",
        {**ANSWERABLE, "kind": "answerable", "file": "x/a.txt", "spans": [[3, 7], [3, 9]]},
        {**OFF_TOPIC, "kind": "off_corpus", "doc": "ignored"},
    )
    first, second = load_gold(gold).questions
    assert (first.kind, first.file, first.spans) == ("answerable", "x/a.txt", ((3, 7), (3, 9)))
    assert (second.kind, second.file, second.spans) == ("off_corpus", None, ())


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
        answers = ("gold",) if j.answerable else ()
        gold = GoldQuestion(f"q{i}", f"Question {i}?", answers, "doc", i, j.kind)
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


def test_an_interval_never_prints_as_one_number_twice() -> None:
    # 1,998 of 2,000 at rank 1 and 2 abstained: hit@1 0.999, Wilson [0.9964, 0.9997],
    # which two decimals print "1.00-1.00"; false abstention 0.001, [0.0003, 0.0036],
    # "0.00-0.00".
    nearly_all = [_judgement(True, 1, False, True, 100, 1)] * 1998
    nearly_all += [_judgement(True, None, True, False, 100, 1)] * 2
    rows = _table_rows(_fake_evaluation(nearly_all))
    assert rows["hit@1"][1:3] == ["0.999", "0.996-1.000"]
    assert rows["false_abstention"][1:3] == ["0.001", "0.000-0.004"]
    # Where two decimals tell the bounds apart, two it is: hit@1 of TINY is [0.0362, 0.6245].
    assert _table_rows(_fake_evaluation(TINY))["hit@1"][1:3] == ["0.200", "0.04-0.62"]


def test_a_gold_file_of_one_question_is_counted_in_the_singular() -> None:
    one = replace(_fake_evaluation(TINY[:1]), k=1)
    assert format_table(one).splitlines()[0] == (
        "tiny.jsonl: 1 question (1 answerable, 0 unanswerable), 1 passage each"
    )


def _table_rows(evaluation: Evaluation) -> dict[str, list[str]]:
    """The report table's rows by metric name, split into words."""
    return {line.split()[0]: line.split() for line in format_table(evaluation).splitlines() if line}


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
        (["--fail-over", "abstention_near_miss=0.5"], "use --fail-under abstention_near_miss"),
        (["--fail-under", "mean_answer_chars=5"], "use --fail-over mean_answer_chars=5"),
        (["--fail-under", "abstention_Near Miss=0.5"], "abstention_<kind>"),
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
        ('{"id": "a", "question": "Q?", "answers": [], "kind": 1}\n', "line 1: 'kind' must be"),
        ('{"id": "a", "question": "Q?", "answers": [], "kind": "Near miss"}\n', "'kind' must"),
        ('{"id": "a", "question": "Q?", "answers": [], "kind": "answerable"}\n', "no 'answers'"),
        ('{"id": "a", "question": "Q?", "answers": ["x"], "file": ""}\n', "line 1: 'file'"),
        ('{"id": "a", "question": "Q?", "answers": ["x"], "file": ["a"]}\n', "line 1: 'file'"),
        (
            '{"id": "a", "question": "Q?", "answers": ["x"], "file": "a.txt", "spans": [3, 4]}\n',
            "line 1: 'spans' must be a list of [start, end]",
        ),
        (
            '{"id": "a", "question": "Q?", "answers": ["x"], "file": "a.txt", "spans": [[4, 4]]}\n',
            "line 1: 'spans' must be",
        ),
        (
            '{"id": "a", "question": "Q?", "answers": ["x"], "file": "a", "spans": [[1, "2"]]}\n',
            "line 1: 'spans' must be",
        ),
        (
            '{"id": "a", "question": "Q?", "answers": ["x"], "file": "a", "spans": [[0, true]]}\n',
            "line 1: 'spans' must be",
        ),
        ('{"id": "a", "question": "Q?", "answers": ["x"], "spans": [[1, 2]]}\n', "needs a 'file'"),
        (
            '{"id": "a", "question": "Q?", "answers": [], "file": "a", "spans": [[1, 2]]}\n',
            "'spans' on a question with no 'answers'",
        ),
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


def test_the_gold_file_is_required(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # No default: the gold files are in a checkout's tests/gold/, not in the package.
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", *_paths(settings)])
    assert exit_info.value.code == 2
    assert "the following arguments are required: GOLD.jsonl" in capsys.readouterr().err


@pytest.fixture(scope="module")
def squad(tmp_path_factory: pytest.TempPathFactory) -> tuple[QA, Path]:
    """The engine over data/squad/articles (index built once, in a temporary folder), and a
    gold file of 10 of its dev questions: 4 answerable with spans, 3 near misses, 3 off
    the corpus."""
    if not (SQUAD / "dev.jsonl").is_file():
        pytest.skip("no SQuAD copy in data/squad")
    lines = [json.loads(line) for line in (SQUAD / "dev.jsonl").read_text("utf-8").splitlines()]
    picked = [
        line
        for kind, n in (("answerable", 4), ("near_miss", 3), ("off_corpus", 3))
        for line in [line for line in lines if line.get("kind") == kind][:n]
    ]
    root = tmp_path_factory.mktemp("squad")
    gold = _write_gold(root / "gold.jsonl", *picked)
    settings = Settings(corpus_dir=SQUAD / "articles", index_dir=root / "index")
    return QA.open(settings, log=lambda message: None, progress=False), gold


def test_squad_eval_reports_kind_abstention_and_span_hits(
    squad: tuple[QA, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    qa, gold = squad
    flags = ["--fail-under", "abstention_off_corpus=0", "--fail-over", "mean_answer_chars=1e6"]
    code = main(["eval", str(gold), "--json", *flags, *_paths(qa.settings)])
    assert code == 0
    (summary,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (summary["answerable"], summary["unanswerable"]) == (4, 6)
    for name in (
        "abstention_near_miss",
        "abstention_off_corpus",
        "span_hit@1",
        "span_hit@5",
        "span_mrr@10",
        "answer_span_hit",
    ):
        assert 0 <= summary[name] <= 1, name
    # A passage that covers a gold span holds that answer: span hits never exceed hits.
    assert summary["span_hit@5"] <= summary["hit@5"]
    # Every rate comes with its 95% interval, which holds the rate.
    for name in ("hit@1", "answer_accuracy", "false_abstention", "abstention_off_corpus"):
        low, high = summary["intervals"][name]
        assert low <= summary[name] <= high and high - low > 0.05, name
    assert summary["mean_answer_chars"] is None or summary["mean_answer_chars"] > 0


def test_squad_passages_are_found_in_their_files(squad: tuple[QA, Path]) -> None:
    qa, gold_path = squad
    gold = load_gold(gold_path)
    evaluation = evaluate(qa, gold, ("bm25",), log=lambda message: None)
    locate = FileLocator(qa.settings.corpus_dir)
    shown = [
        (r.gold.file, p)
        for r in evaluation.runs[0].results
        if r.gold.file
        for p in r.answer["passages"]
        if p["doc_id"] == file_doc_id(r.gold.file)
    ]
    assert shown
    for file, p in shown:
        offset = locate(file, p["text"], p["start"])
        assert offset is not None, p["chunk_id"]
    report = format_report(evaluation)
    assert "\nabstention_near_miss " in report and "\nspan_hit@1 " in report
