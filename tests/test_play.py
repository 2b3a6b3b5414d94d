"""The report player of tests/support/play.py, checked against the flow itself: it recognises
every question in every shipped language, and its answers carry a report from the first question
to the receipt. (The tests that play reports over the channels rely on both.)"""

from __future__ import annotations

import re

import pytest

from intake.flows import END, FLOWS, REPORT, find_step
from tests.support.play import REPORT_ANSWERS, choice_labels, catalogs, recognise

ASKED = [(flow.name, step) for flow in (FLOWS["language"], FLOWS["menu"], REPORT) for step in flow.steps
         if not step.is_info or step.goto == END]


def filled(template: str) -> str:
    """A prompt as the service would send it: placeholders filled, a list on its own lines."""
    return re.sub(r"\{(\w+)\}", lambda m: "Line one\nLine two" if m[1] in ("contacts", "summary")
                  else "Demo Relief Agency (DRA)", template)


@pytest.mark.parametrize("language", catalogs().shipped)
def test_every_question_is_recognised_in_every_language(language):
    for flow, step in ASKED:
        for text in (step.prompt, step.again):
            if text is not None:
                said = filled(catalogs().translate(language, text))
                assert recognise(f"A note first.\n{said}\n1. An option") == f"{flow}.{step.name}", said


def test_the_default_answers_carry_a_report_to_the_receipt():
    """Walked through the flow's data: a question added on the way needs its answer in
    REPORT_ANSWERS, and this says which."""
    position, seen = "report.danger", []
    while position != "report.sent":
        step = find_step(position)
        assert position not in seen, f"the default answers go round in circles at {position}"
        seen.append(position)
        if step.is_info:
            position = step.goto
            continue
        assert step.name in REPORT_ANSWERS, f"no answer for {position} in tests/support/play.py REPORT_ANSWERS"
        answer = REPORT_ANSWERS[step.name]
        answer = answer[-1] if isinstance(answer, list) else answer
        if isinstance(answer, str) and choice_labels(position, answer):
            position = next(choice.goto for choice in step.choices if choice.value == answer)
        elif step.append:  # typed parts, then the step's own choice ends them
            position = step.choices[0].goto
        else:
            assert step.validator, f"{position} takes no typed answer: {answer!r}"
            position = step.goto
    assert "report.review" in seen
