"""Organisation keys and accounts: grants, recovery, unlocking, password changes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from storage import accounts, logins, sealing
from storage.accounts import AccountError
from storage.models import KeyGrant

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
PASSWORD = "long enough password"


@pytest.fixture
def session(app):
    with app.extensions["intake"].sessions() as session:
        yield session


def organisation(session, acronym="UNHCR", network=False):
    return accounts.create_organisation(session, name=acronym + " name", acronym=acronym,
                                        is_network=network, now=NOW)


def unlock(session, user, password: str) -> bytes | None:
    """The organisation key as a login opens it."""
    return logins.open_organisation_key(logins.read_credentials(session, user.email), password)


def test_first_user_is_granted_with_the_recovery_key_and_can_unlock(session):
    org, recovery = organisation(session)
    user = accounts.create_user(session, email=" FP@Example.org ", role="focal_point", password=PASSWORD,
                                organisation=org, now=NOW)
    assert user.email == "fp@example.org"
    assert unlock(session, user, PASSWORD) is None  # no grant yet
    accounts.grant_with_recovery_key(session, org, user, recovery, NOW)
    private = unlock(session, user, PASSWORD)
    assert sealing.public_key_of(private) == org.public_key
    assert PASSWORD.encode() not in user.password_hash.encode() and private not in user.wrapped_private_key


def test_a_wrong_recovery_key_grants_nothing(session):
    org, _ = organisation(session)
    user = accounts.create_user(session, email="a@x.org", role="focal_point", password=PASSWORD,
                                organisation=org, now=NOW)
    with pytest.raises(sealing.SealError):
        accounts.grant_with_recovery_key(session, org, user, sealing.new_recovery_key(), NOW)
    assert session.execute(select(KeyGrant)).first() is None


def test_a_second_member_is_granted_with_the_recovery_key_only(session):
    org, recovery = organisation(session)
    first = accounts.create_user(session, email="a@x.org", role="focal_point", password=PASSWORD,
                                 organisation=org, now=NOW)
    accounts.grant_with_recovery_key(session, org, first, recovery, NOW)
    second = accounts.create_user(session, email="b@x.org", role="focal_point", password=PASSWORD + "2",
                                  organisation=org, now=NOW)
    private = unlock(session, first, PASSWORD)
    assert unlock(session, second, PASSWORD + "2") is None
    accounts.grant_with_recovery_key(session, org, second, recovery, NOW)
    assert unlock(session, second, PASSWORD + "2") == private


def test_password_change_keeps_the_key(session):
    org, recovery = organisation(session)
    user = accounts.create_user(session, email="a@x.org", role="focal_point", password=PASSWORD,
                                organisation=org, now=NOW)
    accounts.grant_with_recovery_key(session, org, user, recovery, NOW)
    accounts.change_password(user, PASSWORD, "a brand new passphrase")
    assert accounts.verify_password_hash(user.password_hash, "a brand new passphrase")
    assert not accounts.verify_password_hash(user.password_hash, PASSWORD)
    assert sealing.public_key_of(unlock(session, user, "a brand new passphrase")) == org.public_key


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "boss"}, "role must be one of"),
    ({"role": "focal_point", "organisation": None}, "belongs to an organisation"),
    ({"role": "focal_point", "password": "short"}, "at least 12"),
    ({"role": "coordinator"}, "PSEA Network"),
])
def test_bad_accounts_are_refused_with_a_reason(session, kwargs, message):
    org, _ = organisation(session)
    arguments = {"email": "x@y.org", "role": "focal_point", "password": PASSWORD, "organisation": org, "now": NOW}
    arguments.update(kwargs)
    with pytest.raises(AccountError, match=message):
        accounts.create_user(session, **arguments)


def test_duplicate_email_is_refused(session):
    org, _ = organisation(session)
    accounts.create_user(session, email="x@y.org", role="focal_point", password=PASSWORD, organisation=org, now=NOW)
    with pytest.raises(AccountError, match="exists already"):
        accounts.create_user(session, email="X@y.org", role="focal_point", password=PASSWORD,
                             organisation=org, now=NOW)
