"""TOTP (RFC 6238), the second login step every portal account has: the secret an authenticator
app is given, kept sealed with the server's data key, and the codes it shows.

A code is good once. The account keeps the last time-step it accepted (`users.totp_last_step`),
and a code is accepted only for a later step: someone who watched a code being typed, or
replays a captured request, cannot use it again, even within its 30 seconds.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone

import pyotp

from sqlalchemy.orm import object_session

from storage.binding import legacy_for
from storage.crypto import Vault
from storage.models import User

# The Vault purpose of User.totp_secret (the base32 secret an authenticator app is given).
TOTP_PURPOSE = "users.totp_secret"
# Seconds per code (RFC 6238's default, which every authenticator app uses).
INTERVAL = 30
# Steps either side of now that are accepted: a phone's clock a little off, or a code typed
# just as it changed (RFC 6238 section 5.2).
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32()


def store(user: User, vault: Vault, secret: str) -> None:
    """Give `user` this secret (replacing any other: an old authenticator entry stops working)."""
    if user.id is None:
        object_session(user).flush()  # its id first: the secret is bound to it
    user.totp_secret = vault.seal(secret.encode(), TOTP_PURPOSE, {"id": user.id})
    user.totp_last_step = None


def clear(user: User) -> None:
    """Take the account's secret away: its next login sets up a new authenticator."""
    user.totp_secret = None
    user.totp_last_step = None


def secret_of(user: User, vault: Vault) -> str:
    return vault.open(user.totp_secret, TOTP_PURPOSE, {"id": user.id}, legacy=legacy_for(user, "users")).decode()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code, or pasted)."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=email, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time-step whose code `code` is (now, or DRIFT_STEPS either side); None if none is.
    Spaces in the code are ignored (apps show "123 456"), and digits of any script count (a
    Burmese keyboard types ၁၂၃၄၅၆)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdecimal():
        return None
    code = "".join(str(int(digit)) for digit in code)
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def step_at(now: datetime) -> int:
    """The time-step `now` is in."""
    return int(now.timestamp()) // INTERVAL


def step_start(step: int) -> datetime:
    """When a time-step began (UTC)."""
    return datetime.fromtimestamp(step * INTERVAL, tz=timezone.utc)
