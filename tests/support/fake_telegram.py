"""A fake Telegram Bot API over real HTTP on loopback.

Point the app at it with TELEGRAM_API_BASE_URL = `fake.url`: requests arrive as Telegram's do, at
`/bot<TOKEN>/<method>`, and python-telegram-bot talks to it with `Bot(token, base_url=fake.bot_base_url)`
(PTB appends the token itself). It accepts every encoding the real API accepts (JSON,
application/x-www-form-urlencoded with JSON-encoded nested values, which is what PTB 22 sends,
multipart/form-data, query strings), records every call with its parameters normalised into one
shape, and answers like the Bot API: `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": ..., "description": ...}` with the same HTTP status.

It keeps just enough state to answer realistically: the bot's messages per chat (ids increase per
chat; edits and deletes apply), the update queue for getUpdates (long polling, offset
confirmation), and the webhook settings. Failures: `fail_next` (429 with retry_after, 403, 500...),
`block_chat` (the user blocked the bot), and `stop`/`start` on the same port (connection refused
while stopped).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from datetime import datetime
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from tests.support.smtp_sink import HOST, free_port

# Real tokens are "<bot id>:<35 characters>"; PTB and our own code only care that it has that shape.
DEFAULT_TOKEN = "7012345678:AAHfake-telegram-token-for-tests-01"
BOT_FIRST_NAME = "Intake"
BOT_USERNAME = "intake_test_bot"

LONG_POLL_LIMIT_SECONDS = 60  # a forgotten long poll ends instead of hanging a test run
MESSAGE_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes, not characters

PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z0-9_]+)$")
TOKEN_SHAPE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
SECRET_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_PORTS = {80, 88, 443, 8443}

# Update types a bot receives when it never chose (Bot API: "all update types except chat_member,
# message_reaction, and message_reaction_count").
NOT_DELIVERED_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}

# Parameters whose Bot API type is String: kept verbatim, never JSON-decoded. Without this list a
# numeric callback_query_id or a text of "42" would turn into a number.
STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "caption_parse_mode", "callback_query_id", "url", "secret_token",
    "ip_address", "inline_message_id", "business_connection_id", "message_effect_id", "action",
    "description", "short_description", "name", "title", "emoji", "question", "question_parse_mode",
    "explanation", "explanation_parse_mode", "address", "phone_number", "first_name", "last_name",
    "vcard", "foursquare_id", "foursquare_type", "google_place_id", "google_place_type", "photo",
    "document", "voice", "audio", "video", "animation", "video_note", "sticker", "thumbnail",
    "language_code", "custom_emoji_id", "file_id", "data", "start_parameter", "payload", "currency",
    "provider_token", "invite_link", "switch_pm_text", "switch_pm_parameter", "next_offset",
    "result_id", "icon_custom_emoji_id",
})

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
DEFAULT_RETRY_AFTER = 3  # Telegram always says how long to wait with a 429

NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (sendPhoto, sendDocument... with a local file)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Call:
    """One request the fake received, and how it answered.

    `method` is the Bot API's spelling ("sendMessage") whatever case the caller used (method
    names are case-insensitive at Telegram). `params` merges query string and body, decoded into
    Python values: chat_id and other numbers are ints, reply_markup / allowed_updates /
    message_ids are dicts and lists, String parameters stay strings. `status` is the HTTP status
    answered, 0 when the fake closed the connection without answering (stopped during a long poll).
    """

    token: str
    method: str
    params: dict
    status: int
    response: dict | None = field(default=None, compare=False)
    content_type: str = field(default="", compare=False)  # how the caller encoded the parameters

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    method: str | None  # lower case; None: any method
    error_code: int
    description: str
    retry_after: int | None
    remaining: int | None  # None: until clear_failures()


class _ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code", "description"[, "parameters"]}`."""

    def __init__(self, error_code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


class _Dropped(Exception):
    """The fake went down while the request waited: close the connection without an answer."""


def bot_user(token: str = DEFAULT_TOKEN, first_name: str = BOT_FIRST_NAME,
             username: str = BOT_USERNAME) -> dict:
    """The bot as a User object, as it appears in `from` of the bot's own messages."""
    return {"id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": first_name,
            "username": username}


def chat_type(chat_id: int | str) -> str:
    """The chat type Telegram's id ranges imply: users are positive, basic groups negative,
    supergroups and channels -100xxxxxxxxxx (the fake calls those supergroups)."""
    if isinstance(chat_id, str):  # "@channelusername"
        return "channel"
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a stopped fake leaves no kept-alive socket serving.
    protocol_version = "HTTP/1.0"
    server_version = "nginx/1.18.0"  # what api.telegram.org says it is
    sys_version = ""
    timeout = 10  # a client that never sends its body cannot hang `stop` (it joins handler threads)
    fake: "FakeTelegram"

    def log_message(self, format, *args):  # the request line carries the bot token; keep quiet
        pass

    def do_POST(self):
        self._serve()

    def do_GET(self):  # the Bot API accepts GET with a query string as well
        self._serve()

    def _serve(self):
        if self.path.startswith("/file/"):  # a file download, as getFile's file_path names it
            status, content = self.fake._download(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if status == 200 else "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        try:
            status, payload = self.fake._handle(self.path, content_type, body)
        except _Dropped:
            self.close_connection = True
            return
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so after `stop()` no request is still being answered.
    daemon_threads = False
    block_on_close = True


class FakeTelegram:
    """The Telegram Bot API for one bot (`token`), recording every call.

    Implemented methods: getMe, sendMessage, answerCallbackQuery, deleteMessage, deleteMessages,
    editMessageText, editMessageReplyMarkup, sendChatAction, setWebhook, deleteWebhook,
    getWebhookInfo, getUpdates, getFile. Any other method answers 404 "Not Found", as Telegram does.
    Files a user sent (`add_file`) are downloaded at `/file/bot<token>/<file_path>`, the path
    getFile gives; `downloads` lists what was downloaded.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, host: str = HOST, port: int | None = None,
                 clock: Callable[[], Any] = time.time):
        """`clock` gives message dates: epoch seconds or a datetime (the tests' Clock fits)."""
        self.token = token
        self.host = host
        self.port = port or free_port(host)
        self.clock = clock
        self.bot_user = bot_user(token)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # wakes long polls
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._blocked: dict[int | str, str] = {}
        self._messages: dict[tuple[int | str, int], dict] = {}  # live messages, the bot's and users'
        self._last_message_id: dict[int | str, int] = {}
        self._chats: dict[int | str, dict] = {}  # Chat objects seen in updates
        self._updates: list[dict] = []
        self._allowed_updates: list[str] = []  # [] = Telegram's default set
        self._webhook: dict | None = None
        self._polling = 0  # getUpdates calls waiting right now
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._downloads: list[str] = []
        self._down = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL (requests go to `{url}/bot{token}/{method}`)."""
        return f"http://{self.host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """What python-telegram-bot's `Bot(token, base_url=...)` wants: it appends the token."""
        return f"{self.url}/bot"

    # ---- what happened -------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received (answered, failed or dropped), in order; only `method`'s if given."""
        with self._lock:
            return [call for call in self._calls
                    if method is None or call.method.lower() == method.lower()]

    def sent_messages(self) -> list[dict]:
        """The params of every sendMessage Telegram accepted (failed attempts: `calls(...)`)."""
        return [call.params for call in self.calls("sendMessage") if call.ok]

    def deleted(self) -> dict[int | str, list[int]]:
        """Chat id -> message ids the bot deleted (deleteMessage and deleteMessages), in order.
        deleteMessages counts every id it was given: Telegram skips missing ones and says ok."""
        result: dict[int | str, list[int]] = {}
        for call in self.calls():
            if not call.ok or call.method not in ("deleteMessage", "deleteMessages"):
                continue
            ids = [call.params["message_id"]] if call.method == "deleteMessage" \
                else list(call.params["message_ids"])
            result.setdefault(call.params["chat_id"], []).extend(ids)
        return result

    def callback_answers(self) -> list[dict]:
        """The params of every answerCallbackQuery Telegram accepted."""
        return [call.params for call in self.calls("answerCallbackQuery") if call.ok]

    def message(self, chat_id: int | str, message_id: int) -> dict | None:
        """A message as Telegram holds it now (after edits), or None once deleted or unknown."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return json.loads(json.dumps(message)) if message else None

    def chat_messages(self, chat_id: int | str) -> list[dict]:
        """The live messages of a chat the fake knows of (the bot's, and users' from updates)."""
        with self._lock:
            found = [m for (chat, _), m in sorted(self._messages.items(), key=lambda item: item[0][1])
                     if chat == chat_id]
            return json.loads(json.dumps(found))

    @property
    def webhook(self) -> dict | None:
        """The webhook set with setWebhook (url, secret_token, allowed_updates, max_connections,
        drop_pending_updates, ip_address), or None."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    def pending_updates(self) -> list[dict]:
        """Updates pushed and not yet confirmed by a getUpdates offset."""
        with self._lock:
            return list(self._updates)

    # ---- steering ------------------------------------------------------------------------------

    def push_update(self, update: dict) -> dict:
        """Queue an update (a dict as Telegram sends it, e.g. from UpdateFactory) for getUpdates;
        a waiting long poll returns at once. Its messages and chat become known (see
        `register_update`)."""
        if not isinstance(update.get("update_id"), int):
            raise ValueError("an update needs an integer update_id")
        with self._lock:
            self._register(update)
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def wait_until_polling(self, timeout: float = 5.0) -> bool:
        """Block until a getUpdates long poll is waiting (False if none came within `timeout`):
        lets a test push an update to a poller that is really waiting, without sleeping."""
        with self._lock:
            return self._changed.wait_for(lambda: self._polling > 0, timeout=timeout)

    def register_update(self, update: dict) -> None:
        """Tell the fake about an update delivered some other way (posted to the app's webhook):
        the messages in it then exist for deleteMessage/editing, and its chat for sendMessage."""
        with self._lock:
            self._register(update)

    def next_message_id(self, chat_id: int | str) -> int:
        """Allocate the chat's next message id. Telegram numbers a private chat's messages in one
        sequence, users' and the bot's alike; UpdateFactory(telegram=fake) draws from it too."""
        with self._lock:
            return self._allocate_message_id(chat_id)

    def fail_next(self, method: str | None, error_code: int = 500, description: str | None = None,
                  times: int | None = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` (any method if None; all of them until
        `clear_failures` if times is None) with a Bot API error. A 429 always carries
        `parameters.retry_after` (default 3) and says "Too Many Requests: retry after N"; other
        codes get Telegram's usual description (403 "Forbidden: bot was blocked by the user")."""
        if error_code == 429:
            retry_after = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        with self._lock:
            self._failures.append(_Failure(method.lower() if method else None, error_code,
                                           description, retry_after, times))

    def clear_failures(self) -> None:
        """Drop every pending `fail_next`."""
        with self._lock:
            self._failures.clear()

    def block_chat(self, chat_id: int | str, description: str | None = None) -> None:
        """The user blocked the bot (or a group removed it): every send* and edit* to the chat
        answers 403. The description defaults to Telegram's for the chat's type."""
        if description is None:
            description = {"private": "Forbidden: bot was blocked by the user",
                           "group": "Forbidden: bot was kicked from the group chat",
                           "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                           "channel": "Forbidden: bot is not a member of the channel chat"}[chat_type(chat_id)]
        with self._lock:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int | str) -> None:
        """The user restarted the bot: messages reach the chat again."""
        with self._lock:
            self._blocked.pop(chat_id, None)

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "FakeTelegram":
        """Listen on the fake's port (the same one after a stop). State survives a restart, as
        Telegram's does across an outage."""
        if self._server is None:
            with self._lock:
                self._down = False
            handler = type("Handler", (_Handler,), {"fake": self})
            self._server = _Server((self.host, self.port), handler)
            # A short poll interval makes `stop` quick (shutdown waits for the next poll).
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                            name="fake-telegram", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until `start`. Long polls in progress end at
        once with the connection closed unanswered, as when Telegram's side goes away."""
        if self._server is not None:
            with self._lock:
                self._down = True
                self._changed.notify_all()
            self._server.shutdown()
            self._server.server_close()  # joins the handler threads (see _Server)
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # ---- files users sent -----------------------------------------------------------------------

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> str:
        """What the file `file_id` (from an update's voice, audio, photo or document) holds;
        returns its file_path."""
        kind = "photos" if file_id.startswith("AgAC") else "voice" if file_id.startswith("AwAC") else "documents"
        path = file_path or f"{kind}/file_{len(self._files)}.{ {'photos': 'jpg', 'voice': 'oga'}.get(kind, 'bin') }"
        with self._lock:
            self._files[file_id] = (path, content)
        return path

    def downloads(self) -> list[str]:
        """The file paths downloaded, in order."""
        with self._lock:
            return list(self._downloads)

    def _download(self, raw_path: str) -> tuple[int, bytes]:
        match = re.match(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$", urlsplit(raw_path).path)
        if match is None or match["token"] != self.token:
            return 401, json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode()
        with self._lock:
            found = next((content for path, content in self._files.values() if path == match["path"]), None)
            if found is not None:
                self._downloads.append(match["path"])
        if found is None:
            return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
        return 200, found

    # ---- request handling (handler threads) ----------------------------------------------------

    def _handle(self, raw_path: str, content_type: str, body: bytes) -> tuple[int, dict]:
        parts = urlsplit(raw_path)
        match = PATH.match(parts.path)
        token = match["token"] if match else ""
        method = match["method"] if match else parts.path
        params: dict = {}
        try:
            if match is None or not TOKEN_SHAPE.match(token):
                raise _ApiError(404, "Not Found")  # Telegram answers 404 to malformed tokens too
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            params = _parse_params(parts.query, content_type, body)
            implementation = METHODS.get(method.lower())
            if implementation is None:
                raise _ApiError(404, "Not Found")
            method = implementation.__name__.removeprefix("_m_")
            with self._lock:
                self._check_failures(method)
                status, payload = 200, {"ok": True, "result": implementation(self, params)}
                if isinstance(payload["result"], tuple):  # (result, description)
                    payload = {"ok": True, "result": payload["result"][0],
                               "description": payload["result"][1]}
        except _ApiError as error:
            status, payload = error.error_code, {"ok": False, "error_code": error.error_code,
                                                 "description": error.description}
            if error.parameters:
                payload["parameters"] = error.parameters
        except _Dropped:
            self._record(Call(token, method, params, 0, None, content_type))
            raise
        self._record(Call(token, method, params, status, payload, content_type))
        return status, payload

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def _check_failures(self, method: str) -> None:
        for failure in self._failures:
            if failure.method in (None, method.lower()):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                parameters = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
                raise _ApiError(failure.error_code, failure.description, parameters)

    def _check_blocked(self, chat_id) -> None:
        if chat_id in self._blocked:
            raise _ApiError(403, self._blocked[chat_id])

    def _now(self) -> int:
        now = self.clock()
        return int(now.timestamp() if isinstance(now, datetime) else now)

    def _allocate_message_id(self, chat_id) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _register(self, update: dict) -> None:
        for kind, value in update.items():
            if not isinstance(value, dict):
                continue
            message = value.get("message") if kind == "callback_query" else value
            if not isinstance(message, dict):
                continue
            chat = message.get("chat")
            if isinstance(chat, dict) and "id" in chat:
                self._chats[chat["id"]] = dict(chat)
                if "message_id" in message and kind != "callback_query" and "date" in message:
                    if kind in ("edited_message", "edited_channel_post"):
                        known = self._messages.get((chat["id"], message["message_id"]))
                        if known is not None:
                            known.update(message)
                            continue
                    self._messages[(chat["id"], message["message_id"])] = json.loads(json.dumps(message))
                if "message_id" in message:
                    # Later ids (the bot's too) continue after what users sent, as in a real chat.
                    last = self._last_message_id.get(chat["id"], 0)
                    self._last_message_id[chat["id"]] = max(last, message["message_id"])

    def _chat(self, chat_id) -> dict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        return {"id": chat_id, "type": chat_type(chat_id)}

    def _bot_message(self, chat_id, message_id) -> dict:
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    # ---- Bot API methods (called under the lock; the name after _m_ is the canonical spelling) ---

    def _m_getMe(self, params: dict) -> dict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _m_sendMessage(self, params: dict) -> dict:
        chat_id = _required_chat_id(params)
        shown = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        self._check_blocked(chat_id)
        message = {"message_id": self._allocate_message_id(chat_id), "from": dict(self.bot_user),
                   "chat": self._chat(chat_id), "date": self._now(), "text": shown}
        if isinstance(params.get("entities"), list):
            message["entities"] = params["entities"]
        reply_to = _reply_to_id(params)
        if reply_to is not None and (chat_id, reply_to) in self._messages:
            message["reply_to_message"] = dict(self._messages[(chat_id, reply_to)])
        if _shown_markup(markup) is not None:  # reply keyboards are not echoed
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return json.loads(json.dumps(message))

    def _m_sendChatAction(self, params: dict) -> bool:
        chat_id = _required_chat_id(params)
        if not params.get("action"):
            raise _ApiError(400, "Bad Request: action is empty")
        self._check_blocked(chat_id)
        return True

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def _m_deleteMessage(self, params: dict) -> bool:
        chat_id = _required_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _m_deleteMessages(self, params: dict) -> bool:
        chat_id = _required_chat_id(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise _ApiError(400, "Bad Request: message identifiers are not specified")
        if len(ids) > 100:
            raise _ApiError(400, "Bad Request: too many messages to delete")
        for message_id in ids:  # missing ones are skipped, and the answer is still true
            self._messages.pop((chat_id, message_id), None)
        return True

    def _m_editMessageText(self, params: dict) -> dict | bool:
        shown = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id = _required_chat_id(params)
        self._check_blocked(chat_id)
        message = self._bot_message(chat_id, params.get("message_id"))
        # Omitting reply_markup removes the inline keyboard, as at Telegram.
        if message.get("text") == shown and message.get("reply_markup") == _shown_markup(markup):
            raise _ApiError(400, NOT_MODIFIED)
        message["text"] = shown
        _set_markup(message, markup)
        message["edit_date"] = self._now()
        return json.loads(json.dumps(message))

    def _m_editMessageReplyMarkup(self, params: dict) -> dict | bool:
        markup = _checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id = _required_chat_id(params)
        self._check_blocked(chat_id)
        message = self._bot_message(chat_id, params.get("message_id"))
        if message.get("reply_markup") == _shown_markup(markup):
            raise _ApiError(400, NOT_MODIFIED)
        _set_markup(message, markup)
        message["edit_date"] = self._now()
        return json.loads(json.dumps(message))

    def _m_setWebhook(self, params: dict) -> tuple[bool, str]:
        url = params.get("url") or ""
        if not url:
            return self._m_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise _ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_SHAPE.match(str(secret)):
            # Telegram allows 1-256 of A-Z a-z 0-9 _ - (a base64 secret with + / = is refused).
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        self._webhook = {"url": url, "secret_token": secret,
                         "allowed_updates": params.get("allowed_updates"),
                         "max_connections": params.get("max_connections", 40),
                         "drop_pending_updates": bool(params.get("drop_pending_updates")),
                         "ip_address": params.get("ip_address")}
        self._changed.notify_all()  # a long poll in progress ends with a conflict
        return True, "Webhook was set"

    def _m_deleteWebhook(self, params: dict) -> tuple[bool, str]:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set, self._webhook = self._webhook is not None, None
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _m_getWebhookInfo(self, params: dict) -> dict:
        info = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self._webhook is not None:
            info.update(url=self._webhook["url"], max_connections=self._webhook["max_connections"])
            if self._webhook["ip_address"]:
                info["ip_address"] = self._webhook["ip_address"]
            if self._webhook["allowed_updates"]:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _m_getFile(self, params: dict) -> dict:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self._files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, content = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": hashlib.sha256(file_id.encode()).hexdigest()[:16],
                "file_size": len(content), "file_path": path}

    def _m_getUpdates(self, params: dict) -> list[dict]:
        self._check_no_webhook()
        offset = _number(params, "offset", 0)
        limit = max(1, min(int(_number(params, "limit", 100)), 100))
        timeout = min(_number(params, "timeout", 0), LONG_POLL_LIMIT_SECONDS)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        if offset > 0:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates; all earlier ones are forgotten
            self._updates = self._updates[offset:]
        self._polling += 1
        self._changed.notify_all()
        try:
            self._changed.wait_for(lambda: self._down or self._webhook is not None or self._deliverable(),
                                   timeout=timeout)
        finally:
            self._polling -= 1
        if self._down:
            raise _Dropped()
        self._check_no_webhook()
        return json.loads(json.dumps(self._deliverable()[:limit]))

    def _check_no_webhook(self) -> None:
        if self._webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                 "use deleteWebhook to delete the webhook first")

    def _deliverable(self) -> list[dict]:
        # Updates of a type the bot did not ask for are never delivered: Telegram drops them.
        allowed = set(self._allowed_updates)

        def wanted(update: dict) -> bool:
            kind = _update_kind(update)
            return kind in allowed if allowed else kind not in NOT_DELIVERED_BY_DEFAULT

        self._updates = [update for update in self._updates if wanted(update)]
        return self._updates


METHODS = {name.removeprefix("_m_").lower(): function for name, function in vars(FakeTelegram).items()
           if name.startswith("_m_")}


# ---- parameters ------------------------------------------------------------------------------


def _parse_params(query: str, content_type: str, body: bytes) -> dict:
    """Query string and body, merged (the body wins) and decoded (see `_decode`)."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";", 1)[0].strip().lower()
    if body:
        if mime == "application/json":
            try:
                decoded = json.loads(body.decode("utf-8"))
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse JSON encoded request") from None
            if not isinstance(decoded, dict):
                raise _ApiError(400, "Bad Request: can't parse JSON encoded request")
            raw.update(decoded)
        elif mime == "multipart/form-data":
            raw.update(_parse_multipart(content_type, body))
        else:  # application/x-www-form-urlencoded, and what curl sends without a content type
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return {name: _decode(name, value) for name, value in raw.items()}


def _parse_multipart(content_type: str, body: bytes) -> dict:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    if not message.is_multipart():
        raise _ApiError(400, "Bad Request: can't parse multipart request")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = UploadedFile(filename, part.get_content_type(), content)
        else:
            fields[name] = content.decode(part.get_content_charset() or "utf-8")
    return fields


def _decode(name: str, value: Any) -> Any:
    """A parameter as Telegram reads it. Form encodings carry everything as text, and Telegram
    (like PTB, which JSON-encodes every non-string value) treats non-String parameters as JSON:
    "123" is 123, "true" is True, '{"inline_keyboard": ...}' an object. JSON bodies are already
    typed, but may still carry reply_markup as a JSON string, or chat_id as "123"."""
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value  # "@channelusername", or any plain word
    if isinstance(decoded, str) or (isinstance(decoded, float) and decoded != decoded):
        return value
    return decoded


def _number(params: dict, name: str, default: int) -> int | float:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _ApiError(400, f"Bad Request: invalid {name} specified")
    return value


def _required_chat_id(params: dict) -> int | str:
    chat_id = params.get("chat_id")
    if chat_id in (None, ""):
        raise _ApiError(400, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, (int, str)) or isinstance(chat_id, bool):
        raise _ApiError(400, "Bad Request: chat not found")
    return chat_id


def _reply_to_id(params: dict) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        return reply.get("message_id")
    return params.get("reply_to_message_id")


def _checked_markup(markup: Any) -> dict | None:
    """The reply_markup as Telegram would accept it, or its 400 for what it refuses."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup  # reply keyboards, ReplyKeyboardRemove, ForceReply: accepted as given
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _ApiError(400, "Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String")
            actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
            if not actions:
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _shown_markup(markup: dict | None) -> dict | None:
    """What a message carries as reply_markup: only a non-empty inline keyboard."""
    if markup is not None and markup.get("inline_keyboard"):
        return markup
    return None


def _set_markup(message: dict, markup: dict | None) -> None:
    if _shown_markup(markup) is not None:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _checked_text(params: dict) -> str:
    """The text of a sendMessage or editMessageText as shown, refused as Telegram refuses it."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    shown = _shown_text(text, params.get("parse_mode"))
    if len(shown) > MESSAGE_TEXT_LIMIT:
        raise _ApiError(400, "Bad Request: message is too long")
    return shown


def _shown_text(text: str, parse_mode: Any) -> str:
    """The text as the message shows it: Telegram strips HTML markup (entities are not
    reproduced here). Markdown is left as given."""
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _update_kind(update: dict) -> str:
    return next((key for key in update if key != "update_id"), "")
