"""What the property-based (hostile input) tests share: the hypothesis profiles, strategies for
hostile text, fields and JSON, the checks every answer and every database state must pass, and the
counts of inputs tried per target (printed at the end of the run, see tests/conftest.py).

Profiles: "ci" (the default, `make test`): a fixed, small number of examples per target,
derandomized so a CI run is repeatable, no example database; "fuzz" (`make fuzz`): twenty times as
many, random, with hypothesis's example database so a failure found once is tried first next time.
HYPOTHESIS_PROFILE picks one; FUZZ_EXAMPLES overrides the number of examples of either.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import Conversation, InboundMessage, OutboxMessage, Referral, ReferralEvent, Report

CI_EXAMPLES = 25
_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
               HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_SUPPRESSED, print_blob=True)
settings.register_profile("fuzz", max_examples=CI_EXAMPLES * 20, deadline=None,
                          suppress_health_check=_SUPPRESSED, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
if os.environ.get("FUZZ_EXAMPLES"):
    settings.register_profile("override", parent=settings(), max_examples=int(os.environ["FUZZ_EXAMPLES"]))
    settings.load_profile("override")


def examples(factor: float = 1.0) -> settings:
    """The current profile with `factor` times its examples (slow targets take fewer)."""
    return settings(max_examples=max(1, int(settings().max_examples * factor)))


# --- counts ---------------------------------------------------------------------------------------

# target -> status code -> how many answers
TRIED: dict[str, Counter] = defaultdict(Counter)


def record(target: str, status: int) -> None:
    TRIED[target][status] += 1


def summary_lines() -> list[str]:
    lines = []
    for target in sorted(TRIED):
        counts = TRIED[target]
        total = sum(counts.values())
        errors = sum(n for status, n in counts.items() if status >= 500)
        statuses = ", ".join(f"{status}×{n}" for status, n in sorted(counts.items()))
        lines.append(f"{target}: {total} inputs, {errors} 5xx ({statuses})")
    return lines


# --- hostile text ---------------------------------------------------------------------------------

BURMESE = "မင်္ဂလာပါ ကျွန်တော် အကူအညီ လိုပါတယ် ၁၂၃"
ZAWGYI = "ေက်းဇူးတင္ပါတယ္ ျမန္မာ"  # Burmese as a Zawgyi phone writes it
NASTY = [
    "", " ", "\x00", "\r\n", "\ufeff", "\u202e", "\ud7ff", "\U0001f600" * 40, "A\u0301" * 30,
    "' OR 1=1 --", "<script>alert(1)</script>", "{{ 7*7 }}", "%s%n%x", "../../etc/passwd",
    "null", "NaN", "-1", "0", "9" * 40, "1e309", "[]", "{}", "STOP", "START", "HELP", "cancel",
    "report", "1", "2", "yes", "no", BURMESE, ZAWGYI, "x" * 2000, "\u1000" * 1600,
    "𝒯𝑒𝓍𝓉", "+959450001111", "AB12-CD34-EF56", "ＡＢＣ", "\t\v\f",
]


def hostile_text(max_size: int = 300) -> st.SearchStrategy[str]:
    """Text a prober or a confused phone sends: any Unicode (lone surrogates excluded, which no
    encoder can send), control characters, Burmese and Zawgyi, commands, and long runs."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=max_size),
        st.text(alphabet=st.characters(min_codepoint=0x1000, max_codepoint=0x109F), max_size=max_size),
        st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Mn"]), max_size=40),
    )


def form_fields(known: list[str], *, choices: dict[str, list[str]] | None = None,
                max_extra: int = 3) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Form fields as (name, value) pairs: the route's own names (some left out, some sent twice)
    with plausible or hostile values, plus unknown names."""
    choices = choices or {}

    def value_for(name: str) -> st.SearchStrategy[str]:
        plausible = choices.get(name, [])
        return st.one_of(st.sampled_from(plausible), hostile_text()) if plausible else hostile_text()

    own = [st.lists(value_for(name), max_size=2).map(lambda values, name=name: [(name, v) for v in values])
           for name in known]
    extra = st.lists(st.tuples(hostile_text(30), hostile_text(60)), max_size=max_extra)
    return st.tuples(st.tuples(*own) if own else st.just(()), extra).map(
        lambda parts: [pair for group in parts[0] for pair in group] + list(parts[1]))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text(80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text(20), children, max_size=4),
    max_leaves=12,
)


# --- checks ---------------------------------------------------------------------------------------

def assert_clear_answer(response, *, target: str) -> None:
    """Never a 5xx; a 4xx says why (a JSON reason or an error page with its title)."""
    record(target, response.status_code)
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{target}: {response.status_code} {body[:500]}"
    if 400 <= response.status_code < 500:
        if response.is_json:
            reason = (response.get_json(silent=True) or {}).get("error")
            assert reason, f"{target}: a {response.status_code} without a reason: {body[:300]}"
        else:
            assert body.strip(), f"{target}: an empty {response.status_code}"


def assert_consistent(app) -> None:
    """Nothing half-written: every report has a referral and every referral a report; every
    queued outbox message has its recipient and body; every event belongs to a referral; every
    open conversation has been active; every remembered message points at a conversation."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        def count(statement) -> int:
            return db.execute(statement).scalar_one()

        assert count(select(func.count()).select_from(Report).where(
            ~select(Referral.id).where(Referral.report_id == Report.id).exists())) == 0, "a report without referrals"
        assert count(select(func.count()).select_from(Referral).where(
            ~select(Report.id).where(Report.id == Referral.report_id).exists())) == 0, "a referral without its report"
        assert count(select(func.count()).select_from(ReferralEvent).where(
            ~select(Referral.id).where(Referral.id == ReferralEvent.referral_id).exists())) == 0, "an orphan event"
        assert count(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(("pending", "sending")),
            (OutboxMessage.payload.is_(None)) | (OutboxMessage.recipient.is_(None)))) == 0, \
            "a queued outbox message without its recipient or body"
        assert count(select(func.count()).select_from(Conversation).where(
            Conversation.state.is_not(None), Conversation.last_active_at.is_(None))) == 0, \
            "an open conversation never active"
        assert count(select(func.count()).select_from(Conversation).where(Conversation.turns < 0)) == 0
        assert count(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.conversation_id.is_not(None),
            ~select(Conversation.id).where(Conversation.id == InboundMessage.conversation_id).exists())) == 0, \
            "a remembered message of a conversation that is gone"
