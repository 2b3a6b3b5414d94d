"""The Telegram channel end to end: real update payloads posted to POST /webhooks/telegram, a fake
Bot API over loopback HTTP, assertions on what that fake received."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.delivery.worker import OutboxWorker
from storage.models import ChatMessage, Conversation, InboundMessage, OutboxMessage, Referral
from tests.support import directory as d
from tests.support.play import Player, Telegram
from tests.support.telegram_chat import CHAT, SECRET, Person, buttons, telegram_settings

ACCOUNT = "The driver Qx4-secret said he would stop our food if I refused him."


@pytest.fixture
def app(telegram_app):
    return telegram_app


def count(app, model) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_secret_token_is_required_and_checked(app, person, updates):
    update = updates.message(CHAT, "hello")
    assert person.post(update, secret=None).status_code == 403
    assert person.post(update, secret="wrong").status_code == 403
    assert "Secret-Token" in person.post(update, secret="wrong").get_json()["error"]
    assert count(app, Conversation) == 0


def test_unconfigured_telegram_answers_503(make_app, updates):
    client = make_app().test_client()
    response = client.post("/webhooks/telegram", json=updates.message(CHAT, "hi"),
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 503 and "TELEGRAM_WEBHOOK_SECRET" in response.get_json()["error"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"no_update_id": 1}', b'{"update_id": 1e100}',
                                  b"[" * 100_000 + b"]" * 100_000])  # too deep to parse: RecursionError
def test_a_body_that_is_not_an_update_gets_200_and_is_ignored(app, person, body):
    # The README's contract: always 200 for a valid secret (Telegram would retry anything else forever).
    response = person.client.post("/webhooks/telegram", data=body, content_type="application/json",
                                  headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200 and "Update" in response.get_json()["ignored"]
    assert count(app, Conversation) == 0


@pytest.mark.parametrize("message", [
    {"message_id": 1, "date": 1700000000, "chat": {"id": 777, "type": "private"}, "text": 123},
    {"message_id": 1, "date": 1700000000, "chat": {"id": 777, "type": "private"}, "text": ["a"]},
    {"message_id": 1, "date": 1, "text": "hi"},
    "x",
    {"message_id": 1, "date": 10 ** 20, "chat": {"id": 777, "type": "private"}, "text": "hi"},
    {"message_id": 1, "date": 1, "chat": {"id": 777, "type": "private"}, "text": "hi", "entities": "x"},
])
def test_malformed_updates_are_answered_200_never_500(person, message):
    for kind, payload in (("message", message), ("callback_query", "x"),
                          ("callback_query", {"id": "1", "chat_instance": "1", "data": 5,
                                              "from": {"id": 777, "is_bot": False, "first_name": "A"}})):
        response = person.post({"update_id": 990001, kind: payload})
        assert response.status_code == 200, (kind, payload, response.data)


def test_an_update_nested_too_deep_inside_is_ignored_with_200(person):
    deep = b'{"update_id": 5, "message": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b"}"
    response = person.client.post("/webhooks/telegram", data=deep, content_type="application/json",
                                  headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200 and response.get_json()["ok"] is False


@pytest.mark.parametrize("text", ["²", "①", "፩", "1²"])
def test_digits_int_refuses_get_a_reprompt_not_silence(person, text):
    """They once raised inside the update, which was then dropped: the person got no answer."""
    person.say("hello")
    [reprompt] = person.say(text)
    assert "English" in reprompt["text"] or buttons(reprompt)


def test_a_long_telegram_account_is_not_cut_to_the_sms_limit(app, person):
    reporter(person, organisation="unknown").play(until="account")
    long_account = "word " * 700  # 3,500 characters
    person.say(long_account)
    with app.extensions["intake"].sessions() as session:
        conversation = session.execute(select(Conversation)).scalar_one()
        from storage.conversations import load_state
        draft = load_state(app.extensions["intake"].vault, conversation).draft
    assert draft["account"] == [long_account.strip()]


def test_conversation_with_buttons_and_typed_answers(person, telegram):
    [first] = person.say("hello")
    assert first["text"] == "Choose your language:"
    assert buttons(first) == ["1. English", "2. မြန်မာ"]
    [menu] = person.press(first, 1)
    assert menu["text"] == "Community Feedback. What would you like to do?"
    assert buttons(menu) == ["1. Report a concern", "2. Update my details", "3. Check a report",
                             "4. Change language"]
    answered = telegram.callback_answers()
    assert len(answered) == 1 and not answered[0].get("text")
    [soon] = person.say("2")  # typing the number works too
    assert soon["text"].startswith("This is not available yet.")
    [again] = person.say("update my details")  # and the words
    assert again["text"].startswith("This is not available yet.")


def test_a_button_from_an_earlier_question_does_nothing_but_say_so(person, telegram):
    [first] = person.say("hello")
    person.press(first, 1)  # English → the menu
    replies = person.press(first, 2)  # the old language keyboard again
    assert replies == []
    assert telegram.callback_answers()[-1]["text"] == "That button is from an earlier question."


def test_retried_update_does_not_advance_the_conversation(app, person, updates, telegram):
    person.say("hello")
    update = updates.message(CHAT, "1")
    assert len(person.send(update)) == 1
    turns = count(app, InboundMessage)
    assert person.send(update) == []  # the same update_id again: no second reply
    assert count(app, InboundMessage) == turns
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(Conversation.turns)).scalar_one() == 2


@pytest.mark.parametrize("kind", ["group_message", "supergroup_message"])
def test_a_group_gets_one_polite_line_and_nothing_is_stored(app, person, updates, telegram, kind):
    group = -4001234567 if kind == "group_message" else -1001234567890
    update = getattr(updates, kind)(group, "I want to report something")
    response = person.post(update)
    assert response.status_code == 200
    sent = [m for m in telegram.sent_messages() if m["chat_id"] == group]
    assert [m["text"] for m in sent] == ["I only answer in a private chat. Please message me directly."]
    for model in (Conversation, InboundMessage, OutboxMessage):
        assert count(app, model) == 0


@pytest.mark.parametrize("build", [
    lambda u: u.edited_message(CHAT, 1, "edited"),
    lambda u: u.channel_post(-1001000000001, "news"),
    lambda u: u.my_chat_member(CHAT),
    lambda u: u.poll_state("Q?", ["a", "b"]),
])
def test_ignored_update_kinds_get_200_and_no_effect(app, person, updates, telegram, build):
    response = person.post(build(updates))
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert telegram.sent_messages() == [] and count(app, Conversation) == 0


@pytest.mark.parametrize("media", ["sticker", "location", "document"])
def test_non_text_messages_get_the_text_only_answer(person, updates, media):
    person.say("hello")
    person.say("1")
    [reply] = person.send(getattr(updates, media)(CHAT))
    assert reply["text"].startswith("We can only read text. Please type your answer.")


@pytest.mark.parametrize("media", ["photo", "voice"])
def test_a_voice_note_or_photo_outside_the_account_says_where_they_are_taken(person, updates, telegram, media):
    person.say("hello")
    person.say("1")
    [reply] = person.send(getattr(updates, media)(CHAT))
    assert reply["text"].startswith("Please type your answer. You can send a voice note or photo when you tell "
                                    "us what happened.\nCommunity Feedback. What would you like to do?")
    assert telegram.calls("getFile") == []  # not at the account: nothing is fetched


def test_start_command_and_language_change(person):
    [first] = person.say("/start")
    assert first["text"].startswith("Choose your language:")
    person.press(first, 2)
    [menu] = person.say("/start")  # mid-conversation: the help, then the question again
    assert menu["text"].startswith("မီနူး - ပင်မစာရင်း")
    [language] = person.say("language")
    [burmese_menu] = person.press(language, 1)
    assert burmese_menu["text"] == "Community Feedback. What would you like to do?"


def reporter(person: Person, **answers) -> Player:
    """Someone reporting with buttons, typing what has no button (tests/support/play.py)."""
    return Player(Telegram(person), answers={"organisation": "demo relief agency", "account": ACCOUNT, **answers})


def play_report(person: Person) -> list[dict]:
    """A whole report with buttons and typing; returns the last replies."""
    player = reporter(person)
    review = player.play(until="review")
    assert review.text.startswith("Please check:\nOrganisation: Demo Relief Agency (DRA)")
    return player.play().raw


def test_a_whole_report_and_its_messages_are_wiped_from_the_chat(app, person, telegram):
    [receipt] = play_report(person)
    assert receipt["text"].startswith("Thank you, it was sent. Receipt number: ")
    assert count(app, Referral) == 1
    deleted = set(telegram.deleted().get(CHAT, []))
    remaining = {m["message_id"]: m.get("text", "") for m in telegram.chat_messages(CHAT)}
    # Gone: the account the person typed, the place, the review; kept: the menu before, the receipt.
    assert not any(ACCOUNT in text for text in remaining.values())
    assert not any(text.startswith("Please check:") for text in remaining.values())
    assert not any(text == "Sittwe" for text in remaining.values())
    assert any(text.startswith("Thank you, it was sent. Receipt number: ") for text in remaining.values())
    assert any(text.startswith("Community Feedback. What would you like to do?") for text in remaining.values())
    assert len(deleted) >= 12
    assert count(app, ChatMessage) == 0  # nothing about the chat is kept after the wipe


def test_quick_exit_wipes_at_once(app, person, telegram):
    reporter(person).play(until="organisation")
    person.say("Demo Relief")
    [ended] = person.say("exit")
    assert ended["text"] == "Ended. This conversation was deleted."
    remaining = [m.get("text", "") for m in telegram.chat_messages(CHAT)]
    assert "Demo Relief" not in remaining and "exit" not in remaining
    assert not any(text.startswith("Are you in danger") for text in remaining)
    assert "Ended. This conversation was deleted." in remaining


def test_wiping_can_be_turned_off(make_app, telegram, updates):
    app = d.with_directory(make_app(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_WEBHOOK_SECRET=SECRET,
                                    TELEGRAM_API_BASE_URL=telegram.url, TELEGRAM_WIPE_MESSAGES="0"))
    play_report(Person(app.test_client(), telegram, updates))
    assert telegram.deleted() == {} and count(app, ChatMessage) == 0


def test_messages_too_old_to_delete_are_given_up_without_content_in_logs(app, person, telegram, clock, caplog):
    reporter(person).play(until="organisation")
    person.say("Demo Relief")
    telegram.fail_next("deleteMessages", 400, "Bad Request: message can't be deleted for everyone")
    person.say("exit")
    with app.extensions["intake"].sessions() as session:
        wipe = session.execute(select(OutboxMessage).where(OutboxMessage.purpose == "wipe")).scalar_one()
    assert wipe.status == "failed" and wipe.attempts == 1 and wipe.payload is None
    assert "deleteMessages 400" in caplog.text and "Demo Relief" not in caplog.text and str(CHAT) not in caplog.text
    clock.advance(hours=2)
    OutboxWorker(app.extensions["intake"]).run_once()
    assert len(telegram.calls("deleteMessages")) == 1  # not retried forever


def test_a_bot_api_outage_delays_replies_and_loses_none(app, person, telegram, updates, clock):
    [first] = person.say("hello")
    telegram.stop()
    for text in ("1", "help", "2"):
        assert person.post(updates.message(CHAT, text)).status_code == 200
    with app.extensions["intake"].sessions() as session:
        pending = session.execute(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status == "pending")).scalar_one()
    assert pending == 3
    telegram.start()
    worker = OutboxWorker(app.extensions["intake"])
    for _ in range(5):
        clock.advance(minutes=5)
        worker.run_once()
    texts = [m["text"] for m in telegram.sent_messages() if m["chat_id"] == CHAT]
    assert texts[0] == first["text"]
    assert texts[1].startswith("Community Feedback. What would you like to do?")  # in order
    assert texts[2].startswith("MENU: main menu.")
    assert texts[3].startswith("This is not available yet.")
    assert len(texts) == 4  # each exactly once


def test_rate_limit_is_honoured(app, person, telegram, clock):
    telegram.fail_next("sendMessage", 429, retry_after=120)
    person.say("hello")
    with app.extensions["intake"].sessions() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.status == "pending" and (row.next_attempt_at - clock()).total_seconds() == 120


def test_a_blocked_bot_is_final(app, person, telegram):
    telegram.block_chat(CHAT)
    person.say("hello")
    with app.extensions["intake"].sessions() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.status == "failed" and row.recipient is None


def test_no_chat_id_or_text_in_the_database_after_a_report(app, person):
    from tests.test_privacy import database_bytes

    play_report(person)
    stored = database_bytes(app)
    assert str(CHAT).encode() not in stored
    assert ACCOUNT.encode() not in stored and b"Qx4-secret" not in stored


def test_a_thief_with_the_database_and_both_secrets_finds_no_receipt_and_no_link(app, person, telegram):
    """Right after a report is sent over Telegram (and its replies delivered), the database and
    the server's secrets hold neither the receipt nor anything tying the chat to the report: no
    update id, no stored answer, no time near the report's on anything that names the chat."""
    from tests.support.thief import links_to, steal

    [sent] = play_report(person)
    receipt = sent["text"].split("number: ")[1].split(".")[0]
    runtime = app.extensions["intake"]
    loot = steal(runtime)
    everything = loot.everything()
    assert receipt not in everything and receipt.replace(" ", "") not in everything
    assert links_to(loot, runtime.vault.sender_key("telegram", str(CHAT))) == []


def test_polling_runs_the_same_engine(app, telegram, updates):
    from bot.commands.telegram import poll
    import threading

    telegram.push_update(updates.message(CHAT, "hello"))
    telegram.push_update(updates.message(CHAT, "1"))
    handled = poll(app.extensions["intake"], threading.Event(), once=True)
    assert handled == 2
    texts = [m["text"] for m in telegram.sent_messages()]
    assert texts[0].startswith("Choose your language:") and texts[1].startswith("Community Feedback.")
    assert telegram.pending_updates() == []  # confirmed


def test_set_webhook_registers_url_and_secret(make_app, telegram):
    app = make_app(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_WEBHOOK_SECRET=SECRET,
                   TELEGRAM_API_BASE_URL=telegram.url)
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert telegram.webhook["url"] == "https://intake.example.org/webhooks/telegram"
    assert telegram.webhook["secret_token"] == SECRET
    plain = make_app(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_WEBHOOK_SECRET=SECRET,
                     TELEGRAM_API_BASE_URL=telegram.url, PUBLIC_BASE_URL="http://127.0.0.1:5000")
    result = plain.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 1 and "telegram poll" in result.output


def test_an_abandoned_report_is_wiped_when_its_draft_expires(app, person, telegram, clock):
    """Nobody writes again after giving up half-way: the purge expires the draft and deletes
    the report's messages from the chat all the same."""
    reporter(person).play(until="organisation")
    person.say("Demo Relief")  # … and silence
    clock.advance(minutes=31)
    counts = OutboxWorker(app.extensions["intake"]).purge()
    assert counts["abandoned_chats_wiped"] == 1 and counts["expired_conversations"] == 1
    OutboxWorker(app.extensions["intake"]).run_once()
    remaining = [m.get("text", "") for m in telegram.chat_messages(CHAT)]
    assert "Demo Relief" not in remaining
    assert not any(text.startswith("Are you in danger") for text in remaining)
    assert any(text.startswith("Community Feedback. What would you like to do?") for text in remaining)
    assert count(app, ChatMessage) == 0
