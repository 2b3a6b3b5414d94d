"""The Telegram stand-ins are faithful: python-telegram-bot itself talks to FakeTelegram over HTTP
and gets what Telegram would answer (results, errors, outages), and every payload UpdateFactory
builds parses with PTB's Update.de_json into the right kind with no unknown field."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, TelegramObject, Update
from telegram.error import (BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError,
                            RetryAfter)

from tests.support.fake_telegram import DEFAULT_TOKEN, FakeTelegram, UploadedFile
from tests.support.telegram_updates import UpdateFactory

CHAT = 424242
OTHER_CHAT = 515151
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="answer:yes"),
                                  InlineKeyboardButton("No", callback_data="answer:no")]])
KEYBOARD_JSON = {"inline_keyboard": [[{"text": "Yes", "callback_data": "answer:yes"},
                                      {"text": "No", "callback_data": "answer:no"}]]}
WAIT = 5  # seconds: the bound on every wait for something that should happen at once


@pytest.fixture
def fake():
    """The Bot API on a free loopback port."""
    with FakeTelegram() as server:
        yield server


def with_bot(fake: FakeTelegram, scenario, token: str | None = None):
    """Run `scenario(bot)` with an initialised PTB Bot pointed at the fake (as the channel will)."""

    async def main():
        async with telegram.Bot(token or fake.token, base_url=fake.bot_base_url) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def api(fake: FakeTelegram, method: str, token: str | None = None, **kwargs) -> httpx.Response:
    """A plain HTTP call to the fake, as a hand-written client (httpx) makes it."""
    return httpx.post(f"{fake.url}/bot{token or fake.token}/{method}", timeout=WAIT + 30, **kwargs)


# ---- python-telegram-bot against the fake ----------------------------------------------------------


def test_ptb_initialises_against_the_fake_with_get_me(fake):
    me = with_bot(fake, lambda bot: bot.get_me())

    assert (me.id, me.is_bot, me.username) == (int(DEFAULT_TOKEN.split(":")[0]), True, "intake_test_bot")
    # `async with bot` calls getMe itself; PTB posts it with an empty body and no content type.
    assert [(call.method, call.params, call.content_type) for call in fake.calls()] == [
        ("getMe", {}, ""), ("getMe", {}, "")]


def test_send_message_with_an_inline_keyboard(fake):
    async def scenario(bot):
        first = await bot.send_message(CHAT, "Which township?", reply_markup=KEYBOARD)
        second = await bot.send_message(CHAT, "Thanks")
        elsewhere = await bot.send_message(OTHER_CHAT, "Hello")
        return first, second, elsewhere

    first, second, elsewhere = with_bot(fake, scenario)

    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)  # per chat
    assert (first.chat.id, first.chat.type, first.text) == (CHAT, "private", "Which township?")
    assert first.from_user.username == "intake_test_bot"
    assert first.date.timestamp() == pytest.approx(time.time(), abs=5)
    assert first.reply_markup == KEYBOARD  # Telegram echoes inline keyboards
    assert second.reply_markup is None
    # PTB 22 posts form-encoded; nested values are JSON strings, which the fake decodes.
    call = fake.calls("sendMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params == {"chat_id": CHAT, "text": "Which township?", "reply_markup": KEYBOARD_JSON}
    assert [params["text"] for params in fake.sent_messages()] == ["Which township?", "Thanks", "Hello"]
    assert fake.message(CHAT, 1)["reply_markup"] == KEYBOARD_JSON


def test_answer_callback_query(fake):
    assert with_bot(fake, lambda bot: bot.answer_callback_query("4382000000000000001", text="Saved")) is True
    assert fake.callback_answers() == [{"callback_query_id": "4382000000000000001", "text": "Saved"}]


def test_delete_message_and_delete_messages(fake):
    async def scenario(bot):
        for text in ("one", "two", "three", "four"):
            await bot.send_message(CHAT, text)
        deleted = await bot.delete_message(CHAT, 1)
        with pytest.raises(BadRequest) as again:
            await bot.delete_message(CHAT, 1)
        with pytest.raises(BadRequest) as unknown:
            await bot.delete_message(CHAT, 99)
        many = await bot.delete_messages(CHAT, [2, 3, 77])  # missing ones are skipped
        return deleted, again.value, unknown.value, many

    deleted, again, unknown, many = with_bot(fake, scenario)

    assert deleted is True and many is True
    assert again.message == unknown.message == "Message to delete not found"
    assert fake.calls("deleteMessage")[-1].response == {
        "ok": False, "error_code": 400, "description": "Bad Request: message to delete not found"}
    assert fake.deleted() == {CHAT: [1, 2, 3, 77]}
    assert [message["text"] for message in fake.chat_messages(CHAT)] == ["four"]


def test_edit_message_text_and_reply_markup(fake):
    async def scenario(bot):
        sent = await bot.send_message(CHAT, "Which township?", reply_markup=KEYBOARD)
        edited = await bot.edit_message_text("Township: Hlaing", chat_id=CHAT, message_id=sent.message_id,
                                             reply_markup=KEYBOARD)
        with pytest.raises(BadRequest) as unchanged:
            await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=KEYBOARD)
        cleared = await bot.edit_message_reply_markup(CHAT, sent.message_id)
        with pytest.raises(BadRequest) as missing:
            await bot.edit_message_text("x", chat_id=CHAT, message_id=99)
        return edited, unchanged.value, cleared, missing.value

    edited, unchanged, cleared, missing = with_bot(fake, scenario)

    assert (edited.text, edited.reply_markup, edited.edit_date is not None) == ("Township: Hlaing", KEYBOARD, True)
    assert unchanged.message.startswith("Message is not modified")
    assert cleared.reply_markup is None and "reply_markup" not in fake.message(CHAT, 1)
    assert missing.message == "Message to edit not found"


def test_send_message_refusals_look_like_telegrams(fake):
    async def scenario(bot):
        errors = []
        for text, markup in [(" ", None), ("x" * 4097, None),
                             ("Pick", InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a" * 65)]]))]:
            with pytest.raises(BadRequest) as error:
                await bot.send_message(CHAT, text, reply_markup=markup)
            errors.append(error.value.message)
        return errors

    assert with_bot(fake, scenario) == ["Message text is empty", "Message is too long", "Button_data_invalid"]
    assert fake.sent_messages() == []


def test_get_updates_honours_offset(fake):
    factory = UpdateFactory()
    first, second, third = (fake.push_update(factory.message(CHAT, text)) for text in ("a", "b", "c"))

    async def scenario(bot):
        everything = await bot.get_updates()
        from_second = await bot.get_updates(offset=second["update_id"])  # confirms the first
        after_all = await bot.get_updates(offset=third["update_id"] + 1, timeout=0)
        return everything, from_second, after_all

    everything, from_second, after_all = with_bot(fake, scenario)

    assert [update.message.text for update in everything] == ["a", "b", "c"]
    assert [update.update_id for update in from_second] == [second["update_id"], third["update_id"]]
    assert after_all == ()
    assert fake.pending_updates() == []
    assert fake.calls("getUpdates")[1].params == {"offset": second["update_id"]}


def test_get_updates_negative_offset_keeps_only_the_last(fake):
    factory = UpdateFactory()
    updates = [fake.push_update(factory.message(CHAT, text)) for text in ("a", "b", "c")]

    result = with_bot(fake, lambda bot: bot.get_updates(offset=-1))

    assert [update.update_id for update in result] == [updates[-1]["update_id"]]
    assert fake.pending_updates() == [updates[-1]]


def test_get_updates_long_poll_returns_as_soon_as_an_update_arrives(fake):
    update = UpdateFactory().message(CHAT, "hello")
    pusher = threading.Thread(target=lambda: fake.wait_until_polling(WAIT) and fake.push_update(update))
    pusher.start()

    started = time.monotonic()
    result = with_bot(fake, lambda bot: bot.get_updates(timeout=30))
    pusher.join(WAIT)

    assert time.monotonic() - started < WAIT
    assert [u.message.text for u in result] == ["hello"]


def test_get_updates_long_poll_ends_empty_after_its_timeout(fake):
    started = time.monotonic()
    response = api(fake, "getUpdates", json={"timeout": 0.3})

    assert 0.25 < time.monotonic() - started < WAIT
    assert response.json() == {"ok": True, "result": []}


def test_allowed_updates_filters_what_get_updates_delivers(fake):
    factory = UpdateFactory()
    fake.push_update(factory.message(CHAT, "text"))
    query = fake.push_update(factory.callback_query(CHAT, "answer:yes"))

    result = with_bot(fake, lambda bot: bot.get_updates(allowed_updates=["callback_query"]))

    assert [update.update_id for update in result] == [query["update_id"]]


def test_webhook_settings_and_the_conflict_with_get_updates(fake):
    url = "https://intake.example.org/telegram/webhook"

    async def scenario(bot):
        assert await bot.set_webhook(url, secret_token="s3cret_-token", allowed_updates=["message", "callback_query"],
                                     drop_pending_updates=True)
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
        with pytest.raises(BadRequest) as plain_http:
            await bot.set_webhook("http://intake.example.org/telegram/webhook")
        with pytest.raises(BadRequest) as base64_secret:
            await bot.set_webhook(url, secret_token="abc+/=")
        assert await bot.delete_webhook()
        return info, plain_http.value, base64_secret.value, await bot.get_updates()

    fake.push_update(UpdateFactory().message(CHAT, "dropped by drop_pending_updates"))
    info, plain_http, base64_secret, updates = with_bot(fake, scenario)

    assert (info.url, info.pending_update_count, info.allowed_updates) == (url, 0, ("message", "callback_query"))
    assert plain_http.message == "Bad webhook: an https url must be provided for webhook"
    assert "unallowed characters" in base64_secret.message
    assert fake.webhook is None and updates == ()
    [set_call] = [call for call in fake.calls("setWebhook") if call.ok]
    assert set_call.params == {"url": url, "secret_token": "s3cret_-token", "drop_pending_updates": True,
                               "allowed_updates": ["message", "callback_query"]}
    assert set_call.response == {"ok": True, "result": True, "description": "Webhook was set"}


# ---- failures ---------------------------------------------------------------------------------------


def test_429_raises_retry_after_with_telegrams_wait(fake, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns when retry_after is read as an int
    fake.fail_next("sendMessage", 429, retry_after=3)

    async def scenario(bot):
        with pytest.raises(RetryAfter) as error:
            await bot.send_message(CHAT, "hello")
        return error.value, await bot.send_message(CHAT, "hello again")

    error, retried = with_bot(fake, scenario)

    assert error.retry_after == timedelta(seconds=3)
    assert retried.message_id == 1
    assert fake.calls("sendMessage")[0].response == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3}}
    assert [params["text"] for params in fake.sent_messages()] == ["hello again"]


def test_blocked_chat_raises_forbidden_until_unblocked(fake):
    fake.block_chat(CHAT)

    async def scenario(bot):
        with pytest.raises(Forbidden) as error:
            await bot.send_message(CHAT, "hello")
        other = await bot.send_message(OTHER_CHAT, "hello")
        fake.unblock_chat(CHAT)
        return error.value, other, await bot.send_message(CHAT, "hello")

    error, other, after = with_bot(fake, scenario)

    assert error.message == "Forbidden: bot was blocked by the user"
    assert other.chat.id == OTHER_CHAT and after.chat.id == CHAT
    assert [call.status for call in fake.calls("sendMessage")] == [403, 200, 200]


def test_fail_next_counts_down_and_can_target_any_method(fake):
    fake.fail_next("sendMessage", 500, times=2)
    fake.fail_next("deleteMessage", 403)

    async def scenario(bot):
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append((await bot.send_message(CHAT, "x")).message_id)
            except NetworkError as error:
                outcomes.append(error.message)
        with pytest.raises(Forbidden):
            await bot.delete_message(CHAT, 1)
        return outcomes

    assert with_bot(fake, scenario) == ["Internal Server Error", "Internal Server Error", 1]

    fake.fail_next(None, 502, times=None)
    assert api(fake, "getMe").json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    assert api(fake, "sendMessage", json={"chat_id": CHAT, "text": "x"}).status_code == 502
    fake.clear_failures()
    assert api(fake, "getMe").json()["ok"] is True


def test_stopped_fake_refuses_connections_and_a_restarted_one_answers(fake):
    port = fake.port
    fake.stop()

    with pytest.raises(NetworkError):
        with_bot(fake, lambda bot: bot.send_message(CHAT, "hello"))
    with pytest.raises(httpx.ConnectError):
        api(fake, "getMe")

    fake.start()
    message = with_bot(fake, lambda bot: bot.send_message(CHAT, "hello"))
    assert fake.port == port and message.message_id == 1


def test_stopping_ends_a_waiting_long_poll_without_an_answer(fake):
    outcome = {}

    def poll():
        try:
            outcome["response"] = api(fake, "getUpdates", json={"timeout": 30})
        except httpx.HTTPError as error:
            outcome["error"] = error

    poller = threading.Thread(target=poll)
    poller.start()
    assert fake.wait_until_polling(WAIT)
    started = time.monotonic()
    fake.stop()
    poller.join(WAIT)

    assert not poller.is_alive() and time.monotonic() - started < WAIT
    assert isinstance(outcome.get("error"), httpx.RemoteProtocolError)
    assert fake.calls("getUpdates")[0].status == 0


def test_unknown_method_and_wrong_token_answer_like_telegram(fake):
    unknown = api(fake, "sendTelepathy", json={"chat_id": CHAT})
    wrong_token = api(fake, "getMe", token="7012345678:AAHsomeone-elses-token-000000000000")
    malformed_token = api(fake, "getMe", token="not-a-token")

    assert (unknown.status_code, unknown.json()) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert (wrong_token.status_code, wrong_token.json()) == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert malformed_token.status_code == 404

    with pytest.raises(InvalidToken):
        with_bot(fake, lambda bot: bot.get_me(), token="7012345678:AAHsomeone-elses-token-000000000000")
    with pytest.raises(EndPointNotFound):
        with_bot(fake, lambda bot: bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": CHAT}))


# ---- other clients and encodings ------------------------------------------------------------------


def test_plain_httpx_json_post_to_send_message(fake):
    # What a hand-written client sends: JSON, chat_id possibly as a string, markup as an object.
    response = api(fake, "sendMessage", json={"chat_id": str(CHAT), "text": "Hello", "reply_markup": KEYBOARD_JSON})
    with_bot(fake, lambda bot: bot.send_message(CHAT, "Hello", reply_markup=KEYBOARD))

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["result"]["message_id"] == 1
    assert body["result"]["chat"] == {"id": CHAT, "type": "private"}
    assert body["result"]["reply_markup"] == KEYBOARD_JSON
    json_call, form_call = fake.calls("sendMessage")
    assert json_call.content_type == "application/json"
    assert json_call.params == form_call.params  # one normalised shape, whatever the encoding


def test_multipart_and_method_names_in_any_case(fake):
    markup = json.dumps(KEYBOARD_JSON)
    response = api(fake, "SENDMESSAGE", data={"chat_id": str(CHAT), "text": "42", "reply_markup": markup},
                   files={"attachment": ("note.txt", b"hello", "text/plain")})

    assert response.json()["result"]["text"] == "42"
    [call] = fake.calls("sendMessage")
    assert call.method == "sendMessage" and call.content_type.startswith("multipart/form-data")
    assert call.params == {"chat_id": CHAT, "text": "42", "reply_markup": KEYBOARD_JSON,
                           "attachment": UploadedFile("note.txt", "text/plain", b"hello")}


def test_existing_outbox_sender_works_against_the_fake(fake, tmp_path):
    import config
    from bot.delivery.senders import PermanentError, TelegramSender, TransientError

    sender = TelegramSender(config.load(tmp_path, environ={"TELEGRAM_API_BASE_URL": fake.url,
                                                           "TELEGRAM_BOT_TOKEN": fake.token}))
    assert sender.send(1, str(CHAT), {"body": "New report"}) == "1"
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TransientError) as throttled:
        sender.send(2, str(CHAT), {"body": "again"})
    fake.block_chat(OTHER_CHAT)
    with pytest.raises(PermanentError):
        sender.send(3, str(OTHER_CHAT), {"body": "x"})
    assert throttled.value.retry_after == 3


def test_recording_is_thread_safe_and_ids_stay_unique(fake):
    url = f"{fake.url}/bot{fake.token}/sendMessage"

    with httpx.Client(timeout=WAIT) as client, ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda index: client.post(url, json={"chat_id": CHAT, "text": f"m{index}"})
                            .json()["result"]["message_id"], range(40)))

    assert sorted(ids) == list(range(1, 41))
    assert len(fake.calls("sendMessage")) == 40


# ---- update payloads --------------------------------------------------------------------------------

FACTORY_CASES = {
    "message": (lambda f: f.message(CHAT, "I want to report"),
                lambda u: (u.message.text, u.message.chat.type, u.message.from_user.language_code)
                == ("I want to report", "private", "en")),
    "start": (lambda f: f.start(CHAT),
              lambda u: u.message.text == "/start" and u.message.entities[0].type == "bot_command"),
    "start_payload": (lambda f: f.start(CHAT, "clinic-7", language_code="my"),
                      lambda u: u.message.text == "/start clinic-7" and u.message.from_user.language_code == "my"),
    "callback_query": (lambda f: f.callback_query(CHAT, "answer:yes", message_id=7),
                       lambda u: (u.callback_query.data, u.callback_query.message.message_id,
                                  u.callback_query.message.from_user.is_bot,
                                  u.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data)
                       == ("answer:yes", 7, True, "answer:yes")),
    "edited_message": (lambda f: f.edited_message(CHAT, 3, "corrected"),
                       lambda u: u.edited_message.text == "corrected" and u.edited_message.edit_date is not None),
    "channel_post": (lambda f: f.channel_post(-1001234567890, "news"),
                     lambda u: u.channel_post.chat.type == "channel" and u.channel_post.sender_chat.id == -1001234567890),
    "group": (lambda f: f.group_message(-4012345678, "hello group"),
              lambda u: u.message.chat.type == "group" and u.message.from_user.id > 0),
    "supergroup": (lambda f: f.supergroup_message(-1009876543210, "hello supergroup"),
                   lambda u: u.message.chat.type == "supergroup" and u.message.text == "hello supergroup"),
    "photo": (lambda f: f.photo(CHAT, caption="damage"),
              lambda u: [size.width for size in u.message.photo] == [90, 320, 800, 1280]
              and u.message.caption == "damage" and u.message.effective_attachment),
    "voice": (lambda f: f.voice(CHAT), lambda u: u.message.voice.mime_type == "audio/ogg"),
    "sticker": (lambda f: f.sticker(CHAT), lambda u: u.message.sticker.emoji == "👍"),
    "location": (lambda f: f.location(CHAT, 16.85, 96.18),
                 lambda u: (u.message.location.latitude, u.message.location.longitude) == (16.85, 96.18)),
    "document": (lambda f: f.document(CHAT), lambda u: u.message.document.file_name == "report.pdf"),
    "contact": (lambda f: f.contact(CHAT, "+959123456789", user_id=CHAT),
                lambda u: (u.message.contact.phone_number, u.message.contact.user_id) == ("+959123456789", CHAT)),
    "my_chat_member": (lambda f: f.my_chat_member(CHAT, "member", "kicked"),
                       lambda u: (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
                       == ("member", "kicked")),
    "poll_message": (lambda f: f.poll(CHAT, "Safe?", ["Yes", "No"]),
                     lambda u: [o.text for o in u.message.poll.options] == ["Yes", "No"]),
    "poll_state": (lambda f: f.poll_state("Safe?", ["Yes", "No"], votes=[3, 1]),
                   lambda u: u.poll.total_voter_count == 4 and u.effective_chat is None),
}
# Fields Telegram sends that PTB no longer models (it files them under api_kwargs).
KNOWN_EXTRA_FIELDS = {"all_members_are_administrators"}


def unknown_fields(obj, path: str = "update") -> list[str]:
    """Fields of a parsed object (and everything in it) that PTB did not recognise."""
    if isinstance(obj, (tuple, list)):
        return [found for index, item in enumerate(obj) for found in unknown_fields(item, f"{path}[{index}]")]
    if not isinstance(obj, TelegramObject):
        return []
    found = [f"{path}.{name}" for name in obj.api_kwargs if name not in KNOWN_EXTRA_FIELDS]
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if not slot.startswith("_"):
                found += unknown_fields(getattr(obj, slot, None), f"{path}.{slot}")
    return found


@pytest.mark.parametrize("kind", FACTORY_CASES)
def test_every_builder_parses_with_ptb_into_the_right_kind(kind):
    build, check = FACTORY_CASES[kind]
    payload = build(UpdateFactory())
    json.dumps(payload)  # a webhook body: JSON-serialisable as is

    update = Update.de_json(payload, telegram.Bot(DEFAULT_TOKEN))

    assert check(update)
    assert unknown_fields(update) == []


def test_factory_numbers_updates_and_messages():
    factory = UpdateFactory(first_update_id=100)
    first, second, elsewhere = factory.message(CHAT, "a"), factory.message(CHAT, "b"), factory.message(OTHER_CHAT, "c")

    assert [u["update_id"] for u in (first, second, elsewhere)] == [100, 101, 102]
    assert [u["message"]["message_id"] for u in (first, second, elsewhere)] == [1, 2, 1]
    assert first["message"]["chat"] == {"id": CHAT, "first_name": "Aye", "type": "private"}
    assert first["message"]["from"] == {"id": CHAT, "is_bot": False, "first_name": "Aye", "language_code": "en"}


def test_factory_linked_to_the_fake_shares_the_chats_message_ids(clock):
    fake = FakeTelegram(clock=clock).start()
    factory = UpdateFactory(fake, clock=clock)
    factory.user(CHAT, "Su", language_code="my")
    hello = factory.start(CHAT)

    async def scenario(bot):
        question = await bot.send_message(CHAT, "Which township?", reply_markup=KEYBOARD)
        press = factory.callback_query(CHAT, "answer:yes", message_id=question.message_id)
        answer = factory.message(CHAT, "Hlaing")
        wiped = await bot.delete_messages(CHAT, [hello["message"]["message_id"], answer["message"]["message_id"]])
        return question, press, answer, wiped

    try:
        question, press, answer, wiped = with_bot(fake, scenario)
    finally:
        fake.stop()

    assert hello["message"]["date"] == question.date.timestamp() == clock().timestamp()
    assert (hello["message"]["message_id"], question.message_id, answer["message"]["message_id"]) == (1, 2, 3)
    assert question.chat.first_name == "Su"  # the chat as Telegram knows it from the user's /start
    assert press["callback_query"]["message"] == fake.message(CHAT, 2)
    assert wiped is True and [m["message_id"] for m in fake.chat_messages(CHAT)] == [2]


def test_pushed_builder_updates_reach_ptb_through_get_updates(fake):
    factory = UpdateFactory(fake)
    kinds = ["message", "callback_query", "photo", "my_chat_member", "poll_state"]
    for kind in kinds:
        fake.push_update(FACTORY_CASES[kind][0](factory))

    updates = with_bot(fake, lambda bot: bot.get_updates())

    assert len(updates) == len(kinds)
    for kind, update in zip(kinds, updates):
        assert FACTORY_CASES[kind][1](update), kind
