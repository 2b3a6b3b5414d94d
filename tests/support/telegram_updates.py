"""Telegram updates exactly as the Bot API delivers them (to a webhook, or in getUpdates).

`UpdateFactory` builds the JSON-ready dicts: field names and shapes follow the Bot API (checked
against python-telegram-bot's `Update.de_json`, which files any unknown field under `api_kwargs`,
so a misspelt field would show). Update ids increase across the factory; message ids increase per
chat. Post a payload to the app's webhook as JSON, or queue it with `FakeTelegram.push_update`.

Give the factory the fake (`UpdateFactory(telegram=fake)`) and users' messages and the bot's share
one message-id sequence per chat, as in a real chat, and every update built is registered with the
fake, so the bot can delete or answer what it refers to.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from datetime import datetime
from typing import Any, Callable

from tests.support.fake_telegram import bot_user

FIRST_UPDATE_ID = 640_000_001  # real update ids are large; a test must not assume they start at 1
DEFAULT_FIRST_NAME = "Aye"
DEFAULT_LANGUAGE = "en"
DEFAULT_GROUP_MEMBER = 5_550_000_001
SUPERGROUP_MIN = -1_000_000_000_000  # supergroup and channel ids are -100xxxxxxxxxx

# How a member record looks for each status a bot's own membership can take in a private chat or
# a group (administrator/creator need a dozen rights fields and are not needed here).
MEMBER_STATUSES = ("member", "kicked", "left", "restricted")


class UpdateFactory:
    """Builds update dicts; each builder takes the chat id (and text) and returns
    `{"update_id": ..., <kind>: {...}}`.

    Private chats: the chat id is the user's id (positive), and the sender is the user registered
    with `user(...)` for that id, else one named "Aye" speaking `language_code` "en". Groups have
    negative ids; supergroups and channels ids at or below -1000000000000.
    """

    def __init__(self, telegram: Any = None, *, clock: Callable[[], Any] | None = None,
                 first_update_id: int = FIRST_UPDATE_ID, bot: dict | None = None):
        """`telegram`: a FakeTelegram to share message ids with and register updates in.
        `clock`: returns a datetime or epoch seconds (default: now). `bot`: the bot as a User
        dict (default: the fake's bot, or the fake's default bot)."""
        self.telegram = telegram
        self.clock = clock or time.time
        self.bot = dict(bot or (telegram.bot_user if telegram is not None else bot_user()))
        self._update_ids = itertools.count(first_update_id)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._message_ids: dict[int, int] = {}
        self._users: dict[int, dict] = {}

    # ---- people and chats ----------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = DEFAULT_FIRST_NAME, *, last_name: str | None = None,
             username: str | None = None, language_code: str | None = DEFAULT_LANGUAGE) -> dict:
        """Register (or replace) the profile of a user and return it as a User object; builders
        use it for messages from that user (in a private chat: the chat with that id)."""
        user: dict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def private_chat(self, chat_id: int) -> dict:
        """The Chat object of a private chat: the user's id and names, type "private"."""
        _check_private(chat_id)
        user = self._user(chat_id)
        chat = {"id": chat_id, "first_name": user["first_name"]}
        for name in ("last_name", "username"):
            if name in user:
                chat[name] = user[name]
        chat["type"] = "private"
        return chat

    # ---- messages in a private chat ------------------------------------------------------------

    def message(self, chat_id: int, text: str, *, entities: list[dict] | None = None,
                language_code: str | None = None) -> dict:
        """A text message a user sent the bot in their private chat. `language_code`, if given,
        overrides the user's (Telegram sends the app's interface language)."""
        fields: dict = {"text": text}
        if entities:
            fields["entities"] = entities
        return self._update("message", self._private_message(chat_id, fields, language_code))

    def command(self, chat_id: int, command: str = "start", payload: str | None = None, *,
                language_code: str | None = None) -> dict:
        """A command ("/help", or "/start <payload>" from a t.me/<bot>?start=<payload> link), with
        the bot_command entity Telegram adds."""
        word = f"/{command.lstrip('/')}"
        text = f"{word} {payload}" if payload else word
        return self.message(chat_id, text, language_code=language_code,
                            entities=[{"offset": 0, "length": len(word), "type": "bot_command"}])

    def start(self, chat_id: int, payload: str | None = None, *, language_code: str | None = None) -> dict:
        """The /start a user sends by pressing Start (or opening a deep link with `payload`)."""
        return self.command(chat_id, "start", payload, language_code=language_code)

    def edited_message(self, chat_id: int, message_id: int, text: str, *, sent_seconds_ago: int = 60) -> dict:
        """The user edited their earlier message `message_id` to `text`."""
        now = self._now()
        message = {"message_id": message_id, "from": self._user(chat_id),
                   "chat": self.private_chat(chat_id), "date": now - sent_seconds_ago,
                   "edit_date": now, "text": text}
        return self._update("edited_message", message)

    def callback_query(self, chat_id: int, data: str, message: dict | None = None, *,
                       message_id: int | None = None, message_text: str = "Please choose:",
                       reply_markup: dict | None = None) -> dict:
        """The user pressed an inline keyboard button carrying callback_data `data` under the
        bot's message: pass that message (as sendMessage returned it, or `fake.message(...)`), or
        its `message_id` (looked up in the fake when there is one; otherwise built with
        `message_text` and `reply_markup`, by default a one-button keyboard sending `data`)."""
        if message is None:
            if message_id is not None and self.telegram is not None:
                message = self.telegram.message(chat_id, message_id)
            if message is None:
                markup = reply_markup or {"inline_keyboard": [[{"text": data, "callback_data": data}]]}
                message = {"message_id": message_id if message_id is not None else self._next_message_id(chat_id),
                           "from": dict(self.bot), "chat": self._chat(chat_id), "date": self._now() - 5,
                           "text": message_text, "reply_markup": markup}
        query = {"id": str(4_382_000_000_000_000_000 + next(self._callback_ids)),
                 "from": self._sender(chat_id), "message": message,
                 "chat_instance": _chat_instance(chat_id), "data": data}
        return self._update("callback_query", query)

    def photo(self, chat_id: int, caption: str | None = None, *, width: int = 1280, height: int = 960,
              content: bytes | None = None) -> dict:
        """A photo (Telegram sends every size it made, smallest first), with an optional caption;
        with `content`, the fake Bot API holds it as the largest size."""
        base, sizes = self._file_id("AgACAgIAAxkBAAI"), []
        for side in (90, 320, 800, 1280):
            scale = min(1.0, side / max(width, height))
            w, h = round(width * scale), round(height * scale)
            sizes.append({"file_id": f"{base}{side}", "file_unique_id": _unique(base, side),
                          "file_size": w * h // 8, "width": w, "height": h})
            if scale == 1.0:
                break
        if content is not None:
            sizes[-1]["file_size"] = len(content)
            self._hold(sizes[-1]["file_id"], content)
        fields: dict = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._update("message", self._private_message(chat_id, fields))

    def voice(self, chat_id: int, duration: int = 4, content: bytes | None = None,
              mime_type: str = "audio/ogg") -> dict:
        """A voice note (Opus in Ogg, as Telegram's apps record them); with `content`, the fake
        Bot API holds it for getFile and the download."""
        file_id = self._file_id("AwACAgIAAxkBAAI")
        voice = {"duration": duration, "mime_type": mime_type, "file_id": file_id,
                 "file_unique_id": _unique(file_id), "file_size": len(content) if content else 4_000 * duration}
        self._hold(file_id, content)
        return self._update("message", self._private_message(chat_id, {"voice": voice}))

    def audio(self, chat_id: int, content: bytes | None = None, *, mime_type: str = "audio/wav",
              duration: int = 1, file_name: str = "recording.wav") -> dict:
        """An audio file (sent from the phone's files or recorder app)."""
        file_id = self._file_id("CQACAgIAAxkBAAI")
        audio = {"duration": duration, "mime_type": mime_type, "file_name": file_name, "file_id": file_id,
                 "file_unique_id": _unique(file_id), "file_size": len(content) if content else 16_000}
        self._hold(file_id, content)
        return self._update("message", self._private_message(chat_id, {"audio": audio}))

    def _hold(self, file_id: str, content: bytes | None) -> None:
        if content is not None and self.telegram is not None:
            self.telegram.add_file(file_id, content)

    def sticker(self, chat_id: int, emoji: str = "👍", set_name: str = "HotCherry") -> dict:
        """A (static, regular) sticker from a sticker set."""
        file_id = self._file_id("CAACAgIAAxkBAAI")
        thumb_id = self._file_id("AAMCAgADGQEAAI")
        sticker = {"width": 512, "height": 512, "emoji": emoji, "set_name": set_name,
                   "is_animated": False, "is_video": False, "type": "regular",
                   "thumbnail": {"file_id": thumb_id, "file_unique_id": _unique(thumb_id),
                                 "file_size": 5_000, "width": 128, "height": 128},
                   "file_id": file_id, "file_unique_id": _unique(file_id), "file_size": 24_000}
        return self._update("message", self._private_message(chat_id, {"sticker": sticker}))

    def location(self, chat_id: int, latitude: float = 16.8409, longitude: float = 96.1735) -> dict:
        """A location the user shared (a pin; not a live location)."""
        return self._update("message", self._private_message(
            chat_id, {"location": {"latitude": latitude, "longitude": longitude}}))

    def document(self, chat_id: int, file_name: str = "report.pdf", mime_type: str = "application/pdf",
                 caption: str | None = None, file_size: int = 48_213) -> dict:
        """A file sent as a document."""
        file_id = self._file_id("BQACAgIAAxkBAAI")
        document = {"file_name": file_name, "mime_type": mime_type, "file_id": file_id,
                    "file_unique_id": _unique(file_id), "file_size": file_size}
        fields: dict = {"document": document}
        if caption:
            fields["caption"] = caption
        return self._update("message", self._private_message(chat_id, fields))

    def contact(self, chat_id: int, phone_number: str, first_name: str | None = None, *,
                last_name: str | None = None, user_id: int | None = None) -> dict:
        """A shared contact. Sharing their own number (a request_contact button) gives the user's
        own names and `user_id` = chat id; pass `user_id` for that case."""
        contact = {"phone_number": phone_number,
                   "first_name": first_name or self._user(chat_id)["first_name"]}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self._update("message", self._private_message(chat_id, {"contact": contact}))

    def poll(self, chat_id: int, question: str, options: list[str], *, anonymous: bool = True) -> dict:
        """A message carrying a poll the user created in the chat."""
        return self._update("message", self._private_message(
            chat_id, {"poll": self._poll(question, options, anonymous)}))

    def poll_state(self, question: str, options: list[str], votes: list[int] | None = None, *,
                   poll_id: str | None = None, closed: bool = False) -> dict:
        """An update carrying only a poll's new state (the `poll` update a bot gets for polls it
        sent); no chat."""
        poll = self._poll(question, options, True, votes, closed)
        if poll_id:
            poll["id"] = poll_id
        return self._update("poll", poll)

    def my_chat_member(self, chat_id: int, old_status: str = "member", new_status: str = "kicked", *,
                       user_id: int | None = None) -> dict:
        """The bot's own membership changed: in a private chat "member" -> "kicked" is the user
        blocking the bot ("kicked" -> "member" unblocking it); in a group, the bot was added or
        removed by `user_id`."""
        for status in (old_status, new_status):
            if status not in MEMBER_STATUSES:
                raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        actor = self._user(chat_id) if chat_id > 0 else self._user(user_id or DEFAULT_GROUP_MEMBER)
        change = {"chat": self._chat(chat_id), "from": actor, "date": self._now(),
                  "old_chat_member": self._member(old_status), "new_chat_member": self._member(new_status)}
        return self._update("my_chat_member", change)

    # ---- other chats -----------------------------------------------------------------------------

    def group_message(self, chat_id: int, text: str, *, user_id: int = DEFAULT_GROUP_MEMBER,
                      title: str = "Field team") -> dict:
        """A text message in a basic group (negative id above -1000000000000)."""
        if not SUPERGROUP_MIN < chat_id < 0:
            raise ValueError("a basic group's id is negative and above -1000000000000")
        chat = {"id": chat_id, "title": title, "type": "group", "all_members_are_administrators": True}
        return self._update("message", self._chat_message(chat, user_id, text))

    def supergroup_message(self, chat_id: int, text: str, *, user_id: int = DEFAULT_GROUP_MEMBER,
                           title: str = "Coordination") -> dict:
        """A text message in a supergroup (id -100xxxxxxxxxx)."""
        if chat_id > SUPERGROUP_MIN:
            raise ValueError("a supergroup's id is at or below -1000000000000")
        chat = {"id": chat_id, "title": title, "type": "supergroup"}
        return self._update("message", self._chat_message(chat, user_id, text))

    def channel_post(self, chat_id: int, text: str, *, title: str = "Announcements") -> dict:
        """A post in a channel the bot administers: no `from`, the channel is the sender_chat."""
        if chat_id > SUPERGROUP_MIN:
            raise ValueError("a channel's id is at or below -1000000000000")
        chat = {"id": chat_id, "title": title, "type": "channel"}
        post = {"message_id": self._next_message_id(chat_id), "sender_chat": dict(chat), "chat": chat,
                "date": self._now(), "text": text}
        return self._update("channel_post", post)

    # ---- internals -------------------------------------------------------------------------------

    def _update(self, kind: str, value: dict) -> dict:
        update = {"update_id": next(self._update_ids), kind: value}
        if self.telegram is not None:
            self.telegram.register_update(update)
        return update

    def _now(self) -> int:
        now = self.clock()
        return int(now.timestamp() if isinstance(now, datetime) else now)

    def _next_message_id(self, chat_id: int) -> int:
        if self.telegram is not None:
            return self.telegram.next_message_id(chat_id)
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user(self, user_id: int) -> dict:
        if user_id not in self._users:
            self.user(user_id)
        return dict(self._users[user_id])

    def _sender(self, chat_id: int) -> dict:
        return self._user(chat_id if chat_id > 0 else DEFAULT_GROUP_MEMBER)

    def _chat(self, chat_id: int) -> dict:
        if chat_id > 0:
            return self.private_chat(chat_id)
        if chat_id > SUPERGROUP_MIN:
            return {"id": chat_id, "title": "Field team", "type": "group",
                    "all_members_are_administrators": True}
        return {"id": chat_id, "title": "Coordination", "type": "supergroup"}

    def _private_message(self, chat_id: int, fields: dict, language_code: str | None = None) -> dict:
        sender = self._user(chat_id)
        if language_code:
            sender["language_code"] = language_code
        return {"message_id": self._next_message_id(chat_id), "from": sender,
                "chat": self.private_chat(chat_id), "date": self._now(), **fields}

    def _chat_message(self, chat: dict, user_id: int, text: str) -> dict:
        return {"message_id": self._next_message_id(chat["id"]), "from": self._user(user_id),
                "chat": chat, "date": self._now(), "text": text}

    def _member(self, status: str) -> dict:
        member: dict = {"user": dict(self.bot), "status": status}
        if status == "kicked":
            member["until_date"] = 0  # 0: for ever
        elif status == "restricted":
            member.update(is_member=True, can_send_messages=False, can_send_audios=False,
                          can_send_documents=False, can_send_photos=False, can_send_videos=False,
                          can_send_video_notes=False, can_send_voice_notes=False, can_send_polls=False,
                          can_send_other_messages=False, can_add_web_page_previews=False,
                          can_change_info=False, can_invite_users=False, can_pin_messages=False,
                          can_manage_topics=False, can_edit_tag=False, until_date=0)
        return member

    def _poll(self, question: str, options: list[str], anonymous: bool,
              votes: list[int] | None = None, closed: bool = False) -> dict:
        votes = votes or [0] * len(options)
        return {"id": str(5_300_000_000_000_000_000 + next(self._callback_ids)), "question": question,
                "options": [{"text": text, "voter_count": count, "persistent_id": str(index)}
                            for index, (text, count) in enumerate(zip(options, votes))],
                "total_voter_count": sum(votes), "is_closed": closed, "is_anonymous": anonymous,
                "type": "regular", "allows_multiple_answers": False, "allows_revoting": True,
                "members_only": False}

    def _file_id(self, prefix: str) -> str:
        # Real file ids are long base64url strings whose first bytes encode the file type.
        digest = hashlib.sha256(f"{prefix}{next(self._file_ids)}".encode()).hexdigest()
        return f"{prefix}{digest[:40]}"


def _check_private(chat_id: int) -> None:
    if chat_id <= 0:
        raise ValueError("a private chat's id is the user's id, which is positive")


def _unique(file_id: str, salt: Any = "") -> str:
    return "AQAD" + hashlib.sha256(f"{file_id}{salt}".encode()).hexdigest()[:12]


def _chat_instance(chat_id: int) -> str:
    # Stable per chat, a signed 64-bit number as a string, like Telegram's.
    digest = int(hashlib.sha256(str(chat_id).encode()).hexdigest()[:15], 16)
    return str(-digest)
