"""The user's verdicts: kept from the chat's thumbs, read back, and the threshold they set
for one index (`qa calibrate`), on the real corpus and the real answer model."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from conftest import CORPUS, GOLD

from qa import QA, Settings
from qa.answer.question_features import QUESTION_FEATURES
from qa.answer.verdicts import (
    MIN_EACH,
    MIN_VERDICTS,
    Point,
    choose_threshold,
    enough,
    operating_curve,
    read_points,
)
from qa.cli import main
from qa.engine import ensure_index
from qa.evaluation import load_gold
from qa.evaluation.judge import contains_answer
from qa.index.manifest import read_manifest
from qa.ui.chat import ChatApp, Conversation

PERU = "What is the capital of Peru?"

# --- the arithmetic, on made-up points ----------------------------------------------


def test_the_threshold_moves_only_as_far_as_the_verdicts_show() -> None:
    answer = [Point(p, True) for p in (0.9, 0.8, 0.5, 0.45, 0.05)]
    points = answer + [Point(p, False) for p in (0.2, 0.3, 0.6)]
    # One of five answerable ones abstained on at 0.45 is over a 3% budget for sure (the
    # Wilson lower bound of 1/5 is 3.6%): down to just under 0.05, the lowest, halfway
    # to the cut below all points.
    assert choose_threshold(points, shipped=0.45, false_abstention=0.03) == pytest.approx(0.025)
    # At a 20% budget one in five is within it: no move.
    assert choose_threshold(points, shipped=0.45, false_abstention=0.2) == 0.45
    # Up: five verdicts cannot show that 3% (or 20%) is kept.
    assert choose_threshold(points, shipped=0.01, false_abstention=0.03) == 0.01
    assert choose_threshold(points, shipped=0.01, false_abstention=0.2) == 0.01
    curve = {
        round(o.threshold, 6): (o.wrongly_shown, o.wrongly_abstained)
        for o in operating_curve(points, 0.45)
    }
    assert curve[0.025] == (3, 0) and curve[0.375] == (1, 1) and curve[0.45] == (1, 1)
    assert curve[0.55] == (1, 3)
    # 200 right answers from 0.5 up: sure enough (Wilson upper bound of 1/200 is 2.8%,
    # of 2/200 3.6%) to lose the lowest one, not two.
    many = [Point(0.5 + i / 500, True) for i in range(200)]
    many += [Point(p, False) for p in (0.1, 0.2, 0.3, 0.4, 0.45)]
    assert choose_threshold(many, shipped=0.03, false_abstention=0.03) == pytest.approx(0.501)
    # One abstention judged wrong among 200 is within the budget: it does not pull the
    # threshold down, and up it goes to just under the lowest right answer above it.
    low = [*many[1:], Point(0.001, True)]
    assert choose_threshold(low, shipped=0.03, false_abstention=0.03) == pytest.approx(0.476)


def test_enough_needs_thirty_and_five_of_each() -> None:
    assert MIN_VERDICTS == 30 and MIN_EACH == 5
    assert not enough([Point(0.5, True)] * 26 + [Point(0.1, False)] * 3)
    assert not enough([Point(0.5, True)] * 26 + [Point(0.1, False)] * 4)
    assert enough([Point(0.5, True)] * 25 + [Point(0.1, False)] * 5)


def test_the_last_verdict_on_a_reply_counts(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.jsonl"
    lines = [
        {"answer_id": "a", "probability": 0.4, "should_answer": True},
        {"answer_id": "b", "probability": 0.2, "should_answer": False},
        {"answer_id": "a", "probability": 0.4, "should_answer": False},
        {"answer_id": "b", "probability": 0.2, "should_answer": None},  # taken back
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert read_points(path) == [Point(0.4, False)]
    assert read_points(tmp_path / "none.jsonl") == []


# --- on the real engine -------------------------------------------------------------


def like(app: ChatApp, conversation: Conversation, position: int, liked: bool | None) -> None:
    app.judge(conversation, gr.LikeData(None, {"index": position, "value": "", "liked": liked}))


def ask_and_judge(app: ChatApp, conversation: Conversation, question, liked=None) -> None:
    """A chat turn, then a verdict the way a careful user gives it: up on a sentence that
    holds the gold answer or on an abstention from an unanswerable question, down else;
    and this user wants near misses (the articles say something close) answered too."""
    *_, (_, _, _, conversation) = app.respond(question.question, conversation, 5, "hybrid", False)
    position = max(conversation.replies)
    answer = conversation.replies[position].answer
    if liked is None:
        if answer.text is None:
            liked = not (question.answerable or question.kind == "near_miss")
        else:
            liked = question.answerable and contains_answer(answer.text, question.answers)
    like(app, conversation, position, liked)


def test_a_verdict_keeps_what_the_model_saw_beside_the_index(private_qa: QA) -> None:
    app, conversation = ChatApp(private_qa), Conversation()
    *_, (_, _, _, conversation) = app.respond(PERU, conversation, 5, "hybrid", False)
    position = max(conversation.replies)
    like(app, conversation, position, False)
    like(app, conversation, position - 1, True)  # the question bubble: not an answer
    path = private_qa.settings.verdicts_path()
    assert path == private_qa.settings.index_path().with_name("index-verdicts.jsonl")
    (record,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    answer = conversation.replies[position].answer
    assert record["question"] == PERU and record["searched"] == answer.searched
    assert record["probability"] == pytest.approx(answer.confidence)
    assert record["should_answer"] is (answer.text is None)  # down: it was wrong
    assert set(record["features"]) == set(QUESTION_FEATURES)
    assert record["cited"] == [c.document.id for c in answer.citations]
    like(app, conversation, position, None)  # the thumb clicked again: taken back
    assert read_points(path) == []


def test_recorded_verdicts_move_this_index_threshold(
    private_qa: QA, capsys: pytest.CaptureFixture[str]
) -> None:
    app, conversation = ChatApp(private_qa), Conversation()
    gold = load_gold(GOLD / "dev.jsonl").questions + load_gold(GOLD / "off_topic.jsonl").questions
    argv = [
        "--corpus",
        str(private_qa.settings.corpus_dir),
        "--index-dir",
        str(private_qa.settings.index_dir),
    ]
    shipped = private_qa.answer_model.hedge

    # Too few: the curve, and nothing set.
    for question in gold[:10]:
        ask_and_judge(app, conversation, question)
    assert main(["calibrate", *argv]) == 0
    out = capsys.readouterr().out
    assert "10 verdicts in" in out and "At least 30 verdicts" in out
    assert read_manifest(private_qa.settings.index_path()).calibration is None

    for question in gold[10:]:
        ask_and_judge(app, conversation, question)
    points = read_points(private_qa.settings.verdicts_path())
    assert enough(points)
    assert main(["calibrate", *argv]) == 0
    out = capsys.readouterr().out
    calibration = read_manifest(private_qa.settings.index_path()).calibration
    assert calibration is not None and calibration["verdicts"] == len(points)
    threshold = calibration["threshold"]
    # This user wanted more answered than the model does: the threshold went down.
    assert threshold < shipped and f"abstains below {threshold:.4f}" in out
    assert "<- chosen" in out and "<- the answer model's" in out

    # Within the model's false-abstention budget on the replies that should have answered.
    answerable = [p.probability for p in points if p.should_answer]
    assert sum(p < threshold for p in answerable) <= 0.03 * len(answerable)
    # Asked again, each judged question is decided at the new threshold, and says so.
    assert main(["ask", PERU, "--json", *argv]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["threshold"] == pytest.approx(threshold, abs=1e-4)
    assert reply["threshold_from"] == "verdicts"
    assert reply["abstained"] == (reply["confidence"] < threshold)

    # A rebuild (the corpus changed) keeps it; --reset goes back to the model's own.
    (private_qa.settings.corpus_dir / "extra.txt").write_text(
        "Extra\n\nThe Pemberly ferry runs twice a day.", encoding="utf-8"
    )
    rebuilt = ensure_index(
        private_qa.settings, private_qa.embedder, log=lambda m: None, progress=False
    )
    assert rebuilt.manifest.calibration == calibration
    assert main(["calibrate", "--reset", *argv]) == 0
    capsys.readouterr()
    assert read_manifest(private_qa.settings.index_path()).calibration is None
    assert main(["ask", PERU, "--json", *argv]) == 0
    assert json.loads(capsys.readouterr().out)["threshold_from"] == "answer model"


def test_a_broken_verdicts_file_is_one_line_and_changes_nothing(
    private_qa: QA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"answer_id": "a", "probability": 0.5, "should_answer": true}\nnot json\n')
    before = (private_qa.settings.index_path() / "manifest.json").read_bytes()
    argv = [
        "--corpus",
        str(private_qa.settings.corpus_dir),
        "--index-dir",
        str(private_qa.settings.index_dir),
    ]
    assert main(["calibrate", "--verdicts", str(bad), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"Error: Line 2 of {bad} is not a verdict (Expecting value: line 1 column 1 (char 0))."
    ]
    assert (private_qa.settings.index_path() / "manifest.json").read_bytes() == before
    assert main(["calibrate", "--verdicts", str(tmp_path / "none.jsonl"), *argv]) == 2
    assert capsys.readouterr().err == f"Error: No verdicts file at {tmp_path / 'none.jsonl'}.\n"
    missing = Settings(corpus_dir=CORPUS, index_dir=tmp_path / "nothing")
    code = main(["calibrate", "--corpus", str(CORPUS), "--index-dir", str(missing.index_dir)])
    assert code != 0 and "No index at" in capsys.readouterr().err
