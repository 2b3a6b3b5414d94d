"""The operator's everyday commands through Flask's CLI runner, on the real databases: `users
list|disable|enable|reset`, `directory list|export`, `outbox failed|retry`, `audit show`."""

from __future__ import annotations

import csv as csv_module
import io
import stat
from datetime import timedelta

import pyotp
from sqlalchemy import select

from bot.delivery.worker import OutboxWorker
from storage import accounts, outbox, portal_sessions, sealing, totp
from storage.models import AuditEntry, KeyGrant, OutboxMessage, PortalSession, User
from tests.bot.test_admin_cli import DIRECTORY, PASSWORD, count, csv, import_directory, query, run, unlock
from tests.support.smtp_sink import SmtpSink


def create(app, email, role="focal_point", org="DRA", stdin=f"{PASSWORD}\n", *flags):
    result = run(app, "users", "create", "--email", email, "--role", role, *(["--org", org] if org else []),
                 "--password-stdin", *flags, input=stdin)
    assert result.exit_code == 0, result.output
    return result


def user(app, email) -> User:
    return query(app, select(User).where(User.email == email))[0]


def test_users_list_shows_every_account_and_what_it_lacks(app, tmp_path):
    keys = import_directory(app, tmp_path)
    create(app, "aye@dra.example.org", "focal_point", "DRA", f"{PASSWORD}\n{keys['DRA']}\n", "--recovery-key-stdin")
    create(app, "ba@dra.example.org")
    create(app, "root@example.org", "admin", None)
    result = run(app, "users", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["email", "role", "org", "totp", "active", "key", "last", "login"]
    assert lines[1].split() == ["root@example.org", "admin", "-", "on", "yes", "-", "never"]
    assert lines[2].split() == ["aye@dra.example.org", "focal_point", "DRA", "on", "yes", "yes", "never"]
    assert lines[3].split() == ["ba@dra.example.org", "focal_point", "DRA", "on", "yes", "NOT", "YET", "never"]


def test_disable_logs_out_at_once_and_enable_lets_in_again(app, tmp_path, clock):
    import_directory(app, tmp_path)
    create(app, "ba@dra.example.org")
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        portal_sessions.start(session, accounts.find_user(session, "ba@dra.example.org"), None, now=clock(),
                              lifetime=timedelta(hours=1))
        session.commit()
    disabled = run(app, "users", "disable", "--email", "BA@dra.example.org")
    assert (disabled.exit_code, disabled.stdout) == (0, "ba@dra.example.org is disabled (and logged out everywhere).\n")
    assert user(app, "ba@dra.example.org").active is False
    assert query(app, select(PortalSession)) == []
    assert run(app, "users", "disable", "--email", "ba@dra.example.org").stdout.endswith("already.\n")
    enabled = run(app, "users", "enable", "--email", "ba@dra.example.org")
    assert enabled.stdout == "ba@dra.example.org is enabled.\n" and user(app, "ba@dra.example.org").active
    actions = query(app, select(AuditEntry.detail).where(AuditEntry.action.in_(("account_disabled",
                                                                                "account_enabled"))))
    assert actions == [f"account {user(app, 'ba@dra.example.org').id}; by the operator"] * 2
    assert run(app, "users", "disable", "--email", "nobody@example.org").exit_code == 1


def test_reset_prints_a_new_password_and_totp_and_takes_the_key_away(app, tmp_path):
    keys = import_directory(app, tmp_path)
    create(app, "aye@dra.example.org", "focal_point", "DRA", f"{PASSWORD}\n{keys['DRA']}\n", "--recovery-key-stdin")
    before = user(app, "aye@dra.example.org")
    result = run(app, "users", "reset", "--email", "aye@dra.example.org")
    assert result.exit_code == 0, result.output
    password = next(line for line in result.stdout.splitlines()
                    if line.startswith("New password (shown only now): ")).rsplit(" ", 1)[1]
    uri = next(line for line in result.stdout.splitlines() if line.startswith("otpauth://"))
    after = user(app, "aye@dra.example.org")
    assert accounts.verify_password_hash(after.password_hash, password)
    assert not accounts.verify_password_hash(after.password_hash, PASSWORD)
    assert after.public_key != before.public_key and count(app, KeyGrant) == 0
    assert totp.secret_of(after, app.extensions["intake"].vault) == \
        pyotp.parse_uri(uri).secret
    assert "The reset took away DRA's key" in result.stdout
    assert "users grant --email aye@dra.example.org" in result.stdout
    # The recovery key gives it again, to the new key pair.
    run(app, "users", "grant", "--email", "aye@dra.example.org", "--recovery-key-stdin", input=keys["DRA"] + "\n")
    assert sealing.public_key_of(unlock(app, "aye@dra.example.org", password)) == \
        query(app, select(accounts.Organisation.public_key).where(accounts.Organisation.acronym == "DRA"))[0]


def test_reset_with_a_chosen_password(app, tmp_path):
    create(app, "root@example.org", "admin", None)
    result = run(app, "users", "reset", "--email", "root@example.org", "--password-stdin",
                 input="another long passphrase\n")
    assert result.exit_code == 0 and "New password" not in result.stdout
    assert accounts.verify_password_hash(user(app, "root@example.org").password_hash, "another long passphrase")
    weak = run(app, "users", "reset", "--email", "root@example.org", "--password-stdin", input="short\n")
    assert (weak.exit_code, weak.stderr) == (1, "Error: the password must be at least 12 characters\n")


def test_directory_list_says_who_can_open_referrals(app, tmp_path):
    keys = import_directory(app, tmp_path)
    create(app, "coord@psean.example.org", "coordinator", "PSEAN", f"{PASSWORD}\n{keys['PSEAN']}\n",
           "--recovery-key-stdin")
    result = run(app, "directory", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "DRA  Demo Relief Agency",
        "  focal_point  Daw Aye  <aye@dra.example.org>  townships *  languages en;my",
        "               CANNOT OPEN REFERRALS: no portal account for aye@dra.example.org",
        "PSEAN  PSEA Network  [PSEA Network]",
        "  coordinator  Net Coordinator  <coord@psean.example.org>  townships *  languages en",
        "               account coord@psean.example.org, holds the key",
    ]
    assert result.stderr.startswith("warning: Daw Aye (DRA) is notified but cannot open what they are told about")


def test_directory_export_is_the_import_format_and_private(app, tmp_path):
    import_directory(app, tmp_path)
    shown = run(app, "directory", "export")
    assert shown.exit_code == 0
    assert sorted(shown.stdout.splitlines()) == sorted(DIRECTORY.splitlines())
    target = tmp_path / "out" / "directory.csv"
    (tmp_path / "out").mkdir()
    target.write_text("old")
    target.chmod(0o644)
    written = run(app, "directory", "export", "--output", str(target))
    assert written.exit_code == 0 and written.stderr == f"2 contact(s) written to {target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = run(app, "directory", "import", str(target))
    assert "organisations: 0 new, 0 updated, 2 unchanged" in again.stdout
    assert "contacts: 0 new, 0 updated, 2 unchanged, 0 deactivated" in again.stdout


def test_directory_export_cells_cannot_run_as_formulas(app, tmp_path):
    run(app, "directory", "import", csv(tmp_path, DIRECTORY + "Demo Relief Agency,DRA,Demo Relief,focal_point,"
                                                              "=HYPERLINK(1),ba@dra.example.org,+959450001111,,*,my\n"))
    rows = list(csv_module.reader(io.StringIO(run(app, "directory", "export").stdout)))
    assert ["Demo Relief Agency", "DRA", "Demo Relief", "focal_point", "'=HYPERLINK(1)", "ba@dra.example.org",
            "+959450001111", "", "*", "my"] in rows


def test_a_refused_notification_is_listed_without_its_recipient_and_retried(make_app, clock):
    with SmtpSink() as sink:
        app = make_app(SMTP_HOST=sink.host, SMTP_PORT=sink.port, SMTP_FROM="intake@example.org")
        runtime = app.extensions["intake"]
        with runtime.sessions() as session:
            outbox.enqueue(session, runtime.vault, dedupe_key="notify:1", channel="email", purpose="notification",
                           recipient="fp@dra.example.org", payload={"subject": "New referral", "body": "Log in."},
                           now=clock())
            outbox.enqueue(session, runtime.vault, dedupe_key="reply:1", channel="email", purpose="reply",
                           recipient="someone@example.org", payload={"subject": "s", "body": "b"}, now=clock())
            session.commit()
        sink.refuse_recipients = "550 5.7.1 Relaying denied"  # a relay set up wrongly: refused for good
        assert OutboxWorker(runtime).run_once() == 2
        listed = run(app, "outbox", "failed")
        assert listed.exit_code == 0, listed.output
        assert "fp@dra.example.org" not in listed.output and "New referral" not in listed.output
        lines = listed.stdout.splitlines()
        assert lines[0].split()[:5] == ["2", "email", "reply", "1", "attempt(s)"]
        assert lines[0].endswith("content wiped, cannot be retried")
        assert lines[1].startswith("        last error: ") and "550" in lines[1]
        assert lines[2].endswith("can be retried") and lines[2].split()[:3] == ["1", "email", "notification"]

        sink.refuse_recipients = None  # the relay is fixed
        refused = run(app, "outbox", "retry", "--id", "2")
        assert refused.exit_code == 1 and "not queued (no such failed message, or its content was wiped): 2" \
            in refused.stderr
        retried = run(app, "outbox", "retry", "--all")
        assert (retried.exit_code, retried.stdout) == (0, "1 message(s) queued again: 1.\n")
        assert OutboxWorker(runtime).run_once() == 1
        assert [list(mail.rcpt_tos) for mail in sink.messages] == [["fp@dra.example.org"]]
    rows = {row.dedupe_key: row for row in query(app, select(OutboxMessage))}
    assert rows["notify:1"].status == "sent" and rows["notify:1"].recipient is None
    assert run(app, "outbox", "failed").stdout.count("\n") == 3  # the reply, and the summary line
    assert run(app, "outbox", "retry").exit_code == 2


def test_audit_show_prints_the_newest_entries_and_the_chain(app, tmp_path):
    create(app, "root@example.org", "admin", None)
    run(app, "users", "disable", "--email", "root@example.org")
    result = run(app, "audit", "show", "--limit", "1")
    assert result.exit_code == 0, result.output
    entry_id = user(app, "root@example.org").id
    assert result.stdout.splitlines()[0].endswith(f"-  account_disabled  account {entry_id}; by the operator")
    assert result.stdout.splitlines()[-1] == "1 of 2 entries shown; the chain holds."
    with app.extensions["intake"].sessions() as session:
        session.execute(select(AuditEntry)).scalars().first().detail = "edited"
        session.commit()
    assert run(app, "audit", "show").stdout.splitlines()[-1] == \
        "2 of 2 entries shown; THE CHAIN IS BROKEN: run `audit verify`."
