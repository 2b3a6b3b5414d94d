"""Reports without reading or writing: voice notes and photos sent during the account, end to end
through the real webhooks, with the providers' file APIs faked over loopback HTTP (Telegram's
getFile and download path, Twilio's media URLs behind basic auth).

What must hold: the item is fetched only where the account is asked, sealed before anything is
stored (no byte of it in clear in the database file), stripped of a photo's metadata, refused
with a clear word in the person's language when too big or not fetched, wiped from the Telegram
chat with the rest of the report, dropped when the report is not sent, and played or viewed by
the receiving organisation's focal point alone, through a route that opens it on the fly.
"""

from __future__ import annotations

import io
import secrets
import wave
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.delivery.worker import OutboxWorker
from storage.models import AuditEntry, MediaItem, Referral
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.fake_twilio import FakeTwilio
from tests.support.play import Player, Sms, Telegram
from tests.support.portal import PortalUser
from tests.support.telegram_chat import CHAT, Person, telegram_settings

PASSWORD = "a long password!"
RECEIVED = "Received. Send more, or choose below when you have finished."
TWILIO_ACCOUNT = "AC" + "0" * 32


def wav_with(marker: bytes, seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A small valid WAV (16-bit mono PCM) whose samples carry `marker`, to look for later."""
    frames = int(seconds * rate) * 2
    samples = (marker * (frames // len(marker) + 1))[:frames]
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return out.getvalue()


def jpeg_with_gps(maker: str) -> bytes:
    """A JPEG with EXIF: the camera's maker and model and a GPS position (Sittwe)."""
    image = Image.new("RGB", (64, 48), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = maker  # Make
    exif[0x0110] = "Model-GPS-Test"  # Model
    exif[0x8825] = {1: "N", 2: (20.0, 8.0, 49.0), 3: "E", 4: (92.0, 54.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo should carry GPS"
    return data


def database_bytes(app) -> bytes | None:
    """The SQLite database's files as they are on disk (with the write-ahead log), or None on
    PostgreSQL."""
    url = app.extensions["intake"].settings.database_url
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(part.read_bytes() for part in (path, Path(f"{path}-wal")) if part.exists())


def count(app, model) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def only_case_ref(app) -> str:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(Referral.case_ref)).scalar_one()


def media_src(page: str) -> str:
    start = page.index('src="/portal/referrals/') + len('src="')
    return page[start:page.index('"', start)]


# ---- Telegram -------------------------------------------------------------------------------

@pytest.fixture
def app(telegram_app):
    return telegram_app


def to_the_account(person: Person, language: str = "en", **answers) -> Player:
    player = Player(Telegram(person), language=language, answers={"organisation": "Demo Relief Agency", "where": "Botahtaung",
                                               "account": ["done"], **answers})
    player.play(until="account")
    return player


def test_a_telegram_voice_note_is_sealed_played_by_its_focal_point_alone_and_wiped(app, person, updates,
                                                                                  telegram):
    marker = b"VOICE-" + secrets.token_hex(12).encode()
    audio = wav_with(marker)
    player = to_the_account(person)
    voice = updates.audio(CHAT, audio)
    [received] = person.send(voice)
    assert received["text"] == RECEIVED
    assert telegram.calls("getFile") and telegram.downloads()
    review = player.play(until="review")  # "I have finished" with no text: the voice note is the account
    assert "Messages about what happened: 1" in review.text
    player.play()
    assert player.receipt

    # Nothing of it in clear anywhere in the database file; one sealed row, the report's.
    stored = database_bytes(app)
    assert stored is None or (marker not in stored and audio[44:300] not in stored)
    with app.extensions["intake"].sessions() as session:
        [row] = session.execute(select(MediaItem)).scalars().all()
        assert row.report_id is not None and marker not in row.body

    # Wiped from the chat with the rest of the report.
    assert voice["message"]["message_id"] in telegram.deleted().get(CHAT, [])

    # The focal point of the receiving organisation plays it: the exact bytes, as audio, not cached.
    d.key_holder(app, app.seeded.dra, "DRA")
    d.key_holder(app, app.seeded.ehp, "EHP")
    case_ref = only_case_ref(app)
    dra = PortalUser(app.test_client())
    dra.login("focal_point@dra.example.org", PASSWORD)
    page = dra.client.get(f"/portal/referrals/{case_ref}").get_data(as_text=True)
    assert "<audio controls" in page and "Voice notes and photos" in page
    src = media_src(page)
    response = dra.client.get(src)
    assert response.status_code == 200 and response.data == audio
    assert response.mimetype == "audio/wav"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    ranged = dra.client.get(src, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.data == audio[100:200]
    with app.extensions["intake"].sessions() as session:
        opened = session.execute(select(AuditEntry).where(AuditEntry.action == "open_media")).scalars().all()
    assert [entry.detail for entry in opened] == ["audio"]  # the range request is the same opening

    # Another organisation's focal point, and nobody logged in, get nothing.
    ehp = PortalUser(app.test_client())
    ehp.login("focal_point@ehp.example.org", PASSWORD)
    assert ehp.client.get(src).status_code == 404
    assert ehp.client.get(src.replace(case_ref, "R-AAAAAA")).status_code == 404
    assert app.test_client().get(src).status_code in (302, 303)
    assert dra.client.get(src[:-4] + "0000").status_code == 404


def test_a_voice_note_and_a_photo_with_a_caption_all_go_into_the_account(app, person, updates, telegram):
    player = to_the_account(person)
    [first] = person.send(updates.voice(CHAT, content=b"OggS" + secrets.token_bytes(600)))
    assert first["text"] == RECEIVED
    [second] = person.send(updates.photo(CHAT, caption="He took this at the gate. Cp9-caption",
                                         content=jpeg_with_gps("CaptionCam")))
    assert second["text"] == RECEIVED
    assert "Messages about what happened: 3" in player.play(until="review").text
    player.play()
    d.key_holder(app, app.seeded.dra, "DRA")
    dra = PortalUser(app.test_client())
    dra.login("focal_point@dra.example.org", PASSWORD)
    page = dra.client.get(f"/portal/referrals/{only_case_ref(app)}").get_data(as_text=True)
    assert "Cp9-caption" in page and page.count("<audio controls") == 1 and page.count("<img src=") == 1
    assert count(app, MediaItem) == 2


def test_a_voice_note_too_big_is_refused_in_the_persons_language_and_not_fetched(make_app, telegram, updates):
    app = d.with_directory(make_app(**telegram_settings(telegram), MAX_MEDIA_BYTES="2048"))
    person = Person(app.test_client(), telegram, updates)
    to_the_account(person, language="my")
    [refused] = person.send(updates.voice(CHAT, content=secrets.token_bytes(5000)))
    assert refused["text"].startswith("ဖိုင်က ကြီးလွန်းတယ်။")
    assert telegram.calls("getFile") == [] and count(app, MediaItem) == 0


def test_a_file_the_provider_does_not_give_asks_for_it_again(app, person, updates, telegram):
    to_the_account(person)
    telegram.fail_next("getFile", 500)
    [again] = person.send(updates.voice(CHAT, content=b"OggS" + secrets.token_bytes(300)))
    assert again["text"].startswith("We could not get that file. Please send it again.\nWhat happened?")
    assert count(app, MediaItem) == 0
    [received] = person.send(updates.voice(CHAT, content=b"OggS" + secrets.token_bytes(300)))
    assert received["text"] == RECEIVED and count(app, MediaItem) == 1


def test_a_video_at_the_account_says_what_is_taken(app, person, updates):
    to_the_account(person)
    [reply] = person.send(updates.document(CHAT, file_name="clip.mp4", mime_type="video/mp4"))
    assert reply["text"].startswith("We can take text, voice notes and photos only.")
    assert count(app, MediaItem) == 0


def test_media_of_a_report_not_sent_are_deleted(app, person, updates, telegram, clock):
    to_the_account(person)
    person.send(updates.voice(CHAT, content=b"OggS" + secrets.token_bytes(300)))
    assert count(app, MediaItem) == 1
    [ended] = person.say("exit")
    assert ended["text"] == "Ended. This conversation was deleted."
    assert count(app, MediaItem) == 0  # the quick exit takes them at once

    to_the_account(person)
    person.send(updates.voice(CHAT, content=b"OggS" + secrets.token_bytes(300)))
    clock.advance(minutes=40)  # abandoned: the draft goes with the purge, the item a day later
    worker = OutboxWorker(app.extensions["intake"])
    worker.purge()
    assert count(app, MediaItem) == 1
    clock.advance(hours=25)
    assert worker.purge()["unsent_media_items"] == 1
    assert count(app, MediaItem) == 0


# ---- WhatsApp through Twilio -----------------------------------------------------------------

@pytest.fixture
def twilio_media():
    with FakeTwilio(auth_token="test-auth-token-0123456789") as fake:
        yield fake


def test_a_whatsapp_photo_is_fetched_with_basic_auth_and_kept_without_its_metadata(make_app, twilio_media):
    app = d.with_directory(make_app(TWILIO_API_BASE_URL=twilio_media.url))
    phone = Phone(app.test_client(), "whatsapp:+959450007777")
    player = Player(Sms(phone), answers={"organisation": "Demo Relief Agency", "where": "Botahtaung",
                                         "account": ["done"]})
    player.play(until="account")
    photo = jpeg_with_gps("ExifMarkerCam")
    url = twilio_media.add_media(TWILIO_ACCOUNT, photo, "image/jpeg")
    reply = phone.say("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert reply[0].startswith(RECEIVED)
    assert twilio_media.media_requests == [(TWILIO_ACCOUNT, url.removeprefix(twilio_media.url), 200)]
    player.play()
    assert player.receipt
    stored = database_bytes(app)
    assert stored is None or (b"ExifMarkerCam" not in stored and b"Model-GPS-Test" not in stored)

    d.key_holder(app, app.seeded.dra, "DRA")
    dra = PortalUser(app.test_client())
    dra.login("focal_point@dra.example.org", PASSWORD)
    page = dra.client.get(f"/portal/referrals/{only_case_ref(app)}").get_data(as_text=True)
    assert "<img src=" in page
    served = dra.client.get(media_src(page))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    kept = Image.open(io.BytesIO(served.data))
    assert kept.size == (64, 48) and kept.format == "JPEG"
    assert not kept.getexif() and not kept.getexif().get_ifd(0x8825) and "exif" not in kept.info
    assert b"ExifMarkerCam" not in served.data and b"Exif\x00\x00" not in served.data


def test_a_whatsapp_item_over_the_limit_is_cut_off_while_downloading(make_app, twilio_media):
    app = d.with_directory(make_app(TWILIO_API_BASE_URL=twilio_media.url, MAX_MEDIA_BYTES="4096"))
    phone = Phone(app.test_client(), "whatsapp:+959450007778")
    Player(Sms(phone), answers={"organisation": "Demo Relief Agency"}).play(until="account")
    url = twilio_media.add_media(TWILIO_ACCOUNT, secrets.token_bytes(50_000), "audio/ogg")
    reply = phone.say("", NumMedia="1", MediaUrl0=url, MediaContentType0="audio/ogg")
    assert reply[0].startswith("That file is too big. Please send a shorter one.")
    assert count(app, MediaItem) == 0


def test_a_media_url_that_is_not_twilios_is_never_fetched(make_app, twilio_media):
    app = d.with_directory(make_app(TWILIO_API_BASE_URL=twilio_media.url))
    phone = Phone(app.test_client(), "whatsapp:+959450007779")
    Player(Sms(phone), answers={"organisation": "Demo Relief Agency"}).play(until="account")
    reply = phone.say("", NumMedia="1", MediaUrl0="http://127.0.0.1:9/elsewhere.jpg", MediaContentType0="image/jpeg")
    assert reply[0].startswith("We can take text, voice notes and photos only.")
    assert twilio_media.media_requests == [] and count(app, MediaItem) == 0


def test_mms_on_sms_is_still_text_only(make_app, twilio_media):
    app = d.with_directory(make_app(TWILIO_API_BASE_URL=twilio_media.url))
    phone = Phone(app.test_client(), "+959450007780")
    Player(Sms(phone), answers={"organisation": "Demo Relief Agency"}).play(until="account")
    url = twilio_media.add_media(TWILIO_ACCOUNT, jpeg_with_gps("SmsCam"), "image/jpeg")
    reply = phone.say("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert reply[0].startswith("We can only read text. Please type your answer.\nWhat happened?")
    assert twilio_media.media_requests == []
