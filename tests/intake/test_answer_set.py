"""The answer set (tests/data/answer_set.tsv) as a regression test, through the real engine: not
one false accept, and every answer expected to be understood is understood; the held-out set
(answers never added to the lists) may be refused, but never misread. The set covers every
choice question, and each yes/no question in every language with at least 25 answers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from intake.flows import FLOWS
from tests.benchmarks.answer_acceptance import REFUSE, ask, evaluate, main, read_set

DATA = Path(__file__).resolve().parents[1] / "data"
ENTRIES = read_set(DATA / "answer_set.tsv")
HELD_OUT = read_set(DATA / "answer_set_heldout.tsv")
YES_NO = ("report.danger", "report.child", "report.contact")


def describe(outcomes) -> list[str]:
    return [f"line {o.entry.line}: {o.entry.language} {o.entry.question} {o.entry.text!r} -> {o.got} "
            f"(expected {o.entry.expected})" for o in outcomes]


def test_no_answer_of_the_set_is_misread():
    outcomes = evaluate(ENTRIES)
    assert describe(o for o in outcomes if o.false_accept) == []


def test_every_answer_expected_to_be_understood_is():
    outcomes = evaluate(ENTRIES)
    assert describe(o for o in outcomes if o.entry.expected != REFUSE and not o.correct) == []


def test_no_held_out_answer_is_misread():
    outcomes = evaluate(HELD_OUT)
    assert describe(o for o in outcomes if o.false_accept) == []
    understood = sum(o.correct for o in outcomes if o.entry.expected != REFUSE)
    assert understood / sum(o.entry.expected != REFUSE for o in outcomes) > 0.5  # the README's figure


def test_without_the_lists_far_fewer_answers_are_understood():
    # The figure "before" in the README: numbers, labels and catalog words only.
    before = evaluate(ENTRIES, natural=False)
    after = evaluate(ENTRIES)
    assert sum(o.correct for o in before) < 0.7 * sum(o.correct for o in after)


def test_the_set_covers_every_choice_question_and_language():
    asked = {entry.question for entry in ENTRIES}
    choice_questions = {f"{flow.name}.{step.name}" for flow in FLOWS.values() for step in flow.steps if step.is_choice}
    assert choice_questions <= asked
    counts = Counter((entry.language, entry.question) for entry in ENTRIES)
    for language in ("en", "my", "kac", "ksw", "shn"):
        for question in YES_NO:
            assert counts[(language, question)] >= 25, (language, question)
    kinds = {(entry.language, entry.expected) for entry in ENTRIES if entry.question in YES_NO}
    for language in ("en", "my", "kac", "ksw", "shn"):
        assert {(language, "yes"), (language, "no"), (language, REFUSE)} <= kinds  # negations and refusals too


def test_a_broken_list_would_be_caught(monkeypatch):
    """The set can fail: with "ok" read as yes at the danger question, a false accept is counted."""
    from tests.benchmarks import answer_acceptance as bench

    entry = next(e for e in ENTRIES if e.question == "report.danger" and e.text == "ok")
    assert ask(entry) == REFUSE
    words = bench.engine.shipped_answers().by_language["en"].steps["report.danger"]
    monkeypatch.setitem(words, "yes", (*words["yes"], "ok"))
    bench.engine.shipped_answers()._cache.clear()
    bench.engine._choice_words.cache_clear()
    try:
        assert ask(entry) == "yes"
    finally:
        monkeypatch.undo()
        bench.engine.shipped_answers()._cache.clear()
        bench.engine._choice_words.cache_clear()
    assert ask(entry) == REFUSE


def test_the_benchmark_prints_its_tables(capsys):
    assert main(["--compare"]) == 0
    printed = capsys.readouterr().out
    assert "FALSE ACCEPTS" in printed and "accepted before" in printed and "false accepts: 0" in printed

