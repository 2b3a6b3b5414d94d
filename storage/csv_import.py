"""Reading an operator's CSV file and checking its fields, for the directory and gazetteer imports.

Operators fix files by line number, so every problem names the physical line where its row
starts (a quoted value may span lines; the header is line 1) and the column. An import collects
every problem in the file and writes nothing unless there are none.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

# A P-code: a country prefix and digits (MIMU: MMR013 for a state, MMR013017 for a township).
# Other countries' codes have the same shape, so the pattern is not tied to Myanmar.
PCODE = re.compile(r"[A-Z]{2,3}[0-9]{1,12}")
# A phone number as providers take it: E.164.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# A language code: ISO 639 (2 or 3 letters), optionally with BCP 47 subtags (zh-Hans, my-MM).
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
ALL = "*"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an imported file; `line` is None for the file as a whole."""

    line: int | None
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.column}: {self.reason}"


class ImportRejected(Exception):
    """The file has problems; nothing was imported. `problems` lists every one."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the file")
        self.problems = problems


class Invalid(ValueError):
    """Raised by a field check; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts
    values: dict[str, str]  # column -> value, surrounding spaces removed


def read_rows(data: bytes | str, header: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> tuple[list[Row], list[Problem]]:
    """The data rows of a UTF-8 CSV file (a byte-order mark is allowed) whose first line must be
    exactly `header`, optionally followed by some of the `optional` columns in their order (a row's
    values then hold only the columns the file has). Blank lines are skipped. Raises
    ImportRejected when the file cannot be read at all (not UTF-8, broken quoting, wrong header);
    row-level problems are returned."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    problems: list[Problem] = []
    try:
        found = next(reader, None)
        given = _optional_columns(found, header, optional)
        _check_header(found if not given else found[:len(header)], header)
        header = (*header, *given)
        end_of_previous = reader.line_num
        for record in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(header):
                problems.append(Problem(start, "row", f"{len(record)} values, expected {len(header)} "
                                        "(a value containing a comma must be in double quotes)"))
                continue
            rows.append(Row(start, {name: value.strip() for name, value in zip(header, record)}))
    except csv.Error as error:
        raise ImportRejected(problems + [Problem(reader.line_num, "file", f"not valid CSV ({error})")]) from None
    return rows, problems


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportRejected([Problem(line, "file", "not UTF-8 text (save it as \"CSV UTF-8\")")]) from None


def _optional_columns(found: list[str] | None, header: tuple[str, ...], optional: tuple[str, ...]) -> tuple[str, ...]:
    """The optional columns the file's header adds after the required ones, when it adds only
    those, in their order; () otherwise (the required header is then checked as usual)."""
    if not found or not optional:
        return ()
    names = tuple(name.strip() for name in found)
    extra = names[len(header):]
    if names[:len(header)] != header or not extra:
        return ()
    if tuple(name for name in optional if name in extra) != extra:
        raise ImportRejected([Problem(1, "header", f"expected {','.join(header)} then optionally "
                                      f"{','.join(optional)} (found {','.join(names)})")])
    return extra


def _check_header(found: list[str] | None, header: tuple[str, ...]) -> None:
    expected = ",".join(header)
    if found is None:
        raise ImportRejected([Problem(1, "header", f"the file is empty; the first line must be {expected}")])
    names = [name.strip() for name in found]
    if tuple(names) == header:
        return
    missing = [name for name in header if name not in names]
    unexpected = [name for name in names if name not in header]
    details = "; ".join(part for part in (
        f"missing {', '.join(missing)}" if missing else "",
        f"unexpected {', '.join(repr(name) for name in unexpected)}" if unexpected else "",
        "same columns in another order" if not missing and not unexpected else "",
    ) if part)
    raise ImportRejected([Problem(1, "header", f"expected exactly {expected} ({details})")])


def check(problems: list[Problem], row: Row, column: str, validate: Callable[[str], object]):
    """Run one field check; on failure record the problem and return None."""
    value = row.values[column]
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        problems.append(Problem(row.line, column, "contains a line break or another control character"))
        return None
    try:
        return validate(value)
    except Invalid as error:
        problems.append(Problem(row.line, column, str(error)))
        return None


# --- field checks: each returns the cleaned value or raises Invalid ---------------------------

def text(max_length: int, required: bool = True) -> Callable[[str], str]:
    """A free-text field of at most `max_length` characters."""

    def validate(value: str) -> str:
        if required and not value:
            raise Invalid("required")
        if len(value) > max_length:
            raise Invalid(f"longer than {max_length} characters")
        return value

    return validate


def split_list(value: str) -> list[str]:
    """"a; b;;c" -> ["a", "b", "c"]."""
    return [item.strip() for item in value.split(";") if item.strip()]


def pcode(value: str) -> str:
    """One P-code (letters are upper-cased)."""
    code = value.upper()
    if not code:
        raise Invalid("required")
    if not PCODE.fullmatch(code):
        raise Invalid(f"{value!r} is not a P-code (2-3 letters then digits, like MMR013017)")
    return code


def pcodes_or_all(value: str) -> str:
    """`*`, or P-codes separated by `;` (returned joined by `;`)."""
    if value == ALL:
        return ALL
    codes = split_list(value)
    if not codes:
        raise Invalid("required: P-codes separated by ; or * for everywhere")
    if ALL in codes:
        raise Invalid("* means everywhere and cannot be combined with P-codes")
    bad = [code for code in codes if not PCODE.fullmatch(code.upper())]
    if bad:
        raise Invalid(f"not P-codes (2-3 letters then digits, like MMR013017): {', '.join(bad)}")
    return ";".join(dict.fromkeys(code.upper() for code in codes))


def phone(value: str) -> str:
    """A phone number in E.164 ("" when empty); spaces, dots, dashes and brackets are how people
    write numbers, and are dropped."""
    number = re.sub(r"[\s.()-]", "", value)
    if number and not E164.fullmatch(number):
        raise Invalid("not an international number in E.164 form (+ then 7 to 15 digits, like +959...)")
    return number


def language(value: str) -> str:
    """One language code such as en, my, shn or zh-Hans."""
    if not value:
        raise Invalid("required")
    if not LANGUAGE.fullmatch(value):
        raise Invalid(f"{value!r} is not a language code (like en, my, shn)")
    return value


def languages(value: str) -> str:
    """Language codes separated by `;` (may be empty); returned joined by `;`."""
    codes = split_list(value)
    bad = [code for code in codes if not LANGUAGE.fullmatch(code)]
    if bad:
        raise Invalid(f"not language codes (like en, my, shn): {', '.join(bad)}")
    return ";".join(dict.fromkeys(codes))


def spreadsheet_safe(value: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: one starting with = @ or a tab is
    quoted with a leading ', as is + or - unless a number follows (+959…, a phone, stays)."""
    first, rest = value[:1], value[1:]
    if first in ("=", "@", "\t", "\r") or (first in ("+", "-") and not rest.replace(" ", "").isdigit()):
        return "'" + value
    return value

