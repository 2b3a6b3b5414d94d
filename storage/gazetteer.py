"""The gazetteer (townships people can name) and the emergency contacts shown to someone in
danger, imported from the operator's CSV files. Functions take the session first and never commit.

MIMU's place codes may not be shipped or served without MIMU's permission, so the service ships
only a small demo gazetteer (storage/demo/townships.csv) and this importer for the operator's own
licensed copy, converted to the columns below.

Townships CSV: `pcode,state_pcode,state_name_en,name_en,name_my`, and optionally `aliases`: other
names and spellings people type for the place (old names such as Moulmein, romanisations, Burmese
spelling variants), `;`-separated; the bot matches a typed place on them too. Matched by P-code
and updated in place; townships missing from a later file are kept (old reports still name them).
A file without the `aliases` column leaves the aliases already imported alone.

Emergency contacts CSV: `area,language,text`, where area is `*` (anywhere) or a state or township
P-code from the gazetteer. The file gives the complete list for each area it mentions: lines of
those areas that it no longer lists are removed; areas it does not mention are left alone.

As with the directory, a file with any problem imports nothing, and every problem names its line.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import csv_import
from storage.csv_import import ALL, ImportRejected, Problem, Row, check
from storage.models import EmergencyContact, Township

TOWNSHIP_HEADER = ("pcode", "state_pcode", "state_name_en", "name_en", "name_my")
TOWNSHIP_OPTIONAL = ("aliases",)
ALIAS_LENGTH = 100
EMERGENCY_HEADER = ("area", "language", "text")


@dataclass
class TownshipImport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class EmergencyImport:
    new: int = 0
    unchanged: int = 0
    removed: int = 0


def import_townships(session: Session, data: bytes | str) -> TownshipImport:
    """Create or update townships from the file; ImportRejected (nothing written) on any problem."""
    rows, problems = csv_import.read_rows(data, TOWNSHIP_HEADER, TOWNSHIP_OPTIONAL)
    townships: dict[str, dict] = {}
    lines: dict[str, int] = {}
    state_names: dict[str, tuple[str, int]] = {}
    for row in rows:
        values = _township(row, problems)
        if values is None:
            continue
        code, state = values["pcode"], values["state_pcode"]
        if code in lines:
            problems.append(Problem(row.line, "pcode", f"{code} is already on line {lines[code]}"))
            continue
        known_name, first_line = state_names.setdefault(state, (values["state_name_en"], row.line))
        if known_name != values["state_name_en"]:
            problems.append(Problem(row.line, "state_name_en", f"{state} is called {known_name!r} on line "
                                    f"{first_line}; one state, one name"))
            continue
        lines[code] = row.line
        townships[code] = values
    if problems:
        raise ImportRejected(problems)
    result = TownshipImport()
    existing = {t.pcode: t for t in session.execute(select(Township)).scalars()}
    for code, values in townships.items():
        township = existing.get(code)
        if township is None:
            session.add(Township(**values))
            result.new += 1
            continue
        changed = [name for name, value in values.items() if getattr(township, name) != value]
        for name in changed:
            setattr(township, name, values[name])
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result


def _township(row: Row, problems: list[Problem]) -> dict | None:
    before = len(problems)
    values = {
        "pcode": check(problems, row, "pcode", csv_import.pcode),
        "state_pcode": check(problems, row, "state_pcode", csv_import.pcode),
        "state_name_en": check(problems, row, "state_name_en", csv_import.text(100)),
        "name_en": check(problems, row, "name_en", csv_import.text(100)),
        "name_my": check(problems, row, "name_my", csv_import.text(100, required=False)),
    }
    if "aliases" in row.values:  # a file without the column leaves the aliases imported before
        values["aliases"] = check(problems, row, "aliases", _aliases)
    if len(problems) > before:
        return None
    # Routing treats a state's P-code as covering every township whose code starts with it.
    if values["pcode"] == values["state_pcode"] or not values["pcode"].startswith(values["state_pcode"]):
        problems.append(Problem(row.line, "pcode", f"{values['pcode']} does not start with its state's "
                                f"P-code {values['state_pcode']}"))
        return None
    return values


def _aliases(value: str) -> str:
    """Other names for a place, `;`-separated, each at most ALIAS_LENGTH characters (stored
    joined by `;`, duplicates dropped)."""
    aliases = csv_import.split_list(value)
    long = [alias for alias in aliases if len(alias) > ALIAS_LENGTH]
    if long:
        raise csv_import.Invalid(f"an alias is longer than {ALIAS_LENGTH} characters: {long[0][:20]}…")
    return ";".join(dict.fromkeys(aliases))


def import_emergency_contacts(session: Session, data: bytes | str) -> EmergencyImport:
    """Replace the emergency lines of each area the file mentions; ImportRejected (nothing
    written) on any problem. Areas must be `*` or P-codes already in the gazetteer."""
    rows, problems = csv_import.read_rows(data, EMERGENCY_HEADER)
    known = set()
    for pcode, state_pcode in session.execute(select(Township.pcode, Township.state_pcode)):
        known.update((pcode, state_pcode))
    wanted: dict[tuple[str, str, str], int] = {}
    for row in rows:
        before = len(problems)
        area = check(problems, row, "area", _area)
        language = check(problems, row, "language", csv_import.language)
        text = check(problems, row, "text", csv_import.text(300))
        if len(problems) > before:
            continue
        if area != ALL and area not in known:
            problems.append(Problem(row.line, "area", f"{area} is not in the gazetteer (import the townships "
                                    "first, or use * for anywhere)"))
            continue
        if (area, language, text) in wanted:
            problems.append(Problem(row.line, "text", f"the same line is already on line "
                                    f"{wanted[(area, language, text)]}"))
            continue
        wanted[(area, language, text)] = row.line
    if problems:
        raise ImportRejected(problems)
    result = EmergencyImport()
    areas = {area for area, _, _ in wanted}
    for contact in session.execute(select(EmergencyContact).where(EmergencyContact.area.in_(areas))).scalars():
        if wanted.pop((contact.area, contact.language, contact.text), None) is None:
            session.delete(contact)
            result.removed += 1
        else:
            result.unchanged += 1
    for area, language, text in wanted:
        session.add(EmergencyContact(area=area, language=language, text=text))
        result.new += 1
    session.flush()
    return result


def _area(value: str) -> str:
    return ALL if value == ALL else csv_import.pcode(value)
