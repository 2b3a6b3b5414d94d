"""Voice notes, audio and photos from Telegram and WhatsApp (Twilio): fetched from the provider
and sealed before the message's unit of work, so that no download ever runs while the
conversation (on SQLite, the whole database) is locked.

`collect` looks first whether the conversation is at a step that takes media (a short read, no
lock kept); only then does it fetch, each item capped at MAX_MEDIA_BYTES and all of one message
within FETCH_SECONDS, strips a photo of its metadata by decoding and encoding it again (EXIF, GPS,
the camera, the time it was taken: none of it survives), and seals each item with a key of its own
(storage.media). What it returns goes two ways: the descriptors into the `Inbound` for the engine,
the sealed bodies to the inbox, which stores those the engine kept.

Nothing fetched is logged, written to disk or kept in clear; a failure is logged as its kind.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from typing import Callable

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from intake.flows import find_step
from intake.messages import AUDIO_TYPES, MAX_MEDIA_ITEMS, MEDIA_KINDS, PHOTO_TYPE, Media
from storage import conversations
from storage import media as sealed_media

log = logging.getLogger(__name__)

# All downloads of one message together: Twilio waits 15 s for the webhook's answer.
FETCH_SECONDS = 8.0
CONNECT_SECONDS = 3.0
# Decoding a photo of more pixels than this is refused (a small file can unpack to gigabytes).
MAX_PIXELS = 40_000_000


class TooBig(Exception):
    """The item is over MAX_MEDIA_BYTES."""


class FetchFailed(Exception):
    """The provider did not give the item (refused, timed out, gone, not an image)."""


@dataclass(frozen=True)
class Offered:
    """A media item a message carries, as the provider describes it: `fetch(client, cap,
    deadline)` downloads it (raising TooBig or FetchFailed); `size` is the size the provider
    declared, if any; `problem` says why it will not be fetched, if the channel knows already."""

    kind: str
    content_type: str
    size: int | None
    fetch: Callable[[httpx.Client, int, float], bytes] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Collected:
    """What a message's media became: descriptors for the engine, sealed bodies for the inbox."""

    media: tuple[Media, ...] = ()
    sealed: tuple[sealed_media.Sealed, ...] = ()


def download(client: httpx.Client, url: str, cap: int, deadline: float, auth: tuple[str, str] | None = None) -> bytes:
    """GET `url` into memory, at most `cap` bytes, by `deadline` (time.monotonic)."""
    chunks, size = [], 0
    try:
        with client.stream("GET", url, auth=auth) as response:
            if response.status_code != 200:
                raise FetchFailed(f"HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > cap:
                raise TooBig
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise TooBig
                if time.monotonic() > deadline:
                    raise FetchFailed("too slow")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise FetchFailed(type(error).__name__) from None
    return b"".join(chunks)


def strip_photo(data: bytes) -> bytes:
    """The photo decoded and encoded again as JPEG: only its pixels survive (turned upright first,
    since the orientation tag goes with the rest of the metadata)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise FetchFailed("too many pixels")
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise FetchFailed(type(error).__name__) from None
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)  # a new image: no info dictionary, no EXIF, no ICC profile, no comment
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def takes_media(runtime, channel: str, sender_key: str) -> bool:
    """Whether the conversation is at a step that takes media (a look without a lock kept)."""
    with runtime.transaction() as session:
        state = conversations.peek_state(session, runtime.vault, channel, sender_key)
    if state is None or state.position is None:
        return False
    try:
        return find_step(state.position, runtime.context.flows).media
    except KeyError:
        return False


def collect(runtime, channel: str, sender_key: str, offered: list[Offered]) -> Collected:
    """Fetch, clean and seal what a message offers, if the conversation takes it now; call it
    with no transaction open."""
    if not offered:
        return Collected()
    if not any(item.kind in MEDIA_KINDS and item.fetch for item in offered) \
            or not takes_media(runtime, channel, sender_key):
        return Collected(tuple(Media(item.kind, item.content_type, item.size or 0,
                                     problem=item.problem or ("not_fetched" if item.kind in MEDIA_KINDS and item.fetch
                                                              else "unsupported")) for item in offered))
    cap = runtime.settings.max_media_bytes
    deadline = time.monotonic() + FETCH_SECONDS
    media, sealed = [], []
    with httpx.Client(timeout=httpx.Timeout(FETCH_SECONDS, connect=CONNECT_SECONDS), follow_redirects=True) as client:
        for number, item in enumerate(offered):
            problem, data = _fetch(client, item, cap, deadline, number)
            if problem is not None:
                media.append(Media(item.kind, item.content_type, item.size or 0, problem=problem))
                continue
            content_type = PHOTO_TYPE if item.kind == "photo" else item.content_type
            one = sealed_media.seal(data, kind=item.kind, content_type=content_type)
            sealed.append(one)
            media.append(Media(item.kind, content_type, one.size, ref=one.ref, key=one.key))
    return Collected(tuple(media), tuple(sealed))


def _fetch(client: httpx.Client, item: Offered, cap: int, deadline: float, number: int) -> tuple[str | None, bytes]:
    if item.kind not in MEDIA_KINDS or item.fetch is None:
        return item.problem or "unsupported", b""
    if number >= MAX_MEDIA_ITEMS:
        return "unsupported", b""
    if item.size is not None and item.size > cap:
        return "too_big", b""
    try:
        data = item.fetch(client, cap, deadline)
        if item.kind == "photo":
            data = strip_photo(data)
        if len(data) > cap:
            raise TooBig
    except TooBig:
        return "too_big", b""
    except FetchFailed as error:
        log.warning("a %s could not be fetched: %s", item.kind, error)
        return "failed", b""
    return None, data


def telegram_file(settings, file_id: str) -> Callable[[httpx.Client, int, float], bytes]:
    """How to fetch a Telegram file: getFile for its path, then the download path (the Bot API
    serves files up to 20 MB)."""
    base = f"{settings.telegram_api_base_url}"
    token = settings.telegram_bot_token

    def fetch(client: httpx.Client, cap: int, deadline: float) -> bytes:
        try:
            answer = client.post(f"{base}/bot{token}/getFile", json={"file_id": file_id}).json()
        except (httpx.HTTPError, ValueError) as error:
            raise FetchFailed(f"getFile: {type(error).__name__}") from None
        result = answer.get("result") if isinstance(answer, dict) and answer.get("ok") is True else None
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str) or not path or ".." in path:
            raise FetchFailed("getFile gave no file path")
        if isinstance(result.get("file_size"), int) and result["file_size"] > cap:
            raise TooBig
        return download(client, f"{base}/file/bot{token}/{path}", cap, deadline)

    return fetch


def twilio_media(settings, url: str) -> Callable[[httpx.Client, int, float], bytes] | None:
    """How to fetch a Twilio media URL (with the account's HTTP basic auth), or None for a URL
    that is not Twilio's API: a signed webhook names only Twilio's, and nothing else is fetched."""
    base = (settings.twilio_api_base_url or "https://api.twilio.com").rstrip("/")
    if not url.startswith(f"{base}/") or not settings.twilio_account_sid or not settings.twilio_auth_token:
        return None
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    return lambda client, cap, deadline: download(client, url, cap, deadline, auth=auth)


def audio_type(content_type: str | None) -> str | None:
    """The audio type as stored, if it is one browsers play ("audio/ogg; codecs=opus" -> "audio/ogg")."""
    # A string from Twilio and the Bot API; a forged Telegram update may carry anything (de_json
    # does not check types).
    kind = content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else ""
    return kind if kind in AUDIO_TYPES else None
