"""A fake Twilio REST API over real HTTP on loopback, for the Messages resource.

Point the app at it with the TWILIO_API_BASE_URL setting; twilio-python then talks to it exactly
as it talks to api.twilio.com (same URL paths, form-encoded body, HTTP basic auth). It records
every request, answers like Twilio's "create a Message" (201 + the message JSON, whose "sid"
twilio-python returns), serves the media of incoming messages (`add_media`: a MediaUrl that
answers only with the account's basic auth), and can be told to fail: any status with Twilio's error JSON, or no
server at all (`stop`, then `start` again on the same port).

It can also hold requests open, unanswered (`hold`, then `release`), the way a slow provider
does, in one of two ways: a provider that acts only once it answers (a request whose client went
away before that is dropped: status 0, nothing sent), or one that acts as soon as it has read the
request (201 at once, only the answer waits), as Twilio's API may, which takes no idempotency key.
"""

from __future__ import annotations

import base64
import json
import re
import select
import socket
import threading
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.support.smtp_sink import HOST, free_port

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/AC\w+/Messages/MM\w+/Media/ME\w+$")

# Twilio's own codes for the failures tests ask for (https://www.twilio.com/docs/api/errors).
ERROR_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
ERROR_MESSAGES = {
    400: "The 'To' number is not a valid phone number.",
    401: "Authenticate",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class SentRequest:
    """One POST the fake received, and how it answered."""

    account: str  # basic-auth user name (the account SID)
    password: str  # basic-auth password (the auth token)
    path: str
    params: dict[str, str]
    status: int  # what the fake answered; 0: dropped unanswered, its client gone
    sid: str | None  # the message SID returned, when it answered 201

    @property
    def to(self) -> str | None:
        return self.params.get("To")

    @property
    def from_(self) -> str | None:
        return self.params.get("From")

    @property
    def body(self) -> str | None:
        return self.params.get("Body")


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    remaining: int | None  # None: until `succeed()`


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a stopped fake leaves no kept-alive socket serving.
    protocol_version = "HTTP/1.0"
    fake: "FakeTwilio"

    def log_message(self, format, *args):  # the request line would name the account; keep quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
        params = {name: values[-1] for name, values in form.items()}
        account, password = _basic_auth(self.headers.get("Authorization", ""))
        acts = self.fake._holding()
        if acts == "on_receipt":
            status, payload = self.fake._answer(self.path, account, password, params)
        if acts is not None:
            self.fake._wait_for_release()
        if acts == "on_answer":
            if _gone(self.connection):
                self.fake._abandoned(account, password, self.path, params)
                return
            status, payload = self.fake._answer(self.path, account, password, params)
        elif acts is None:
            status, payload = self.fake._answer(self.path, account, password, params)
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        account, password = _basic_auth(self.headers.get("Authorization", ""))
        status, content_type, body = self.fake._media(self.path, account, password)
        if status == 405:
            self.send_error(405)
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _gone(connection) -> bool:
    """True when the client closed or reset its end of the connection (it can send nothing more
    on an HTTP/1.0 request already read, so anything readable is its end)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _basic_auth(header: str) -> tuple[str, str]:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    return user, password


class FakeTwilio:
    """The Messages.json endpoint of Twilio's REST API, recording what it is asked to send."""

    def __init__(self, host: str = HOST, port: int | None = None, auth_token: str | None = None):
        """`auth_token`: the account's token, which media downloads must give (basic auth)."""
        self.host = host
        self.port = port or free_port(host)
        self.auth_token = auth_token
        self._media_items: dict[str, tuple[str, str, bytes]] = {}  # path -> (account, type, content)
        self.media_requests: list[tuple[str, str, int]] = []  # (account, path, status)
        self._requests: list[SentRequest] = []
        self._failure: _Failure | None = None
        self._hold: str | None = None  # how held requests are handled: "on_answer" or "on_receipt"
        self._released = threading.Event()
        self.holding_one = threading.Event()  # set once a request is being held
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The value for TWILIO_API_BASE_URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[SentRequest]:
        """Every request received, answered or failed, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def delivered(self) -> list[SentRequest]:
        """The requests answered 201: the messages Twilio would have sent."""
        return [request for request in self.requests if request.status == 201]

    def fail(self, status: int, code: int | None = None, message: str | None = None,
             times: int | None = None) -> None:
        """Answer the next `times` requests (all, if None, until `succeed`) with `status` and
        Twilio's error JSON ({"code", "message", "more_info", "status"})."""
        with self._lock:
            self._failure = _Failure(status, code or ERROR_CODES.get(status, status),
                                     message or ERROR_MESSAGES.get(status, "Error"), times)

    def hold(self, acts: str = "on_answer") -> None:
        """Hold every request from now on open and unanswered until `release()`. `acts`:
        "on_answer", the message is sent only when the answer goes out, and not at all when the
        client has gone by then; "on_receipt", it is sent (recorded 201) at once, only the answer
        waits."""
        assert acts in ("on_answer", "on_receipt")
        with self._lock:
            self._hold = acts
            self._released.clear()
            self.holding_one.clear()

    def release(self) -> None:
        """Answer the held requests, and every request from now on at once."""
        with self._lock:
            self._hold = None
            self._released.set()

    def _holding(self) -> str | None:
        with self._lock:
            return self._hold

    def _wait_for_release(self) -> None:
        self.holding_one.set()
        self._released.wait(60)

    def _abandoned(self, account: str, password: str, path: str, params: dict) -> None:
        with self._lock:
            self._requests.append(SentRequest(account, password, path, params, 0, None))

    def succeed(self) -> None:
        """Accept every request again."""
        with self._lock:
            self._failure = None

    def add_media(self, account: str, content: bytes, content_type: str) -> str:
        """A media item of an incoming message, as Twilio keeps it; returns its MediaUrl."""
        path = f"/2010-04-01/Accounts/{account}/Messages/MM{uuid.uuid4().hex}/Media/ME{uuid.uuid4().hex}"
        with self._lock:
            self._media_items[path] = (account, content_type, content)
        return f"{self.url}{path}"

    def _media(self, path: str, account: str, password: str) -> tuple[int, str, bytes]:
        with self._lock:
            found = self._media_items.get(path)
            if found is None:
                status, content_type, body = (404 if MEDIA_PATH.match(path) else 405), "application/json", b"{}"
            elif account != found[0] or (self.auth_token is not None and password != self.auth_token):
                status, content_type, body = 401, "application/json", json.dumps(
                    _error(401, ERROR_CODES[401], ERROR_MESSAGES[401])).encode()
            else:
                status, content_type, body = 200, found[1], found[2]
            self.media_requests.append((account, path, status))
            return status, content_type, body

    def _answer(self, path: str, account: str, password: str, params: dict) -> tuple[int, dict]:
        with self._lock:
            match = MESSAGES_PATH.match(path)
            failure = self._failure
            if match is None:
                status, payload, sid = 404, _error(404, ERROR_CODES[404], ERROR_MESSAGES[404]), None
            elif not account or account != match["account"]:
                status, payload, sid = 401, _error(401, ERROR_CODES[401], ERROR_MESSAGES[401]), None
            elif failure is not None:
                status, payload, sid = failure.status, _error(failure.status, failure.code,
                                                              failure.message), None
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failure = None
            else:
                sid = "SM" + uuid.uuid4().hex
                status, payload = 201, _message(match["account"], sid, params)
            self._requests.append(SentRequest(account, password, path, params, status, sid))
            return status, payload

    def start(self) -> "FakeTwilio":
        """Listen on the fake's port (the same one after a stop)."""
        if self._server is None:
            handler = type("Handler", (_Handler,), {"fake": self})
            self._server = ThreadingHTTPServer((self.host, self.port), handler)
            # A short poll interval makes `stop` quick (shutdown waits for the next poll).
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                            name="fake-twilio", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until `start` is called again."""
        self.release()  # a held request must not keep the server's threads waiting
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def _error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _message(account: str, sid: str, params: dict) -> dict:
    """The JSON Twilio answers to a successful create: a queued outbound message."""
    now = formatdate(usegmt=True)
    uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}"
    return {
        "account_sid": account, "api_version": "2010-04-01", "body": params.get("Body", ""),
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": params.get("From"),
        "messaging_service_sid": params.get("MessagingServiceSid"), "num_media": "0",
        "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": params.get("To"), "uri": f"{uri}.json",
    }
