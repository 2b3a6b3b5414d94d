"""Configuration: read once from the environment (the README's configuration table), checked,
then fixed.

Every setting has a safe default so that `make run` works on a laptop with nothing set. Bad values
fail at start-up with a message that names the variable; a server that half-works is worse.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many


class ConfigError(ValueError):
    """A setting has a value the service cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the service, parsed and checked. A field is the environment variable of
    the same name in capitals (the README's configuration table lists them, and a test holds the
    two together); `simulator_local_only` alone is derived, not set."""

    host: str
    port: int
    public_base_url: str
    database_url: str
    secret_key: str
    data_key_file: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_api_base_url: str | None
    telegram_bot_token: str | None
    telegram_webhook_secret: str | None
    telegram_wipe_messages: bool
    telegram_api_base_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str
    smtp_starttls: bool
    languages: tuple[str, ...]
    service_name: str
    simulator_enabled: bool
    simulator_local_only: bool
    conversation_timeout_minutes: int
    max_inbound_chars: int
    # The largest voice note or photo (bytes) fetched from Telegram or Twilio and kept with a report.
    max_media_bytes: int
    sms_reply_mode: str
    ack_deadline_hours: int
    urgent_ack_deadline_hours: int
    timezone: str
    outbox_worker: bool
    outbox_max_attempts: int
    outbox_backoff_seconds: int
    outbox_backoff_cap_seconds: int
    # Portal logins: failures (password or TOTP) from one address for one email before each further
    # try from that address waits (2, 4, 8 ... seconds), and the longest wait in minutes; never a
    # lock of the account for everyone. Then the absolute lifetime of a logged-in session.
    portal_lockout_attempts: int
    portal_lockout_minutes: int
    portal_session_hours: int
    # How long the digest of a handled provider message id is kept: a captured, validly signed
    # request replayed within this window is recognised (Twilio's signatures never expire).
    replay_window_days: int
    # Longest wait for the database (connecting, one statement, a lock, a pooled connection):
    # well under the 15 s Twilio waits, so that a stalled database gets a 503 it can retry.
    database_timeout_seconds: int
    # /healthz reports an SQLite database's disk as almost full below this much free space.
    health_min_free_mb: int
    # Per client address (moving window): wrong passwords and codes at the portal, and messages
    # to the simulator. Shared between processes when ratelimit_storage_uri names a Redis.
    portal_login_limit: str
    simulator_limit: str
    # The same for everyone together (a flood from many addresses), and the API's limits: per
    # address, per bearer token, and for everyone.
    portal_login_global_limit: str
    simulator_global_limit: str
    api_limit: str
    api_global_limit: str
    ratelimit_storage_uri: str
    # Reverse proxies in front of the server that append to X-Forwarded-For: the client address
    # is read that many hops back (0: the address that connected is the client).
    trusted_proxies: int
    # Self-service identity checks: failures (per registration number and per sender) before a
    # lockout, and its length; how long a one-time code is valid.
    identity_lockout_attempts: int
    identity_lockout_minutes: int
    one_time_code_minutes: int
    # "Check a report": wrong receipt numbers one sender, and everyone together, may type in one
    # window of receipt_check_lockout_minutes before checks wait out the rest of it (each check
    # costs an Argon2 derivation, 64 MiB and ~0.2 s: none runs while they wait).
    receipt_check_attempts: int
    receipt_check_global_attempts: int
    receipt_check_lockout_minutes: int
    # How long an unanswered self-service change waits, and a rejected one is kept, before the purge.
    pending_change_days: int
    rejected_change_days: int
    # Lifetimes (storage.lifetimes, the worker's purge and `flask purge`): a case once its last
    # referral closed, the audit log's entries, a conversation's pseudonym and remembered language,
    # finished outbox rows, the answers kept for a provider's retry, an API token.
    closed_case_retention_years: int
    audit_retention_years: int
    conversation_retention_days: int
    outbox_retention_days: int
    stored_reply_minutes: int
    api_token_days: int
    # Counts below this are shown as "<N" on aggregate pages and in their CSVs.
    dashboard_min_cell: int
    # The backup public keys (`keys backup-keygen`) every backup is sealed to; their private
    # halves are kept off the server by who may restore.
    backup_recipients: tuple[str, ...]
    # Only for tests and embedders: the service's clock (None: the real one).
    clock: Callable[[], datetime] | None = None


# The environment variables an operator sets: every field but the derived one and the test clock.
ENVIRONMENT_NAMES = tuple(field.name.upper() for field in fields(Settings)
                          if field.name not in ("simulator_local_only", "clock"))
# Keys `create_app(overrides)` passes to Flask as they are, not settings of the service.
FLASK_KEYS = {"TESTING"}


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"expected 1/0, true/false, yes/no or on/off, got {value!r}")


def _int(name: str, value: str | None, default: int, minimum: int = 0) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _simulator(value: str | None, host: str) -> tuple[bool, bool]:
    """(on, local only). The web simulator files real reports with no login, so it is off unless
    asked for. "auto" (what `make run` passes when nothing is set) turns it on only for a server
    bound to a loopback address, the try-it setup, and only for browsers on this machine (not
    through a reverse proxy); a public server needs SIMULATOR_ENABLED=1 itself."""
    if value is not None and value.strip().lower() == "auto":
        return _is_loopback(host), True
    return _flag(value, False), False


def _rate_limit(name: str, value: str) -> str:
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be rate limits such as '10 per minute; 100 per hour', "
                          f"got {value!r}") from None
    return value


def _backup_recipients(value: str | None) -> tuple[str, ...]:
    keys = tuple(key for key in re.split(r"[\s,]+", value or "") if key)
    for key in keys:
        if not re.fullmatch(r"intake-backup-public-[A-Za-z0-9_-]{43}", key):
            raise ConfigError("BACKUP_RECIPIENTS must be backup public keys (intake-backup-public-..., from "
                              f"`flask --app app keys backup-keygen`), separated by commas; got {key[:30]!r}")
    return keys


def _secret_file(path: Path, nbytes: int) -> str:
    """Read a generated secret, creating it (mode 0600) on first run."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes) + "\n")
    return path.read_text().strip()


def load(instance_path: str | os.PathLike, environ: dict | None = None,
         overrides: dict | None = None) -> Settings:
    """The settings, from the environment plus explicit overrides.

    Overrides (from `create_app(overrides)`, used by tests) win over the environment and are
    validated the same way; a key that names no setting is an error (a typo would otherwise do
    nothing). CLOCK (tests) sets the clock; FLASK_KEYS are Flask's own, and left to it.
    """
    env = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(ENVIRONMENT_NAMES) - {"CLOCK"} - FLASK_KEYS)
    if unknown:
        raise ConfigError(f"no such setting: {', '.join(unknown)} "
                          "(the README's configuration table lists them)")
    instance = Path(instance_path)

    def get(name: str, default: str | None = None) -> str | None:
        if name in overrides:
            value = overrides[name]
            return None if value is None else str(value)
        value = env.get(name)
        return default if value is None or value == "" else value

    host = get("HOST", "127.0.0.1")
    port = _int("PORT", get("PORT"), 5000, minimum=1)
    database_url = get("DATABASE_URL") or f"sqlite:///{instance / 'intake.sqlite3'}"
    secret_key = get("SECRET_KEY") or _secret_file(instance / "secret_key", 48)
    if len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters; leave it unset to have one generated")
    data_key_file = get("DATA_KEY_FILE") or str(instance / "data.key")

    try:
        simulator, simulator_local_only = _simulator(get("SIMULATOR_ENABLED"), host)
        smtp_starttls = _flag(get("SMTP_STARTTLS"), False)
        outbox_worker = _flag(get("OUTBOX_WORKER"), True)
        telegram_wipe = _flag(get("TELEGRAM_WIPE_MESSAGES"), True)
    except ConfigError as error:
        raise ConfigError(f"a yes/no setting is wrong: {error}") from None

    timezone_name = get("TIMEZONE", "UTC")
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE must be an IANA zone name such as Asia/Yangon, got {timezone_name!r}") from None

    telegram_secret = get("TELEGRAM_WEBHOOK_SECRET")
    if telegram_secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", telegram_secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
                          "(Telegram's rule)")

    reply_mode = (get("SMS_REPLY_MODE", "inline") or "inline").strip().lower()
    if reply_mode not in {"inline", "outbox"}:
        raise ConfigError(f"SMS_REPLY_MODE must be 'inline' or 'outbox', got {reply_mode!r}")

    requested = overrides.get("LANGUAGES")
    if not isinstance(requested, (list, tuple)):
        requested = (get("LANGUAGES") or "").split(",")
    languages = tuple(code.strip() for code in requested if code.strip())

    values = {
        "HOST": host,
        "PORT": port,
        "PUBLIC_BASE_URL": (get("PUBLIC_BASE_URL") or f"http://{host}:{port}").rstrip("/"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "DATA_KEY_FILE": data_key_file,
        "TWILIO_ACCOUNT_SID": get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM_NUMBER": get("TWILIO_FROM_NUMBER"),
        "TWILIO_API_BASE_URL": get("TWILIO_API_BASE_URL"),
        "TELEGRAM_BOT_TOKEN": get("TELEGRAM_BOT_TOKEN"),
        "TELEGRAM_WEBHOOK_SECRET": telegram_secret,
        "TELEGRAM_WIPE_MESSAGES": telegram_wipe,
        "TELEGRAM_API_BASE_URL": (get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org").rstrip("/"),
        "SMTP_HOST": get("SMTP_HOST"),
        "SMTP_PORT": _int("SMTP_PORT", get("SMTP_PORT"), 25, minimum=1),
        "SMTP_USER": get("SMTP_USER"),
        "SMTP_PASSWORD": get("SMTP_PASSWORD"),
        "SMTP_FROM": get("SMTP_FROM", "intake@localhost"),
        "SMTP_STARTTLS": smtp_starttls,
        "LANGUAGES": languages,
        "SERVICE_NAME": get("SERVICE_NAME", "Community Feedback"),
        "SIMULATOR_ENABLED": simulator,
        "SIMULATOR_LOCAL_ONLY": simulator_local_only,
        "CONVERSATION_TIMEOUT_MINUTES": _int(
            "CONVERSATION_TIMEOUT_MINUTES", get("CONVERSATION_TIMEOUT_MINUTES"), 30, minimum=1),
        "MAX_INBOUND_CHARS": _int("MAX_INBOUND_CHARS", get("MAX_INBOUND_CHARS"), 1600, minimum=160),
        "MAX_MEDIA_BYTES": _int("MAX_MEDIA_BYTES", get("MAX_MEDIA_BYTES"), 10 * 1024 * 1024, minimum=1024),
        "SMS_REPLY_MODE": reply_mode,
        "ACK_DEADLINE_HOURS": _int("ACK_DEADLINE_HOURS", get("ACK_DEADLINE_HOURS"), 24, minimum=1),
        "URGENT_ACK_DEADLINE_HOURS": _int("URGENT_ACK_DEADLINE_HOURS", get("URGENT_ACK_DEADLINE_HOURS"), 12,
                                          minimum=1),
        "TIMEZONE": timezone_name,
        "OUTBOX_WORKER": outbox_worker,
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", get("OUTBOX_MAX_ATTEMPTS"), 20, minimum=1),
        "OUTBOX_BACKOFF_SECONDS": _int("OUTBOX_BACKOFF_SECONDS", get("OUTBOX_BACKOFF_SECONDS"), 15, minimum=1),
        "OUTBOX_BACKOFF_CAP_SECONDS": _int(
            "OUTBOX_BACKOFF_CAP_SECONDS", get("OUTBOX_BACKOFF_CAP_SECONDS"), 3600, minimum=1),
        "PORTAL_LOCKOUT_ATTEMPTS": _int("PORTAL_LOCKOUT_ATTEMPTS", get("PORTAL_LOCKOUT_ATTEMPTS"), 3, minimum=1),
        "PORTAL_LOCKOUT_MINUTES": _int("PORTAL_LOCKOUT_MINUTES", get("PORTAL_LOCKOUT_MINUTES"), 15, minimum=1),
        "REPLAY_WINDOW_DAYS": _int("REPLAY_WINDOW_DAYS", get("REPLAY_WINDOW_DAYS"), 400, minimum=1),
        "PORTAL_SESSION_HOURS": _int("PORTAL_SESSION_HOURS", get("PORTAL_SESSION_HOURS"), 8, minimum=1),
        "DATABASE_TIMEOUT_SECONDS": _int("DATABASE_TIMEOUT_SECONDS", get("DATABASE_TIMEOUT_SECONDS"), 5,
                                         minimum=1),
        "HEALTH_MIN_FREE_MB": _int("HEALTH_MIN_FREE_MB", get("HEALTH_MIN_FREE_MB"), 64),
        "PORTAL_LOGIN_LIMIT": _rate_limit("PORTAL_LOGIN_LIMIT",
                                          get("PORTAL_LOGIN_LIMIT", "10 per minute; 100 per hour")),
        "SIMULATOR_LIMIT": _rate_limit("SIMULATOR_LIMIT", get("SIMULATOR_LIMIT", "30 per minute; 300 per hour")),
        "PORTAL_LOGIN_GLOBAL_LIMIT": _rate_limit(
            "PORTAL_LOGIN_GLOBAL_LIMIT", get("PORTAL_LOGIN_GLOBAL_LIMIT", "120 per minute; 2000 per hour")),
        "SIMULATOR_GLOBAL_LIMIT": _rate_limit(
            "SIMULATOR_GLOBAL_LIMIT", get("SIMULATOR_GLOBAL_LIMIT", "300 per minute; 3000 per hour")),
        "API_LIMIT": _rate_limit("API_LIMIT", get("API_LIMIT", "60 per minute; 1000 per hour")),
        "API_GLOBAL_LIMIT": _rate_limit("API_GLOBAL_LIMIT", get("API_GLOBAL_LIMIT", "600 per minute; 10000 per hour")),
        "RATELIMIT_STORAGE_URI": get("RATELIMIT_STORAGE_URI", "memory://"),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", get("TRUSTED_PROXIES"), 0),
        "IDENTITY_LOCKOUT_ATTEMPTS": _int("IDENTITY_LOCKOUT_ATTEMPTS", get("IDENTITY_LOCKOUT_ATTEMPTS"), 5,
                                          minimum=1),
        "IDENTITY_LOCKOUT_MINUTES": _int("IDENTITY_LOCKOUT_MINUTES", get("IDENTITY_LOCKOUT_MINUTES"), 30, minimum=1),
        "ONE_TIME_CODE_MINUTES": _int("ONE_TIME_CODE_MINUTES", get("ONE_TIME_CODE_MINUTES"), 10, minimum=1),
        "RECEIPT_CHECK_ATTEMPTS": _int("RECEIPT_CHECK_ATTEMPTS", get("RECEIPT_CHECK_ATTEMPTS"), 5, minimum=1),
        "RECEIPT_CHECK_GLOBAL_ATTEMPTS": _int("RECEIPT_CHECK_GLOBAL_ATTEMPTS", get("RECEIPT_CHECK_GLOBAL_ATTEMPTS"),
                                              100, minimum=1),
        "RECEIPT_CHECK_LOCKOUT_MINUTES": _int("RECEIPT_CHECK_LOCKOUT_MINUTES", get("RECEIPT_CHECK_LOCKOUT_MINUTES"),
                                              30, minimum=1),
        "PENDING_CHANGE_DAYS": _int("PENDING_CHANGE_DAYS", get("PENDING_CHANGE_DAYS"), 180, minimum=1),
        "REJECTED_CHANGE_DAYS": _int("REJECTED_CHANGE_DAYS", get("REJECTED_CHANGE_DAYS"), 30, minimum=1),
        "CLOSED_CASE_RETENTION_YEARS": _int("CLOSED_CASE_RETENTION_YEARS", get("CLOSED_CASE_RETENTION_YEARS"), 7,
                                            minimum=1),
        "AUDIT_RETENTION_YEARS": _int("AUDIT_RETENTION_YEARS", get("AUDIT_RETENTION_YEARS"), 10, minimum=1),
        "CONVERSATION_RETENTION_DAYS": _int("CONVERSATION_RETENTION_DAYS", get("CONVERSATION_RETENTION_DAYS"), 365,
                                            minimum=1),
        "OUTBOX_RETENTION_DAYS": _int("OUTBOX_RETENTION_DAYS", get("OUTBOX_RETENTION_DAYS"), 2, minimum=1),
        "STORED_REPLY_MINUTES": _int("STORED_REPLY_MINUTES", get("STORED_REPLY_MINUTES"), 15, minimum=1),
        "API_TOKEN_DAYS": _int("API_TOKEN_DAYS", get("API_TOKEN_DAYS"), 365, minimum=1),
        "DASHBOARD_MIN_CELL": _int("DASHBOARD_MIN_CELL", get("DASHBOARD_MIN_CELL"), 3, minimum=1),
        "BACKUP_RECIPIENTS": _backup_recipients(get("BACKUP_RECIPIENTS")),
        "CLOCK": overrides.get("CLOCK"),
    }
    return Settings(**{name.lower(): value for name, value in values.items()})
