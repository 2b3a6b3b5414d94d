"""The operator's commands through Flask's CLI runner, on the real, migrated databases:
`directory import`, `gazetteer import`, `emergency import`, `users create|grant|totp`, `demo load`.
The newer operator commands (`users list|disable|enable|reset`, `directory list|export`, `outbox
failed|retry`, `audit show`) are in test_operator_cli.py."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from storage import accounts, logins, sealing
from storage.demo import DEMO_DIR
from storage.models import Contact, EmergencyContact, KeyGrant, Organisation, Township, User

PASSWORD = "correct horse battery"
RECOVERY_KEY = re.compile(r"^  (\S+) +((?:[A-Z2-7]{4}-){7}[A-Z2-7]{4})$", re.MULTILINE)
DIRECTORY = (
    "organisation,acronym,aliases,role,name,email,phone,telegram_chat_id,townships,languages\n"
    "PSEA Network,PSEAN,,coordinator,Net Coordinator,coord@psean.example.org,,,*,en\n"
    "Demo Relief Agency,DRA,Demo Relief,focal_point,Daw Aye,aye@dra.example.org,,,*,en;my\n"
)


@pytest.fixture
def cli_app(app, tmp_path):
    """The app with its instance folder in the test's temporary directory (demo-accounts.txt)."""
    app.instance_path = str(tmp_path / "instance")
    return app


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def csv(tmp_path: Path, text: str, name: str = "file.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def query(app, statement):
    with app.extensions["intake"].sessions() as session:
        return session.execute(statement).scalars().all()


def count(app, model) -> int:
    return query(app, select(func.count()).select_from(model))[0]


def import_directory(app, tmp_path) -> dict[str, str]:
    result = run(app, "directory", "import", csv(tmp_path, DIRECTORY))
    assert result.exit_code == 0, result.output
    return dict(RECOVERY_KEY.findall(result.stdout))


def unlock(app, email: str, password: str = PASSWORD) -> bytes | None:
    with app.extensions["intake"].sessions() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        assert accounts.verify_password_hash(user.password_hash, password)
        return logins.open_organisation_key(logins.read_credentials(session, user.email), password)


def public_key(app, acronym: str) -> bytes:
    return query(app, select(Organisation.public_key).where(Organisation.acronym == acronym))[0]


# --- imports ----------------------------------------------------------------------------------

def test_directory_import_prints_a_summary_and_each_recovery_key_once(app, tmp_path):
    result = run(app, "directory", "import", csv(tmp_path, DIRECTORY))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported file.csv:\n"
                                    "  organisations: 2 new, 0 updated, 0 unchanged\n"
                                    "  contacts: 2 new, 0 updated, 0 unchanged, 0 deactivated\n")
    assert "shown now, ONCE, and stored nowhere" in result.stdout and "OFFLINE" in result.stdout
    keys = dict(RECOVERY_KEY.findall(result.stdout))
    assert set(keys) == {"PSEAN", "DRA"}
    for acronym, key in keys.items():
        assert result.stdout.count(key) == 1
        wrap = query(app, select(Organisation.recovery_wrap).where(Organisation.acronym == acronym))[0]
        assert sealing.public_key_of(sealing.unwrap(wrap, key)) == public_key(app, acronym)
    again = run(app, "directory", "import", csv(tmp_path, DIRECTORY))
    assert again.exit_code == 0
    assert "organisations: 0 new, 0 updated, 2 unchanged" in again.stdout
    assert "RECOVERY KEYS" not in again.stdout and not RECOVERY_KEY.search(again.stdout)


def test_directory_import_with_errors_lists_them_all_and_imports_nothing(app, tmp_path):
    text = DIRECTORY + "Example Health,EHP,,focal_point,Ko Hla,hla@,,,*,en\nExample Health,EHP,,fp,Ma Mya,,,,*,en\n"
    result = run(app, "directory", "import", csv(tmp_path, text, "focal points.csv"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 4: email: 'hla@' is not an e-mail address: There must be something after the @-sign.",
        "line 5: role: must be focal_point or coordinator",
        "line 5: email: no way to reach this person: give at least one of email, phone, telegram_chat_id",
        "focal points.csv: 3 problem(s); nothing was imported.",
    ]
    assert result.stdout == "" and "Traceback" not in result.output
    assert count(app, Organisation) == 0 and count(app, Contact) == 0


def test_directory_import_of_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run(app, "directory", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_directory_import_warns_about_places_missing_from_the_gazetteer(app, tmp_path):
    run(app, "gazetteer", "import", str(DEMO_DIR / "townships.csv"))
    result = run(app, "directory", "import", csv(tmp_path, DIRECTORY.replace(",*,en;my", ",MMR013099,en;my")))
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == "warning: line 3: townships: not in the gazetteer: MMR013099"


def test_directory_import_warns_about_contacts_notified_who_cannot_open_what_they_are_told(app, tmp_path):
    keys = import_directory(app, tmp_path)
    run(app, "users", "create", "--email", "coord@psean.example.org", "--role", "coordinator", "--org", "PSEAN",
        "--password-stdin", "--recovery-key-stdin", input=f"{PASSWORD}\n{keys['PSEAN']}\n")
    run(app, "users", "create", "--email", "aye@dra.example.org", "--role", "focal_point", "--org", "DRA",
        "--password-stdin", input=f"{PASSWORD}\n")
    again = run(app, "directory", "import", csv(tmp_path, DIRECTORY))
    assert again.exit_code == 0
    assert again.stderr.splitlines() == [
        "warning: Daw Aye (DRA) is notified but cannot open what they are told about: the portal account "
        "aye@dra.example.org does not hold DRA's key yet (a colleague who holds it gives it on the portal's "
        "Access page)",
        "  (create their accounts with `users create`; an account without the key gets it from a colleague on the "
        "portal's Access page, or `users grant`)",
    ]
    run(app, "users", "grant", "--email", "aye@dra.example.org", "--recovery-key-stdin", input=keys["DRA"] + "\n")
    assert run(app, "directory", "import", csv(tmp_path, DIRECTORY)).stderr == ""


def test_gazetteer_and_emergency_imports(app, tmp_path):
    result = run(app, "gazetteer", "import", str(DEMO_DIR / "townships.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported townships.csv:\n  townships: 10 new, 0 updated, 0 unchanged\n"
    result = run(app, "emergency", "import", str(DEMO_DIR / "emergency_contacts.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported emergency_contacts.csv:\n  emergency contacts: 5 new, 0 unchanged, 0 removed\n"
    assert count(app, Township) == 10 and count(app, EmergencyContact) == 5
    again = run(app, "gazetteer", "import", str(DEMO_DIR / "townships.csv"))
    assert "townships: 0 new, 0 updated, 10 unchanged" in again.stdout


def test_gazetteer_and_emergency_imports_report_bad_lines(app, tmp_path):
    bad = run(app, "gazetteer", "import", csv(tmp_path, "pcode,state_pcode,state_name_en,name_en,name_my\n"
                                                        "MMR012001,MMR013,Rakhine,Sittwe,\n"))
    assert bad.exit_code == 1
    assert bad.stderr.splitlines()[0] == "line 2: pcode: MMR012001 does not start with its state's P-code MMR013"
    bad = run(app, "emergency", "import", csv(tmp_path, "area,language,text\nMMR012,en,Call\n"))
    assert bad.exit_code == 1
    assert bad.stderr.startswith("line 2: area: MMR012 is not in the gazetteer")
    assert count(app, Township) == 0 and count(app, EmergencyContact) == 0


# --- users ------------------------------------------------------------------------------------

def test_users_create_with_the_recovery_key_can_read_the_organisation_at_once(app, tmp_path):
    keys = import_directory(app, tmp_path)
    result = run(app, "users", "create", "--email", "Aye@DRA.example.org", "--role", "focal_point", "--org", "dra",
                 "--password-stdin", "--recovery-key-stdin", input=f"{PASSWORD}\n{keys['DRA']}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Created focal_point account aye@dra.example.org (DRA).\n"
                                    "aye@dra.example.org holds DRA's key and can read its reports.\n"
                                    "TOTP is on: after the password, the portal asks for a 6-digit code.\n")
    assert sealing.public_key_of(unlock(app, "aye@dra.example.org")) == public_key(app, "DRA")


def test_users_create_turns_totp_on_and_prints_the_otpauth_uri(app, tmp_path):
    result = run(app, "users", "create", "--email", "root@example.org", "--role", "admin", "--password-stdin",
                 input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.stdout.splitlines() if line.startswith("otpauth://"))
    printed = pyotp.parse_uri(uri)
    assert (printed.issuer, printed.name) == ("Community Feedback", "root@example.org")
    [user_id] = query(app, select(User.id).where(User.email == "root@example.org"))
    stored = query(app, select(User.totp_secret).where(User.email == "root@example.org"))[0]
    assert app.extensions["intake"].vault.open(stored, "users.totp_secret", {"id": user_id}).decode() == printed.secret
    assert f"Or type the key by hand: {printed.secret[:4]} " in result.stdout


def test_users_create_without_the_recovery_key_says_how_access_comes(app, tmp_path):
    keys = import_directory(app, tmp_path)
    result = run(app, "users", "create", "--email", "ba@dra.example.org", "--role", "focal_point", "--org", "DRA",
                 "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert ("cannot read DRA's reports yet: a colleague who holds DRA's key gives it on the portal's Access page, "
            "or you do, with DRA's recovery key:") in result.stdout
    assert "flask --app app users grant --email ba@dra.example.org --recovery-key-stdin" in result.stdout
    assert unlock(app, "ba@dra.example.org") is None
    granted = run(app, "users", "grant", "--email", "ba@dra.example.org", "--recovery-key-stdin",
                  input=keys["DRA"] + "\n")
    assert granted.exit_code == 0, granted.output
    assert granted.stdout == "ba@dra.example.org now holds DRA's key and can read its reports.\n"
    assert sealing.public_key_of(unlock(app, "ba@dra.example.org")) == public_key(app, "DRA")
    twice = run(app, "users", "grant", "--email", "ba@dra.example.org", "--recovery-key-stdin",
                input=keys["DRA"] + "\n")
    assert twice.stdout == "ba@dra.example.org already holds DRA's key.\n"
    assert count(app, KeyGrant) == 1


def test_users_grant_holds_no_lock_while_it_waits_for_the_recovery_key(app, tmp_path, monkeypatch):
    """An operator typing the key must not hold the database (on SQLite its one write lock, which
    every webhook waits for): while the prompt waits, another writer gets through at once."""
    import click

    from storage.models import Conversation

    keys = import_directory(app, tmp_path)
    run(app, "users", "create", "--email", "ba@dra.example.org", "--role", "focal_point", "--org", "DRA",
        "--password-stdin", input=f"{PASSWORD}\n")
    runtime = app.extensions["intake"]
    written = []

    def operator_types(_text, **_options):
        with runtime.sessions() as session:  # someone else's message, meanwhile
            session.add(Conversation(channel="sms", sender_key="k" * 64, turns=0, created_at=runtime.clock()))
            session.commit()
        written.append(True)
        return keys["DRA"]

    monkeypatch.setattr(click, "prompt", operator_types)
    granted = run(app, "users", "grant", "--email", "ba@dra.example.org")
    assert granted.exit_code == 0, granted.output
    assert written == [True] and count(app, KeyGrant) == 1


def test_users_create_for_roles_without_an_organisation_key(app, tmp_path):
    result = run(app, "users", "create", "--email", "root@example.org", "--role", "admin", "--password-stdin",
                 input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Created admin account root@example.org.\nTOTP is on")
    import_directory(app, tmp_path)
    result = run(app, "users", "create", "--email", "cw@example.org", "--role", "caseworker", "--org", "DRA",
                 "--password-stdin", input=f"{PASSWORD}\n")
    assert result.stdout.startswith("Created caseworker account cw@example.org (DRA).\nTOTP is on")


@pytest.mark.parametrize("args, stdin, code, message", [
    (["--role", "boss"], f"{PASSWORD}\n", 2, "Invalid value for '--role'"),
    (["--role", "admin", "--email", "notanemail"], f"{PASSWORD}\n", 1,
     "Error: 'notanemail' is not an e-mail address: An email address must have an @-sign."),
    (["--role", "admin", "--email", "a@b"], f"{PASSWORD}\n", 1,
     "Error: 'a@b' is not an e-mail address: The part after the @-sign is not valid. It should have a period."),
    (["--role", "admin"], "x@example.orgx@example.org\n", 1,
     "Error: the password must not contain the account's e-mail address"),
    (["--role", "focal_point", "--org", "NOPE"], f"{PASSWORD}\n", 1,
     "Error: no organisation has the acronym 'NOPE' (see `directory import`)"),
    (["--role", "focal_point"], f"{PASSWORD}\n", 1, "Error: a focal_point belongs to an organisation (--org)"),
    (["--role", "coordinator", "--org", "DRA"], f"{PASSWORD}\n", 1,
     "Error: coordinators belong to the PSEA Network organisation"),
    (["--role", "focal_point", "--org", "DRA"], "short\n", 1, "Error: the password must be at least 12 characters"),
    (["--role", "focal_point", "--org", "DRA"], "", 2, "Error: expected the password on standard input"),
    (["--role", "focal_point", "--org", "DRA", "--recovery-key-stdin"], f"{PASSWORD}\nAAAA-BBBB-CCCC\n", 1,
     "Error: that is not DRA's recovery key; no account was created"),
    (["--role", "focal_point", "--org", "DRA", "--recovery-key-stdin"], f"{PASSWORD}\n", 2,
     "Error: expected the recovery key on standard input"),
    (["--role", "admin", "--recovery-key-stdin"], f"{PASSWORD}\nAAAA\n", 2,
     "only focal_point and coordinator accounts hold an organisation's key"),
])
def test_users_create_refuses_with_a_clear_message(app, tmp_path, args, stdin, code, message):
    import_directory(app, tmp_path)
    result = run(app, "users", "create", "--email", "x@example.org", *args, "--password-stdin", input=stdin)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert count(app, User) == 0


def test_users_create_refuses_a_second_account_for_the_same_email(app, tmp_path):
    import_directory(app, tmp_path)
    args = ["users", "create", "--email", "a@example.org", "--role", "focal_point", "--org", "DRA", "--password-stdin"]
    assert run(app, *args, input=f"{PASSWORD}\n").exit_code == 0
    again = run(app, *args[:2], "--email", "A@Example.org", *args[4:], input=f"{PASSWORD}\n")
    assert again.exit_code == 1
    assert again.stderr == "Error: an account for a@example.org exists already\n"


def test_users_grant_refusals(app, tmp_path):
    import_directory(app, tmp_path)
    run(app, "users", "create", "--email", "fp@example.org", "--role", "focal_point", "--org", "DRA",
        "--password-stdin", input=f"{PASSWORD}\n")
    run(app, "users", "create", "--email", "admin@example.org", "--role", "admin", "--password-stdin",
        input=f"{PASSWORD}\n")
    cases = [
        ("nobody@example.org", "x\n", "Error: no account for nobody@example.org\n"),
        ("admin@example.org", "x\n", "Error: admin@example.org has the role admin: only focal_point and "
                                     "coordinator accounts hold an organisation's key\n"),
        ("fp@example.org", sealing.new_recovery_key() + "\n", "Error: that is not DRA's recovery key; "
                                                              "nothing changed\n"),
    ]
    for email, stdin, message in cases:
        result = run(app, "users", "grant", "--email", email, "--recovery-key-stdin", input=stdin)
        assert (result.exit_code, result.stderr) == (1, message)
    assert count(app, KeyGrant) == 0


def test_users_totp_stores_the_secret_sealed_and_prints_the_provisioning_uri(app, tmp_path):
    run(app, "users", "create", "--email", "fp@example.org", "--role", "admin", "--password-stdin",
        input=f"{PASSWORD}\n")
    result = run(app, "users", "totp", "--email", "FP@example.org")
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.stdout.splitlines() if line.startswith("otpauth://"))
    totp = pyotp.parse_uri(uri)
    assert (totp.issuer, totp.name) == ("Community Feedback", "fp@example.org")
    [user_id] = query(app, select(User.id).where(User.email == "fp@example.org"))
    stored = query(app, select(User.totp_secret).where(User.email == "fp@example.org"))[0]
    secret = app.extensions["intake"].vault.open(stored, "users.totp_secret", {"id": user_id}).decode()
    assert secret == totp.secret and secret.encode() not in stored
    assert pyotp.TOTP(secret).verify(totp.now())
    again = run(app, "users", "totp", "--email", "fp@example.org")
    assert "replaces the previous authenticator entry" in again.stdout
    assert run(app, "users", "totp", "--email", "nobody@example.org").exit_code == 1


def test_users_totp_uses_the_configured_service_name(make_app):
    app = make_app(SERVICE_NAME="Feedback Line")
    run(app, "users", "create", "--email", "a@example.org", "--role", "admin", "--password-stdin",
        input=f"{PASSWORD}\n")
    uri = run(app, "users", "totp", "--email", "a@example.org").stdout
    assert "issuer=Feedback%20Line" in uri


# --- demo -------------------------------------------------------------------------------------

DEMO_ROW = re.compile(r"^  (coordinator|focal_point|admin) +(\S+) +(\S+@\S+) +([a-z2-9]{4}(?:-[a-z2-9]{4}){3})$",
                      re.MULTILINE)


def test_demo_load_creates_working_accounts_and_saves_them_privately(cli_app):
    result = run(cli_app, "demo", "load")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Demo data loaded: 10 townships, 5 emergency contacts, 3 organisations, "
                                    "5 contacts.\n")
    rows = DEMO_ROW.findall(result.stdout)
    # Everyone the demo directory notifies has an account that can open what they are told about.
    assert [(role, org) for role, org, _, _ in rows] == [
        ("coordinator", "PSEAN"), ("focal_point", "DRA"), ("focal_point", "DRA"), ("focal_point", "EHP"),
        ("focal_point", "EHP"), ("admin", "-")]
    assert {email for _, _, email, _ in rows} >= {"dra.yangon@example.org", "dra.rakhine@example.org"}
    assert "cannot open" not in result.output
    passwords = [password for *_, password in rows]
    assert len(set(passwords)) == 6
    for role, acronym, email, password in rows:
        private = unlock(cli_app, email, password)
        if role == "admin":
            assert private is None
        else:
            assert sealing.public_key_of(private) == public_key(cli_app, acronym)
    saved = Path(cli_app.instance_path) / "demo-accounts.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert DEMO_ROW.findall(saved.read_text(encoding="utf-8")) == rows
    assert "/portal/login" in saved.read_text(encoding="utf-8")
    assert set(dict(RECOVERY_KEY.findall(result.stdout))) == {"PSEAN", "DRA", "EHP"}
    assert "RECOVERY" not in saved.read_text(encoding="utf-8")


def test_demo_load_twice_loads_nothing_and_shows_no_password_again(cli_app):
    first = run(cli_app, "demo", "load")
    users = count(cli_app, User)
    second = run(cli_app, "demo", "load")
    assert second.exit_code == 0, second.output
    saved = Path(cli_app.instance_path) / "demo-accounts.txt"
    assert second.stdout == ("The database already has organisations: no demo data loaded.\n"
                             f"The demo accounts and their passwords are in {saved} (readable only by its owner).\n")
    assert DEMO_ROW.findall(saved.read_text(encoding="utf-8")) == DEMO_ROW.findall(first.stdout)
    assert not any(password in second.stdout for *_, password in DEMO_ROW.findall(first.stdout))
    assert not RECOVERY_KEY.search(second.stdout)
    assert count(cli_app, User) == users and count(cli_app, Organisation) == 3


def test_demo_load_never_touches_a_database_with_real_organisations(cli_app, tmp_path):
    import_directory(cli_app, tmp_path)
    result = run(cli_app, "demo", "load")
    assert result.exit_code == 0
    assert result.stdout == "The database already has organisations: no demo data loaded.\n"
    assert count(cli_app, User) == 0 and count(cli_app, Township) == 0
    assert not (Path(cli_app.instance_path) / "demo-accounts.txt").exists()


def test_demo_passwords_differ_between_loads(make_app, tmp_path):
    passwords = []
    for name in ("one", "two"):
        app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / name}.sqlite3")
        app.instance_path = str(tmp_path / name)
        assert run(app, "db", "upgrade").exit_code == 0
        passwords += [row[3] for row in DEMO_ROW.findall(run(app, "demo", "load").stdout)]
    assert len(passwords) == 12 and len(set(passwords)) == 12
