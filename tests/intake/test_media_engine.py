"""The engine and voice notes or photos (pure: descriptors in, the draft and replies out): kept at
the account, where alone they may be the whole account; a caption joins the typed account; too
big, not fetched, not a kind we take, too many: each says why, and nothing is kept of it."""

from __future__ import annotations

from intake.engine import SubmitReport
from intake.messages import DRAFT_MEDIA, MAX_MEDIA_ITEMS, Media
from tests.intake.test_engine import Chat, FakeDirectory, make_context
from tests.support.play import Lines, Player

RECEIVED = "Received. Send more, or choose below when you have finished."


def voice(n: int = 1) -> Media:
    return Media("voice", "audio/ogg", 1200, ref=f"r{n}", key=f"k{n}")


def at_account() -> tuple[Chat, Player]:
    chat = Chat(make_context(directory=FakeDirectory(), receipt="482109375566"))
    player = Player(Lines(chat.send), organisation="DRA", where="Sittwe", account=["done"])
    player.play(until="account")
    return chat, player


def test_a_voice_note_alone_is_an_account_and_is_sent_with_the_report():
    chat, player = at_account()
    assert chat.send("", media=(voice(),)).startswith(RECEIVED)
    assert chat.state.draft[DRAFT_MEDIA] == [{"ref": "r1", "key": "k1", "kind": "voice",
                                              "content_type": "audio/ogg", "size": 1200}]
    assert "Messages about what happened: 1" in player.play(until="review").text
    player.play()
    [submitted] = [e for e in chat.result.effects if isinstance(e, SubmitReport)]
    assert submitted.answers[DRAFT_MEDIA][0]["ref"] == "r1" and "account" not in submitted.answers


def test_finishing_with_neither_text_nor_media_is_still_refused():
    chat, _ = at_account()
    assert chat.send("1").startswith("Please tell us what happened first.")


def test_a_caption_is_typed_account():
    chat, _ = at_account()
    chat.send("He said it at the gate", media=(Media("photo", "image/jpeg", 900, ref="p", key="q"),))
    assert chat.state.draft["account"] == ["He said it at the gate"] and len(chat.state.draft[DRAFT_MEDIA]) == 1


def test_what_is_not_kept_says_why_and_leaves_nothing():
    chat, _ = at_account()
    for problem, said in (("too_big", "That file is too big. Please send a shorter one."),
                          ("failed", "We could not get that file. Please send it again."),
                          ("unsupported", "We can take text, voice notes and photos only."),
                          ("text_only", "We can only read text. Please type your answer.")):
        reply = chat.send("", media=(Media("voice", problem=problem),))
        assert reply.startswith(said + "\nWhat happened?"), reply
        assert DRAFT_MEDIA not in chat.state.draft and chat.state.position == "report.account"


def test_no_more_than_the_limit_is_kept():
    chat, _ = at_account()
    for n in range(MAX_MEDIA_ITEMS):
        chat.send("", media=(voice(n),))
    reply = chat.send("", media=(voice(99),))
    assert reply.startswith("We cannot take more files for this report.")
    assert len(chat.state.draft[DRAFT_MEDIA]) == MAX_MEDIA_ITEMS
    assert "r99" not in {item["ref"] for item in chat.state.draft[DRAFT_MEDIA]}


def test_elsewhere_a_voice_note_says_where_it_is_taken():
    chat = Chat(make_context(directory=FakeDirectory()))
    chat.send("hi")
    chat.send("1")
    reply = chat.send("", media=(Media("voice", "audio/ogg", problem="not_fetched"),))
    assert reply.startswith("Please type your answer. You can send a voice note or photo when you tell us what "
                            "happened.")
    assert chat.state.draft == {}


def test_two_items_refused_for_one_reason_keep_nothing_and_say_it_once():
    chat, _ = at_account()
    reply = chat.send("", media=(Media("photo", problem="too_big"), Media("voice", problem="too_big")))
    assert reply.startswith("That file is too big. Please send a shorter one.\nWhat happened?")
    assert reply.count("too big") == 1 and DRAFT_MEDIA not in chat.state.draft
