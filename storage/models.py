"""Tables. Anything that could identify a person or carry what they wrote is a sealed blob
(see `storage.crypto`); clear columns hold only what routing, retries and purges need.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text, TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite would otherwise hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Conversation(Base):
    """One sender on one channel. `sender_key` is an HMAC of the address, never the address."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_key: Mapped[str] = mapped_column(String(64))
    # Remembered across conversations so a returning person is answered in their language.
    language: Mapped[str | None] = mapped_column(String(16))
    # And how their phone writes Burmese ("zawgyi", "unicode"; NULL until known), so a Zawgyi
    # phone is answered in Zawgyi from the first reply; `encoding_chosen`: said with a keyword.
    encoding: Mapped[str | None] = mapped_column(String(16))
    encoding_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sealed JSON of intake.state.State (flow, step, draft answers); NULL = no conversation open.
    state: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboundMessage(Base):
    """A provider message already handled, so that a retry or a replay does not advance a
    conversation twice (ARCHITECTURE.md principle 7).

    The provider id is kept only as `digest`, an HMAC keyed with a server secret, and with the
    day it was seen: long enough to recognise a captured request replayed weeks later, compact,
    and tied to no conversation. The link to the conversation, the exact time and the sealed
    answer (for a provider's quick retry) are kept only for ordinary messages and only for
    minutes; a message of a sensitive flow (a report) keeps none of them."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    seen_on: Mapped[date] = mapped_column(Date, index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                        index=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Sealed JSON list of the replies rendered for this message.
    reply: Mapped[bytes | None] = mapped_column(LargeBinary)


class OutboxMessage(Base):
    """A message waiting to leave (principle 5). Written in the transaction that caused it."""

    __tablename__ = "outbox"
    # AUTOINCREMENT on SQLite: ids are never reused after a purge, because an e-mail's
    # Message-ID is derived from its id (a reused one could make a mail service drop a new message).
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Makes enqueueing idempotent: the same cause never queues the same message twice.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms, whatsapp, email, telegram
    purpose: Mapped[str] = mapped_column(String(32))  # reply, notification, ...
    # Sealed; wiped (NULL) once the message is sent or given up.
    recipient: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(String(255))
    # Replies to one conversation leave in order: only the oldest unsent row of an ordering key
    # is ever claimed. The key is the conversation's pseudonymous sender key, never an address.
    ordering_key: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        index=True)
    # Part of a sensitive flow: remembered once sent (for the wipe), dropped if still queued then.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChatMessage(Base):
    """A Telegram message (the person's or the bot's) of a sensitive flow, kept only until the
    flow ends and it is deleted from the chat (Telegram allows that within 48 hours)."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(32))
    from_bot: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The chat, sealed, on the person's own messages: an abandoned report is wiped by the purge,
    # when no message of theirs brings the address any more.
    recipient: Mapped[bytes | None] = mapped_column(LargeBinary)


class DeliveryAttempt(Base):
    """Every try at delivering an outbox message, kept for operators. Errors carry no content."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # sent, retry, failed, interrupted
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


# --- directory ---------------------------------------------------------------------------------

class Organisation(Base):
    """An organisation whose staff may be reported, and which receives referrals. The PSEA Network
    is one too (`is_network`). `public_key` seals reports to it; its private half is held only in
    grants to its users and in the recovery wrap."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str] = mapped_column(String(32), unique=True)
    aliases: Mapped[str] = mapped_column(Text, default="")  # ";"-separated, any language
    is_network: Mapped[bool] = mapped_column(Boolean, default=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_wrap: Mapped[bytes] = mapped_column(LargeBinary)  # private key under the recovery key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contact(Base):
    """A focal point or coordinator from the directory: who is notified, and how."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("organisation_id", "role", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # focal_point, coordinator
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    townships: Mapped[str] = mapped_column(Text, default="*")  # ";"-separated P-codes or "*"
    languages: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Township(Base):
    """A place people can name (demo gazetteer, or the operator's licensed MIMU import)."""

    __tablename__ = "townships"

    pcode: Mapped[str] = mapped_column(String(16), primary_key=True)
    state_pcode: Mapped[str] = mapped_column(String(16), index=True)
    state_name_en: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    name_my: Mapped[str] = mapped_column(String(100), default="")
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")  # ";"-separated, any language


class EmergencyContact(Base):
    """A line shown to someone in danger: `area` is a state or township P-code, or "*"."""

    __tablename__ = "emergency_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))


# --- portal accounts and keys -----------------------------------------------------------------

class User(Base):
    """A portal account. Its own X25519 key pair: the private half wrapped under the password;
    organisation keys reach it as grants sealed to its public half."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # focal_point, coordinator, caseworker, admin
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed with the data key
    # The last TOTP time-step accepted: a code is good once, never again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))  # the portal's language for this account
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KeyGrant(Base):
    """An organisation's private key sealed to one user's public key."""

    __tablename__ = "key_grants"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PortalSession(Base):
    """A logged-in user's unlocked organisation key, encrypted under a key that lives only in the
    user's cookie: a copy of the database taken during the session still opens nothing."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unlocked_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- reports ----------------------------------------------------------------------------------

class Report(Base):
    """One report. Clear columns are the routing metadata (what routing, deadlines and counts
    need); the account, contact details and free-text answers are in `content`, encrypted with the
    report key, which only the referrals' organisations and the receipt can open."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    named_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    route: Mapped[str] = mapped_column(String(32))  # see intake.routing
    received_month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    incident_period: Mapped[str] = mapped_column(String(16))  # this_week … unknown
    township_pcode: Mapped[str | None] = mapped_column(String(16))
    state_pcode: Mapped[str | None] = mapped_column(String(16))
    child_involved: Mapped[str] = mapped_column(String(8))  # yes, no, unknown
    affected: Mapped[str] = mapped_column(String(8))  # self, other
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_wrap: Mapped[bytes] = mapped_column(LargeBinary)  # report key under the receipt
    # The receipt's own Argon2id salt and cost (storage.sealing "receipts"); NULL for a report
    # filed under an old 12-digit receipt, derived with the one fixed salt.
    receipt_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_kdf: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Referral(Base):
    """A report sent to one organisation, with its own status and acknowledgement deadline."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("report_id", "organisation_id"),
                      Index("ix_referrals_overdue", "acknowledged_at", "next_escalation_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(16), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The report key sealed to the organisation; NULL once it referred the case on and chose not
    # to keep read access.
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(32), default="received")
    category: Mapped[str] = mapped_column(String(24), default="unknown", server_default="unknown")
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The referral this one was referred on from (the Reporting Framework's transfer), if any.
    referred_from_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReferralEvent(Base):
    """One change on a referral's timeline: acknowledged, a new status, category or assignee, a
    note, a transfer, a message to or from the reporter. `value` is a clear code (a status, a
    category, an organisation's acronym), never content; a note is sealed to the organisation."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    value: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[bytes | None] = mapped_column(LargeBinary)


class ReporterMessage(Base):
    """A message between a referral's organisation and the reporter. One to the reporter
    (`direction` "out") is encrypted with the report key, which only the receipt (and the
    organisations the case reached) can open; one from the reporter ("in") is sealed to the
    referral's organisation. `read_at`: when the reporter first read it with the receipt."""

    __tablename__ = "reporter_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # out, in
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Also sent by SMS or Telegram to the number the reporter consented to be contacted on.
    sent_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MediaItem(Base):
    """A voice note or photo a reporter sent with their account, encrypted at once with a key of
    its own (AES-256-GCM, the id and kind as associated data) that is kept only in the
    conversation's sealed draft and then in the report's sealed content (storage.media): the
    server alone opens neither. `report_id` is set when the report is sent; an item never
    linked is purged with the draft's lifetime. Nothing here names a conversation or a sender,
    and what it is (kind, type, size) is inside the report's content, not in a column."""

    __tablename__ = "media_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiToken(Base):
    """A bearer token for the coordinators' API (`/api/v1`); only a digest of it is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who did what to which referral, and when. Never content. Chained (storage.audit_log)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # login, login_failed, open_referral, acknowledge…
    # The referral's id, not a link to it: an entry outlives the case it names when the case's
    # lifetime ends (storage.lifetimes), and it is part of what is chained, so it cannot be cleared.
    referral_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str | None] = mapped_column(String(255))
    # HMAC of the previous entry's chain and this entry's fields (storage.audit_log).
    chain: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The end of the audit chain: the one row every new entry locks and moves on."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int | None] = mapped_column(Integer)
    chain: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    entries: Mapped[int] = mapped_column(Integer, default=0)
    # Where the chain starts once the oldest entries are purged (their lifetime ended): the last
    # purged entry's id and hash, how many were purged in all, and an HMAC of the three, so that
    # nobody without the key can move the start to hide entries deleted from the beginning.
    anchor_id: Mapped[int | None] = mapped_column(Integer)
    anchor_chain: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    anchor_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    purged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HealthProbe(Base):
    """The one row /healthz rewrites and commits, to prove the database still takes writes (a
    read-only or full disk still answers reads)."""

    __tablename__ = "health_probe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Counted up by every probe, so that each one really changes the row: SQLite skips writing
    # an UPDATE that sets the values already there, and a probe that writes nothing proves nothing.
    writes: Mapped[int] = mapped_column(Integer, default=0)


# --- registrations and self-service changes ---------------------------------------------------

class Registration(Base):
    """A person of concern as the registration system knows them (`registrations import`).

    Who they are (registration and group numbers, names, date of birth, sex, phone, address,
    education, occupation, needs, language) is one sealed JSON in `details`. The clear columns
    are what a check needs without opening any row: `number_digest` finds the row (an HMAC of
    the registration number), `dob_check` proves the date of birth (a keyed, deliberately slow
    hash of number and date at the precision on record), `phone_key` tells whether a message
    comes from the number on record (a keyed digest of it, not the SMS sender pseudonym)."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    number: Mapped[bytes] = mapped_column(LargeBinary)  # sealed: kept after erasure, for the export
    details: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed JSON; NULL once erased
    dob_check: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    dob_precision: Mapped[str | None] = mapped_column(String(5))  # day, month, year
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    township_pcode: Mapped[str | None] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active, inactive
    # An HMAC of the imported row as it was: a re-import skips rows that did not change.
    row_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """Failed portal logins (passwords and codes) from one client address for one email, known by
    a keyed digest of the two (neither is kept): past the free ones each further try from there
    waits until `held_until`. An account is never locked for everyone."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityAttempt(Base):
    """Failed identity checks against one registration number or from one sender (each kept as a
    keyed digest), for the lockout."""

    __tablename__ = "identity_attempts"
    __table_args__ = (UniqueConstraint("subject", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(8))  # number, sender
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OneTimeCode(Base):
    """A 6-digit code sent by SMS, valid for one conversation, once, until `expires_at`. Only a
    keyed digest of the code is kept."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # identity, new_phone
    sender_key: Mapped[str] = mapped_column(String(64))
    code_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RegistrationChange(Base):
    """A change a person asked for, waiting for a caseworker (status pending), then approved
    (applied, with a history row per field) or rejected. Values are sealed JSON; `reply_to` (the
    sealed channel and address to tell the outcome to) is dropped once the person is told."""

    __tablename__ = "registration_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # phone, township, address, education…
    township_pcode: Mapped[str | None] = mapped_column(String(16), index=True)  # the record's, for the queue
    old_value: Mapped[bytes | None] = mapped_column(LargeBinary)
    new_value: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    reply_to: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending, approved, rejected
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed: why it was rejected


class RegistrationHistory(Base):
    """One field of a record changed: when, by which approved change, from what to what (sealed).
    An erasure deletes the values and keeps the rest."""

    __tablename__ = "registration_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("registration_changes.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    old_value: Mapped[bytes | None] = mapped_column(LargeBinary)
    new_value: Mapped[bytes | None] = mapped_column(LargeBinary)


class NeedCount(Base):
    """How many needs of one group were declared in one township ("" when unknown) and month,
    for the registration office's counts. Counts only: no row per declaration, whose order would
    line up with the changes' and lead back to the person who declared it."""

    __tablename__ = "need_counts"
    __table_args__ = (UniqueConstraint("need_group", "township_pcode", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_group: Mapped[str] = mapped_column(String(2))
    township_pcode: Mapped[str] = mapped_column(String(16), default="")
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    declared: Mapped[int] = mapped_column(Integer, default=0)


class LegacySeal(Base):
    """Up to which row a table may still hold sealed values of the format before migration 0018
    (bound to their column only, not their row): `last_id` is the table's highest id when the
    migration ran. A newer row's values must be bound to it, so an old value copied into a new
    row is refused. The server reseals what its data key protects (`flask --app app reseal`),
    which then deletes that table's row here; report content, keys and notes only an
    organisation can open keep theirs."""

    __tablename__ = "legacy_seals"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int | None] = mapped_column(Integer)
