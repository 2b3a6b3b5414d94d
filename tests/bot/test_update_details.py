""""Update my details" over the Twilio webhook, as a registered person plays it: proving who they
are (from the number on record, or from another with a one-time code), the changes they may ask
for, seeing and erasing their data; and as an attacker would: the same answer for an unknown
number and a wrong date, the lockout, codes that expire and work once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from storage import crypto
from storage.models import NeedCount, OneTimeCode, Registration, RegistrationHistory
from tests.conftest import Phone
from tests.support.directory import with_directory
from tests.support.registrations import BORN, NUMBER, OTHER_PHONE, PHONE, queued_changes, record, register
from tests.test_privacy import database_bytes

CHOOSE = "What to change?"


@pytest.fixture
def app(make_app, fake_twilio):
    return with_directory(make_app(TWILIO_API_BASE_URL=fake_twilio.url))


@pytest.fixture
def registered(app) -> int:
    return register(app)


def option(replies: list[str], label: str) -> str:
    """The number of the option `label` in the last reply."""
    match = re.search(rf"^(\d+)\. {re.escape(label)}$", replies[-1], re.MULTILINE)
    assert match, (label, replies)
    return match.group(1)


def start_update(phone: Phone) -> list[str]:
    """From wherever the conversation is (or none): the main menu, then "Update my details"."""
    replies = phone.say("menu")
    if "Choose your language" in replies[-1]:
        replies = phone.say(option(replies, "English"))
    return phone.say(option(replies, "Update my details"))


def prove(phone: Phone, number: str = NUMBER, born: str = "17-04-1990") -> list[str]:
    assert "registration number" in start_update(phone)[-1]
    assert "date of birth" in phone.say(number)[-1]
    return phone.say(born)


def codes_sent(fake_twilio, to: str) -> list[str]:
    return [re.search(r"\b(\d{6})\b", request.body).group(1) for request in fake_twilio.requests if request.to == to]


def choose(phone: Phone, replies: list[str], label: str) -> list[str]:
    return phone.say(option(replies, label))


def count(app, model) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- proving who you are ---------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["mmr 17 000123", "MMR17000123", "mmr-17-၀၀၀၁၂၃"])
def test_from_the_number_on_record_the_details_are_enough(app, registered, typed, fake_twilio):
    replies = prove(Phone(app.test_client(), PHONE), number=typed)
    assert CHOOSE in replies[-1]
    assert fake_twilio.requests == []  # no code needed


@pytest.mark.parametrize("born", ["17/4/1990", "1990-04-17", "17.04.1990", "၁၇-၀၄-၁၉၉၀"])
def test_dates_of_birth_are_read_the_ways_people_write_them(app, registered, born):
    assert CHOOSE in prove(Phone(app.test_client(), PHONE), born=born)[-1]


def test_a_year_alone_proves_a_record_that_holds_only_the_year(app):
    register(app, date_of_birth="1987")
    assert CHOOSE in prove(Phone(app.test_client(), PHONE), born="1987")[-1]


def test_a_year_alone_does_not_prove_a_full_date_on_record(app, registered):
    assert "do not match" in prove(Phone(app.test_client(), PHONE), born="1990")[0]


def test_from_another_number_a_code_goes_to_the_number_on_record(app, registered, fake_twilio):
    phone = Phone(app.test_client(), OTHER_PHONE)
    replies = prove(phone)
    assert "6-digit code" in replies[-1] and CHOOSE not in replies[-1]
    [code] = codes_sent(fake_twilio, PHONE)
    assert codes_sent(fake_twilio, OTHER_PHONE) == []
    assert CHOOSE in phone.say(f" {code[:3]} {code[3:]} ")[-1]  # spaces as people type them


def test_unknown_number_and_wrong_date_get_the_same_answer_with_the_same_work(app, registered, monkeypatch):
    derivations = []
    real = crypto.Vault.dob_check
    monkeypatch.setattr(crypto.Vault, "dob_check", lambda self, *args: derivations.append(1) or real(self, *args))
    unknown = prove(Phone(app.test_client(), "+959450003333"), number="MMR-99-999999")
    assert len(derivations) == 1
    wrong_date = prove(Phone(app.test_client(), "+959450004444"), born="18-04-1990")
    assert len(derivations) == 2  # one slow check each: no faster "no such number"
    assert unknown == wrong_date
    assert "do not match" in unknown[0] and "registration number" in unknown[-1]


def test_five_failures_lock_a_registration_number_against_every_other_sender(app, registered, clock):
    for attempt in range(5):
        replies = prove(Phone(app.test_client(), f"+95945000{attempt:04d}"), born="01-01-1980")
    assert "wait 30 minutes" in replies[0]
    # Even the right details from yet another phone now wait, and are told for how long...
    assert "wait 30 minutes" in prove(Phone(app.test_client(), OTHER_PHONE))[0]
    clock.advance(minutes=31)
    assert "6-digit code" in prove(Phone(app.test_client(), OTHER_PHONE))[-1]


def test_others_failures_do_not_lock_the_owner_out_of_their_own_phone(app, registered):
    for attempt in range(6):
        prove(Phone(app.test_client(), f"+95945000{attempt:04d}"), born="01-01-1980")
    assert CHOOSE in prove(Phone(app.test_client(), PHONE))[-1]


def test_right_details_cannot_fetch_code_after_code(app, registered, fake_twilio):
    """Each code sent counts as a try: right details alone do not buy endless guesses (or SMS)."""
    phone = Phone(app.test_client(), OTHER_PHONE)
    for _ in range(2):
        assert "6-digit code" in prove(phone)[-1]
        assert "not right" in phone.say("000000")[0]
    assert "wait 30 minutes" in prove(phone)[0]  # code, wrong, code, wrong, and the fifth try
    assert len(codes_sent(fake_twilio, PHONE)) == 2


def test_five_failures_lock_a_sender_whatever_numbers_it_tries(app, registered, clock):
    phone = Phone(app.test_client(), OTHER_PHONE)
    for attempt in range(5):
        replies = prove(phone, number=f"MMR-55-{attempt:06d}")
    assert "Please wait 30 minutes" in replies[0]
    clock.advance(minutes=10)
    assert "wait 20 minutes" in prove(phone)[0]
    assert CHOOSE in prove(Phone(app.test_client(), PHONE))[-1]  # the record itself is not locked


def test_a_code_expires_after_ten_minutes(app, registered, fake_twilio, clock):
    phone = Phone(app.test_client(), OTHER_PHONE)
    prove(phone)
    [code] = codes_sent(fake_twilio, PHONE)
    clock.advance(minutes=10, seconds=1)
    replies = phone.say(code)
    assert "expired" in replies[0] and "registration number" in replies[-1]


def test_a_code_works_once(app, registered, fake_twilio):
    phone = Phone(app.test_client(), OTHER_PHONE)
    prove(phone)
    [code] = codes_sent(fake_twilio, PHONE)
    assert CHOOSE in phone.say(code)[-1]
    phone.say("menu")
    assert "6-digit code" in prove(phone)[-1]
    assert "expired" not in phone.say(code)[0]  # the old code is refused as wrong...
    assert "not right" in phone.say(code)[0]
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(func.count()).select_from(OneTimeCode)
                               .where(OneTimeCode.used_at.is_(None))).scalar_one() == 1


def test_wrong_codes_count_towards_the_lockout(app, registered, fake_twilio):
    phone = Phone(app.test_client(), OTHER_PHONE)
    prove(phone)
    for _ in range(3):  # the code sent was the first try
        assert "not right" in phone.say("000000")[0]
    assert "wait 30 minutes" in phone.say("000000")[0]


def test_an_inactive_record_cannot_be_used(app):
    register(app, status="inactive")
    assert "cannot be updated here" in prove(Phone(app.test_client(), PHONE))[0]


def test_without_registrations_the_service_says_it_is_not_available(app):
    assert "not available yet" in start_update(Phone(app.test_client(), PHONE))[0]


# --- what a person can change ------------------------------------------------------------------

def test_changing_township_and_address_waits_for_a_caseworker(app, registered):
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Address")
    assert "township" in replies[-1]
    replies = phone.say("Sittwe")
    assert "short address" in replies[-1]
    replies = phone.say("Ward 3, block 12")
    assert "caseworker will check" in replies[0] and CHOOSE in replies[-1]
    assert [(c["kind"], c["old"], c["new"], c["status"]) for c in queued_changes(app)] == [
        ("township", "MMR013017", "MMR012001", "pending"), ("address", None, "Ward 3, block 12", "pending")]
    assert record(app, registered)[1]["township"] == "MMR013017"  # unchanged until approved
    assert queued_changes(app)[0]["reply_to"] == {"channel": "sms", "address": PHONE}


def test_changing_the_phone_number_needs_both_codes(app, registered, fake_twilio):
    new_number = "+959450009999"
    phone = Phone(app.test_client(), OTHER_PHONE)
    prove(phone)
    [first] = codes_sent(fake_twilio, PHONE)
    replies = choose(phone, phone.say(first), "Phone number")
    assert "new phone number" in replies[-1]
    assert "code to the new number" in phone.say("09 4500 09999".replace("09 4500 09999", new_number))[-1]
    [second] = codes_sent(fake_twilio, new_number)
    assert queued_changes(app) == []  # not before the new number is proved
    assert "not right" in phone.say(first)[0]  # the first code proves nothing about the new number
    replies = phone.say(second)
    assert "caseworker will check" in replies[0]
    [change] = queued_changes(app)
    assert (change["kind"], change["old"], change["new"]) == ("phone", PHONE, new_number)


def test_education_and_work_are_chosen_from_coded_lists(app, registered):
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Education")
    replies = choose(phone, replies, "High school")
    replies = choose(phone, replies, "Work")
    choose(phone, replies, "Business or trade")
    assert [(c["kind"], c["old"], c["new"]) for c in queued_changes(app)] == [
        ("education", "PRIM", "HIGH"), ("occupation", "DAYL", "TRADE")]


def test_needs_in_plain_words_are_mapped_and_never_echoed(app, registered):
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Needs")
    words = "My husband cannot walk since the flood and I am pregnant"
    replies = phone.say(words)
    assert "caseworker will look" in replies[0]
    assert not any(word in " ".join(replies) for word in ("walk", "pregnant", "flood"))
    [change] = queued_changes(app)
    assert change["kind"] == "needs" and change["new"] == {"codes": ["DS", "PG"], "words": words}
    with app.extensions["intake"].sessions() as session:
        declared = session.execute(select(NeedCount.need_group, NeedCount.township_pcode, NeedCount.month,
                                          NeedCount.declared)).all()
    assert sorted(declared) == [("DS", "MMR013017", "2026-11", 1), ("PG", "MMR013017", "2026-11", 1)]


def test_burmese_needs_are_mapped_too(app, registered):
    phone = Phone(app.test_client(), PHONE)
    choose(phone, prove(phone), "Needs")
    phone.say("ကျွန်မ ကိုယ်ဝန်ရှိနေပါတယ်")  # "I am pregnant"
    assert queued_changes(app)[0]["new"]["codes"] == ["PG"]


def test_a_household_change_and_a_preferred_language(app, registered):
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Household")
    replies = phone.say("My son was born in October")
    replies = choose(phone, replies, "Language")
    choose(phone, replies, "မြန်မာ")
    assert [(c["kind"], c["new"]) for c in queued_changes(app)] == [
        ("household", {"words": "My son was born in October"}), ("language", "my")]


def test_quick_exit_discards_a_half_finished_update(app, registered, fake_twilio):
    phone = Phone(app.test_client(), OTHER_PHONE)
    prove(phone)
    [code] = codes_sent(fake_twilio, PHONE)
    choose(phone, phone.say(code), "Phone number")
    phone.say("+959450009999")
    assert "deleted" in phone.say("exit")[0]
    assert queued_changes(app) == []


# --- seeing and erasing ------------------------------------------------------------------------

def test_see_what_is_on_record_briefly(app):
    register(app, needs="DS;PG")
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "See my data")
    shown = replies[0]
    assert "Aye Chan Qv8" in shown and "1990-04-17" in shown and "Botahtaung" in shown
    assert "Primary" in shown and "Needs on record: 2" in shown
    assert "DS" not in shown and "Disability" not in shown  # needs are counted, not named
    assert CHOOSE in replies[-1]


def test_erasing_deletes_the_details_and_the_date_no_longer_proves_anything(app, registered):
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Household")
    replies = choose(phone, phone.say("My mother left"), "Erase my data")
    assert "for good" in replies[-1]
    replies = choose(phone, replies, "Yes, erase them")
    assert "erased" in replies[0]

    row, details = record(app, registered)
    assert details == {} and row.dob_check is None and row.phone_key is None and row.status == "inactive"
    assert row.erased_at is not None
    kinds = [(c["kind"], c["status"], c["new"]) for c in queued_changes(app)]
    assert kinds == [("household", "withdrawn", None), ("erasure", "pending", None)]
    assert "do not match" in prove(Phone(app.test_client(), PHONE))[0]
    assert count(app, Registration) == 1  # the record stays, inactive: history keeps its kinds and times


def test_erasing_keeps_history_rows_without_their_values(app, registered):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        session.add(RegistrationHistory(registration_id=registered, field="township", changed_at=runtime.clock(),
                                        old_value=b"x", new_value=b"y"))
        session.commit()
    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Erase my data")
    choose(phone, replies, "Yes, erase them")
    with runtime.sessions() as session:
        [history] = session.execute(select(RegistrationHistory)).scalars().all()
    assert (history.field, history.old_value, history.new_value) == ("township", None, None)


def test_record_content_is_not_in_the_database_in_clear(app, registered):
    phone = Phone(app.test_client(), PHONE)
    choose(phone, prove(phone), "Needs")
    phone.say("my daughter Zq5 is sick")
    stored = database_bytes(app)
    assert b"Botahtaung" in stored  # the dump is complete: the gazetteer's clear names are in it
    for secret in ("Chan Qv8", BORN, PHONE, "Zq5", NUMBER, "MMR17000123"):
        assert secret.encode() not in stored


def test_a_change_from_a_second_conversation_after_erasure_is_dropped(app, registered, fake_twilio):
    first = Phone(app.test_client(), PHONE)
    second = Phone(app.test_client(), OTHER_PHONE)
    prove(second)
    [code] = codes_sent(fake_twilio, PHONE)
    choose(second, second.say(code), "Needs")
    choose(first, choose(first, prove(first), "Erase my data"), "Yes, erase them")
    second.say("I am pregnant, I live in Ward 9 Zq7")
    assert [change["kind"] for change in queued_changes(app)] == ["erasure"]
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(func.count()).select_from(NeedCount)).scalar_one() == 0


def test_a_way_back_to_the_update_menu_does_not_survive_the_main_menu(app, registered):
    phone = Phone(app.test_client(), PHONE)
    prove(phone)
    phone.say("language")  # remembers the update menu as the place to come back to
    replies = phone.say("menu")
    replies = choose(phone, replies, "Change language")
    replies = choose(phone, replies, "English")
    assert CHOOSE not in replies[-1] and "What would you like to do?" in replies[-1]


def test_a_new_number_needs_its_country_code_and_gets_no_code_without_it(app, registered, fake_twilio):
    phone = Phone(app.test_client(), PHONE)
    choose(phone, prove(phone), "Phone number")
    assert "country code" in phone.say("09 4500 09999")[0]
    assert fake_twilio.requests == []


def test_through_the_simulator_the_client_address_counts_as_a_sender(make_app, fake_twilio):
    """The simulator's sender is only a cookie: dropping it before each guess buys no more."""
    from tests.bot.test_follow_up import SimulatorVisitor

    app = with_directory(make_app(TWILIO_API_BASE_URL=fake_twilio.url, SIMULATOR_ENABLED="1"))
    register(app)
    guesser = SimulatorVisitor(app, "192.0.2.210")
    for attempt in range(5):
        guesser.drop_cookie()
        replies = prove(guesser, number=f"MMR-55-{attempt:06d}")
    assert "Please wait 30 minutes" in replies[0]
    guesser.drop_cookie()
    assert "Please wait 30 minutes" in prove(guesser, number="MMR-55-000099")[0]
    other = SimulatorVisitor(app, "192.0.2.211")
    assert "Please wait" not in prove(other, number="MMR-55-000100")[0]
