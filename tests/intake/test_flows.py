"""The flow data is consistent, and its diagram is current."""

from __future__ import annotations

import pytest

from intake import diagram
from intake.flows import END, FLOWS, RESUME, Flow, Step, check_flows, find_step
from i18n.text import Text
from intake.validators import VALIDATORS, Invalid, Valid, free_text


def test_every_goto_names_an_existing_step():
    for flow in FLOWS.values():
        for step in flow.steps:
            for target in [c.goto for c in step.choices] + ([step.goto] if step.goto else []):
                assert target in (RESUME, END) or find_step(target)


def test_a_typo_in_a_goto_is_caught(monkeypatch):
    broken = dict(FLOWS, broken=Flow("broken", (Step("a", Text("A"), goto="menu.nowhere"),)))
    monkeypatch.setattr("intake.flows.FLOWS", broken)
    with pytest.raises(KeyError, match="nowhere"):
        check_flows()


def test_an_unknown_validator_is_caught(monkeypatch):
    broken = dict(FLOWS, broken=Flow("broken", (
        Step("a", Text("A"), validator="no_such_check", store="a", goto="menu"),)))
    monkeypatch.setattr("intake.flows.FLOWS", broken)
    with pytest.raises(KeyError, match="no_such_check"):
        check_flows()


@pytest.mark.parametrize("text, ok", [("He touched me", True), ("ကျွန်မ", True), ("42", True),
                                      ("", False), ("   ", False), ("🙏🙏", False), ("?!", False)])
def test_free_text_validator(text, ok):
    outcome = free_text(text)
    assert isinstance(outcome, Valid if ok else Invalid)
    assert "free_text" in VALIDATORS


def test_diagram_is_current():
    assert diagram.OUTPUT.read_text(encoding="utf-8") == diagram.render(), \
        "intake/flows.md is stale: run `python -m intake.diagram`"
    assert "menu_main -- \"Report a concern\" --> report_danger" in diagram.render()
    assert "report_sent --> finish" in diagram.render()


def test_every_action_a_flow_names_exists():
    from intake.engine import ACTIONS

    named = {action for flow in FLOWS.values() for step in flow.steps
             for action in (step.action, *(choice.action for choice in step.choices)) if action}
    assert named == set(ACTIONS)
