"""E-mail addresses and phone numbers checked the way the world defines them, with well-kept
libraries instead of home-made patterns: `email-validator` (the RFC syntax, internationalised
domains; no DNS look-up, as the server may have no network to ask) and `phonenumbers` (Google's
libphonenumber: which numbers each country actually hands out).

An address that passes here can be written to: a portal login that can never receive a message,
or a focal point's number no provider would accept, is refused when it is entered, not when a
report is waiting for it.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# What people put between digits when they write a number down; dropped before parsing.
_SEPARATORS = re.compile(r"[\s.()-]")
_E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a path, and the column's width


class NotAnAddress(ValueError):
    """The value is not a usable address; the message says why, in words an operator can act on."""


def email_address(value: str) -> str:
    """`value` as a checked e-mail address (trimmed, its domain in lower case)."""
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH:
        raise NotAnAddress(f"longer than {MAX_EMAIL_LENGTH} characters")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise NotAnAddress(f"{value!r} is not an e-mail address: {error}") from None
    return checked.normalized


def phone_number(value: str) -> str:
    """`value` as a number in E.164 form (+ country code, then the number), checked to be a
    number its country hands out. Spaces, dots, dashes and brackets are allowed in between."""
    number = _SEPARATORS.sub("", value)
    if not _E164_SHAPE.fullmatch(number):
        raise NotAnAddress("not an international number in E.164 form (+ then 7 to 15 digits, like +959...)")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise NotAnAddress(f"{value} is not a phone number any country uses") from None
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
        raise NotAnAddress(f"{value} is not a valid phone number in country code +{parsed.country_code} "
                           f"({region}): check the digits")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
