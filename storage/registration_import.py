"""The registration system's records in and the approved changes out (`flask --app app
registrations import|export`; the formats are in the README).

Import. The whole file is checked first (`check_file`, against the townships and the records'
digests read up front in one query each, with no transaction open while the file is read): every
problem names its line and column, never the value of a personal column, and a file with any
problem writes nothing. A good file is then written in chunks (`import_registrations`):

* a record is found by its number's digest (`storage.registrations.number_digest`) and updated in
  place; a row whose digest (`Registration.row_digest`, a keyed hash of the row as imported) is
  the one stored is skipped, so re-importing a file costs a look-up per row, not a re-sealing;
* a record the file no longer lists is left alone, or marked inactive (never deleted) with
  `deactivate_missing`; an erased record is never brought back: its row is skipped and counted;
* the address a person gave themselves is kept (the file has no address column).

Each record's date-of-birth proof is deliberately slow (scrypt, `Vault.dob_check`), so the proofs
of a chunk are derived on a thread pool (hashlib releases the GIL) with no transaction open, while
the previous chunk is written; each chunk is then written in one short unit of work (bulk insert,
bulk update by primary key), so that a long import never holds the database from the messages
coming in. Should the database fail halfway, the chunks written stay; importing the file again
finishes the job. Storage functions take the session (or, here, a way to open units of work)
first and never commit.

Export: every approved change, oldest decision first, as the registration office's system takes
them back (`approved_changes`).
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Callable, Iterable, Iterator

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from intake.registration import EDUCATION, NEED_CODE, NEED_GROUPS, OCCUPATION, SEX, read_recorded_date_of_birth
from storage import csv_import
from storage.changes import open_change_value
from storage.crypto import Vault
from storage.csv_import import ImportRejected, Invalid, Problem, Row, check
from storage.models import Registration, RegistrationChange, Township
from storage.registrations import (
    IdentityColumns, identity_columns, number_digest, open_details, open_number, write_details,
)

HEADER = ("registration_number", "group_number", "given_name", "family_name", "date_of_birth", "sex", "phone",
          "township", "education", "occupation", "needs", "language", "status")
EXPORT_HEADER = ("registration_number", "field", "old_value", "new_value", "channel", "requested_at", "decided_at")
STATUSES = ("active", "inactive")
ROW_KIND = "import-row"
CHUNK_ROWS = 2000  # rows written per unit of work
SLICE_ROWS = 250  # rows per task on the thread pool

_NUMBER = re.compile(r"[^\W_](?:[^\W_]|-)*")  # letters and digits (any script), and dashes
_NEED_LIST = ", ".join(NEED_GROUPS)

# Where a step of the import has got to: `progress(phase, total)` opens a phase ("checking",
# "importing") of `total` rows and gives a callable that is told how many more rows are done.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
Transaction = Callable[[], AbstractContextManager[Session]]


@contextmanager
def no_progress(phase: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda done: None


@dataclass
class RegistrationImport:
    """What an import did, in records."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    erased_skipped: int = 0  # rows of records that were erased: never brought back
    left_alone: int = 0  # active records the file does not list, kept as they are (no deactivate_missing)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A checked row that must be written: new (`registration_id` None) or changed."""

    registration_id: int | None
    row: str  # the cleaned values in HEADER order, as JSON: the canonical row its digest is of
    row_digest: bytes

    @property
    def values(self) -> list[str]:
        return json.loads(self.row)


@dataclass
class ImportPlan:
    """A checked file: what must be written, and what was found not to need it."""

    pending: list[_Pending] = field(default_factory=list)
    unchanged: int = 0
    erased_skipped: int = 0
    missing: list[int] = field(default_factory=list)  # active records the file does not list


# --- checking ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Known:
    registration_id: int
    row_digest: bytes | None
    erased: bool
    active: bool


@dataclass
class Existing:
    """What a file is checked against, read in one short unit of work: the gazetteer's townships
    and every record's digests (by number digest)."""

    townships: set[str]
    records: dict[bytes, _Known]


def existing(session: Session) -> Existing:
    townships = set(session.execute(select(Township.pcode)).scalars())
    records = {digest: _Known(registration_id, row_digest, erased_at is not None, status == "active")
               for registration_id, digest, row_digest, erased_at, status in session.execute(
                   select(Registration.id, Registration.number_digest, Registration.row_digest,
                          Registration.erased_at, Registration.status))}
    return Existing(townships, records)


def check_file(vault: Vault, data: bytes | str, existing: Existing, *, languages: Iterable[str], today: date,
               progress: Progress = no_progress) -> ImportPlan:
    """Check every row and compare it with the records there are; needs no database (no
    transaction stays open while a big file is read). Raises ImportRejected listing every
    problem if the file has any."""
    rows, problems = csv_import.read_rows(data, HEADER)
    fields = _Fields(tuple(languages), existing.townships, today)
    plan = ImportPlan()
    first_line: dict[bytes, int] = {}
    with progress("checking", len(rows)) as advance:
        for index, row in enumerate(rows, 1):
            values, good = fields.check(row, problems)
            if index % 1000 == 0:
                advance(1000)
            if values[0] is None:
                continue
            digest = number_digest(vault, values[0])
            if digest in first_line:
                problems.append(Problem(row.line, "registration_number", f"the same number as line "
                                        f"{first_line[digest]} (dashes, spaces and case do not count)"))
                continue
            first_line[digest] = row.line
            if not good or problems:  # the file is rejected: only the checks go on
                continue
            canonical = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
            row_digest = vault.lookup_digest(ROW_KIND, canonical)
            known = existing.records.get(digest)
            if known is not None and known.erased:
                plan.erased_skipped += 1
            elif known is not None and known.row_digest == row_digest:
                plan.unchanged += 1
            else:
                plan.pending.append(_Pending(None if known is None else known.registration_id, canonical, row_digest))
        advance(len(rows) % 1000)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: (p.line is None, p.line or 0)))
    plan.missing = [known.registration_id for digest, known in existing.records.items()
                    if known.active and not known.erased and digest not in first_line]
    return plan


class _Fields:
    """The checks of one row's columns; each returns the cleaned value or raises Invalid. The
    reasons never quote a personal value (names, numbers, dates, phones, needs)."""

    def __init__(self, languages: tuple[str, ...], townships: set[str], today: date):
        self.languages, self.townships, self.today = languages, townships, today
        self.checks = (
            ("registration_number", self.registration_number),
            ("group_number", self.group_number),
            ("given_name", csv_import.text(200)),
            ("family_name", csv_import.text(200, required=False)),
            ("date_of_birth", self.date_of_birth),
            ("sex", self.sex),
            ("phone", csv_import.phone),
            ("township", self.township),
            ("education", self.coded(EDUCATION)),
            ("occupation", self.coded(OCCUPATION)),
            ("needs", self.needs),
            ("language", self.language),
            ("status", self.status),
        )

    def check(self, row: Row, problems: list[Problem]) -> tuple[tuple, bool]:
        """The row's cleaned values (None where a column has a problem), and whether all are good."""
        before = len(problems)
        values = tuple(check(problems, row, column, validate) for column, validate in self.checks)
        return values, len(problems) == before

    @staticmethod
    def _number(value: str, required: bool) -> str:
        if not value:
            if required:
                raise Invalid("required")
            return ""
        if len(value) > 40:
            raise Invalid("longer than 40 characters")
        if not _NUMBER.fullmatch(value):
            raise Invalid("only letters, digits and - (dashes)")
        return value

    def registration_number(self, value: str) -> str:
        return self._number(value, required=True)

    def group_number(self, value: str) -> str:
        return self._number(value, required=False)

    def date_of_birth(self, value: str) -> str:
        if not value:
            return ""
        dob = read_recorded_date_of_birth(value)
        if dob is None:
            raise Invalid("not a date (YYYY-MM-DD, YYYY-MM or YYYY)")
        if dob.value > self.today.isoformat()[:len(dob.value)]:
            raise Invalid("in the future")
        return dob.value

    @staticmethod
    def sex(value: str) -> str:
        code = value.upper()
        if code and code not in SEX:
            raise Invalid(f"must be {', '.join(SEX)} or empty")
        return code

    def township(self, value: str) -> str:
        if not value:
            return ""
        code = csv_import.pcode(value)
        if code not in self.townships:
            raise Invalid(f"{code} is not a township in the gazetteer (see gazetteer import)")
        return code

    @staticmethod
    def coded(codes: dict) -> Callable[[str], str]:
        def validate(value: str) -> str:
            code = value.upper()
            if code and code not in codes:
                raise Invalid(f"not one of the codes {', '.join(codes)} (or empty)")
            return code
        return validate

    @staticmethod
    def needs(value: str) -> str:
        codes = [code.upper() for code in csv_import.split_list(value)]
        bad = [str(position) for position, code in enumerate(codes, 1) if not NEED_CODE.fullmatch(code)]
        if bad:
            which = "code" if len(bad) == 1 else "codes"
            raise Invalid(f"{which} {', '.join(bad)} of the list: not a need code ({_NEED_LIST}, optionally "
                          "with a sub-code after -, like SM-1; separated by ;)")
        return ";".join(dict.fromkeys(codes))

    def language(self, value: str) -> str:
        if value and value not in self.languages:
            raise Invalid(f"{value!r} is not a shipped language ({', '.join(self.languages)}) or empty")
        return value

    @staticmethod
    def status(value: str) -> str:
        if value not in STATUSES:
            raise Invalid(f"must be {' or '.join(STATUSES)}")
        return value


# --- writing ----------------------------------------------------------------------------------

def import_registrations(transaction: Transaction, vault: Vault, data: bytes | str, *, languages: Iterable[str],
                         now: datetime, deactivate_missing: bool = False, progress: Progress = no_progress,
                         workers: int | None = None, chunk_rows: int = CHUNK_ROWS) -> RegistrationImport:
    """Check the file (ImportRejected, nothing written, on any problem), then write it, a chunk
    per unit of work from `transaction` (say `Runtime.transaction`)."""
    with transaction() as session:
        found = existing(session)
    plan = check_file(vault, data, found, languages=languages, today=now.date(), progress=progress)
    del found  # the digests of every record: not needed any more
    result = RegistrationImport(unchanged=plan.unchanged, erased_skipped=plan.erased_skipped)
    chunks = [plan.pending[start:start + chunk_rows] for start in range(0, len(plan.pending), chunk_rows)]
    plan.pending = []  # each chunk is let go once written
    missing = plan.missing if deactivate_missing else []
    result.left_alone = 0 if deactivate_missing else len(plan.missing)
    with progress("importing", sum(map(len, chunks)) + len(missing)) as advance:
        with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 2)) as pool:
            try:
                ahead = _derive(pool, vault, chunks[0]) if chunks else None
                for index, chunk in enumerate(chunks):
                    records, derived = ahead
                    # The next chunk's proofs are derived while this one is written.
                    ahead = _derive(pool, vault, chunks[index + 1]) if index + 1 < len(chunks) else None
                    columns = [columns for future in derived for columns in future.result()]
                    with transaction() as session:
                        write_chunk(session, vault, chunk, records, columns, now=now, result=result)
                    chunks[index] = []
                    advance(len(chunk))
            finally:
                pool.shutdown(cancel_futures=True)
        for start in range(0, len(missing), chunk_rows):
            ids = missing[start:start + chunk_rows]
            with transaction() as session:
                result.deactivated += deactivate(session, ids, now=now)
            advance(len(ids))
    return result


def _details(values: list[str]) -> tuple[dict, str]:
    """A record's details (intake.registration.DETAIL_FIELDS) and status from a checked row."""
    (number, group, given, family, dob, sex, phone, township, education, occupation, needs, language,
     status) = values
    return {"registration_number": number, "group_number": group, "given_name": given, "family_name": family,
            "date_of_birth": dob, "sex": sex, "phone": phone, "township": township, "address": "",
            "education": education, "occupation": occupation, "needs": needs, "language": language}, status


def _derive(pool: ThreadPoolExecutor, vault: Vault,
            chunk: list[_Pending]) -> tuple[list[tuple[dict, str]], list[Future[list[IdentityColumns]]]]:
    """The chunk's details and statuses, and its clear columns being derived on the pool."""
    records = [_details(pending.values) for pending in chunk]
    details = [one for one, _status in records]
    return records, [pool.submit(_identity_columns, vault, details[start:start + SLICE_ROWS])
                     for start in range(0, len(details), SLICE_ROWS)]


def _identity_columns(vault: Vault, details: list[dict]) -> list[IdentityColumns]:
    return [identity_columns(vault, one) for one in details]


def write_chunk(session: Session, vault: Vault, chunk: list[_Pending], records: list[tuple[dict, str]],
                columns: list[IdentityColumns], *, now: datetime, result: RegistrationImport) -> None:
    """Insert the new records and update the changed ones of one chunk (their details and status
    in `records`, their clear columns in `columns`, in the chunk's order). A record erased since
    the file was checked is skipped."""
    updating = [pending.registration_id for pending in chunk if pending.registration_id is not None]
    current = {row.id: row for row in session.execute(
        select(Registration).where(Registration.id.in_(updating)).with_for_update()).scalars()} if updating else {}
    inserts, updates = [], []
    for pending, (one, status), derived in zip(chunk, records, columns, strict=True):
        if pending.registration_id is None:
            inserts.append(_record(vault, one, status, derived, pending.row_digest, now))
            continue
        row = current.get(pending.registration_id)
        if row is None or row.erased_at is not None:
            result.erased_skipped += 1
            continue
        one["address"] = open_details(vault, row).get("address") or ""
        updates.append({"id": row.id, **_record(vault, one, status, derived, pending.row_digest, now)})
    if inserts:  # render_nulls: one statement for all rows, whichever values are empty
        session.execute(insert(Registration).execution_options(render_nulls=True), inserts)
    if updates:
        session.expunge_all()  # the rows read above are not to be written back
        session.execute(update(Registration), updates)
    result.new += len(inserts)
    result.updated += len(updates)


_WRITTEN = tuple(attribute.key for attribute in Registration.__mapper__.column_attrs)


def _record(vault: Vault, details: dict, status: str, columns: IdentityColumns, row_digest: bytes,
            now: datetime) -> dict:
    """The column values of one record, sealed by `write_details` (on a row never added)."""
    row = Registration()
    write_details(vault, row, details, now, columns)
    row.status, row.row_digest = status, row_digest
    return {key: row.__dict__[key] for key in _WRITTEN if key in row.__dict__}


def deactivate(session: Session, registration_ids: list[int], *, now: datetime) -> int:
    """Mark these records inactive (those still active and not erased); returns how many. The
    row digest is dropped, so that the record's row in a later file is written again."""
    if not registration_ids:
        return 0
    return session.execute(
        update(Registration)
        .where(Registration.id.in_(registration_ids), Registration.status == "active",
               Registration.erased_at.is_(None))
        .values(status="inactive", row_digest=None, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount


# --- export -----------------------------------------------------------------------------------

def approved_changes(session: Session, vault: Vault, *, since: date | None = None) -> Iterator[tuple[str, ...]]:
    """The approved changes as rows of EXPORT_HEADER, oldest decision first; `since` keeps those
    decided on that day (UTC) or later. A needs value is exported as its codes only: the words
    are the person's own and stay with the caseworker."""
    statement = (select(RegistrationChange, Registration)
                 .join(Registration, Registration.id == RegistrationChange.registration_id)
                 .where(RegistrationChange.status == "approved")
                 .order_by(RegistrationChange.decided_at, RegistrationChange.id))
    if since is not None:
        statement = statement.where(RegistrationChange.decided_at >= datetime.combine(since, time.min, timezone.utc))
    for change, registration in session.execute(statement.execution_options(yield_per=500)):
        yield (open_number(vault, registration), change.kind, _exported(open_change_value(vault, change, "old_value")),
               _exported(open_change_value(vault, change, "new_value")), change.channel, _utc(change.requested_at),
               _utc(change.decided_at))


def _exported(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "codes" in value:
            return ";".join(str(code) for code in value["codes"] or ())
        return csv_import.spreadsheet_safe(str(value.get("words") or ""))
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return csv_import.spreadsheet_safe(str(value))  # an address is the person's own words


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
