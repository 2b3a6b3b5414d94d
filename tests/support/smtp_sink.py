"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

It can be stopped and started again on the same port, so a test can play a mail relay outage:
while stopped, connections are refused, exactly as when a relay is down.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
HOLD_LIMIT_SECONDS = 10  # a test that forgets to release a hold fails instead of hanging


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the relay saw it: the SMTP envelope, the parsed message, and when (on the
    monotonic clock) its DATA began and the relay accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    started: float = 0.0
    accepted: float = 0.0

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class Hold:
    """A message the sink keeps the sender waiting on (between DATA and the reply)."""

    reply: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class _Handler:
    """aiosmtpd hooks: accept or refuse recipients as the sink is told, keep each message."""

    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.sink.refuse_recipients:
            return self.sink.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        started = time.monotonic()
        if self.sink.delay_seconds:
            await asyncio.sleep(self.sink.delay_seconds)  # other connections go on meanwhile
        hold = self.sink._take_hold()
        if hold is not None:
            hold.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.released.wait, HOLD_LIMIT_SECONDS)
            if not hold.reply.startswith("250"):
                return hold.reply
        # SMTP carries CRLF line ends; a mailbox (and the parsed body) has plain newlines.
        raw = envelope.original_content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.sink._keep(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message, started,
                                     time.monotonic()))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP relay that accepts everything (unless told otherwise) and delivers nowhere.

    `messages` lists what arrived, in order. Set `refuse_recipients` to an SMTP reply such as
    "550 5.1.1 No such user" or "451 4.3.0 Try again later" to refuse every RCPT TO with it;
    `hold_next` stalls one message; `delay_seconds` makes every message take that long between
    DATA and the reply (a slow relay; connections are served concurrently). With `credentials`
    (user, password), the relay requires AUTH (PLAIN or LOGIN, without TLS, as on a loopback test
    relay) and refuses anything else.
    """

    def __init__(self, host: str = HOST, port: int | None = None,
                 credentials: tuple[str, str] | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.credentials = credentials
        self.refuse_recipients: str | None = None
        self.delay_seconds = 0.0
        self._messages: list[ReceivedMail] = []
        self._holds: list[Hold] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def _keep(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)

    def _take_hold(self) -> Hold | None:
        with self._lock:
            return self._holds.pop(0) if self._holds else None

    def hold_next(self, reply: str = "250 Message accepted for delivery") -> Hold:
        """Keep the sender of the next message waiting after its DATA until `release()`, then
        answer `reply` (a 250 keeps the message; anything else refuses it). Plays a relay that
        stalls, or a sending process that is frozen mid-send."""
        hold = Hold(reply)
        with self._lock:
            self._holds.append(hold)
        return hold

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode()) \
            if isinstance(auth_data, LoginPassword) else None
        return AuthResult(success=given == self.credentials, handled=False)

    def start(self) -> "SmtpSink":
        """Listen on the sink's port (the same one after a stop); returns once it answers."""
        if self._controller is None:
            auth = {} if self.credentials is None else {
                "authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, **auth)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Close the port: new connections are refused until `start` is called again."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
