"""Measure Zawgyi detection and conversion, before (the detector alone decides, ICU converts the
whole text) and after (i18n.zawgyi.to_unicode: the code-point and syllable checks, numbers kept
out), side by side. Prints figures; asserts nothing (tests/i18n/test_zawgyi.py holds the cases).

    .venv/bin/python tests/benchmarks/zawgyi_accuracy.py

Corpora, each labelled by where its text comes from, never by the detector:

- Google's paired corpora (tests/data/zawgyi/google/, from github.com/google/myanmar-tools
  genconvert/, Apache 2.0): Myanmar government news typed in Zawgyi with Google's Unicode
  conversion, and the UDHR in Unicode with Google's Zawgyi conversion, line by line.
- myanmartools' compatibility.tsv, labelled by what each line is (the file's own notes, and the
  UDHR passage it cuts in pieces: lines 4-21 Unicode, 22-41 Zawgyi); its probabilities are the
  model's own scores and are not used as truth.
- our own: tests/data/zawgyi/cases.tsv (the damage cases), every Burmese catalog string in
  Unicode and typed in Zawgyi, every Shan and S'gaw Karen catalog string, and every two-digit
  Shan number.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from i18n.zawgyi import THRESHOLD, _to_unicode, should_convert, to_unicode, zawgyi_form, zawgyi_probability  # noqa: E402

DATA = ROOT / "tests" / "data" / "zawgyi"
SHAN_DIGITS = "႐႑႒႓႔႕႖႗႘႙"

def before(text: str) -> str:
    """The conversion as it was: ICU over the whole text whenever the detector passes 0.95."""
    return _to_unicode().transliterate(text) if zawgyi_probability(text) > THRESHOLD else text

def after(text: str) -> str:
    return to_unicode(text)

def lines(name: str) -> list[str]:
    text = (DATA / "google" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

def google_pairs() -> dict[str, list[tuple[str, str]]]:
    """(typed, Unicode) pairs: real Zawgyi with Google's Unicode, and Google's Zawgyi of real
    Unicode (the Unicode side is then the original)."""
    return {"mmgov (Zawgyi typed)": list(zip(lines("mmgov_zawgyi_src.txt"), lines("mmgov_unicode_out.txt"))),
            "udhr (Unicode typed)": [(u, u) for u in lines("udhr_mya_unicode_src.txt")],
            "udhr (Zawgyi of it)": list(zip(lines("udhr_mya_zawgyi_out.txt"), lines("udhr_mya_unicode_src.txt")))}

def compatibility() -> dict[str, list[str]]:
    text = resources.files("myanmartools.resources").joinpath("compatibility.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t", 1)[1].strip() for line in text.splitlines() if line.strip()]
    labelled = {"unicode": [rows[1], *rows[4:22]], "zawgyi": [rows[2], *rows[22:42]], "other": rows[42:50]}
    assert "unicode" in rows[1] and "zawgyi" in rows[2] and all("language)" in row for row in rows[42:50])
    return labelled

def own_cases() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "cases.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, typed, stored, _note = line.split("\t")
            rows.append((kind, typed, stored))
    return rows

def catalog_strings(lang: str) -> list[str]:
    from babel.messages.pofile import read_po

    path = ROOT / "i18n" / "locales" / lang / "LC_MESSAGES" / "messages.po"
    strings = []
    for message in read_po(path.open("rb")):
        if message.id and message.string:
            text = message.string if isinstance(message.string, str) else message.string[0]
            strings.extend(part for part in text.replace("{", "\n{").split("\n") if part.strip())
    return sorted(set(strings))

def row(label: str, total: int, old: int, new: int) -> None:
    print(f"  {label:<58} {old:>5}/{total:<5} {new:>5}/{total:<5}")

def header(title: str) -> None:
    print(f"\n{title}\n  {'':<58} {'before':>11} {'after':>11}")

def main() -> None:
    header("Google's paired corpora (labelled by source)")
    for name, pairs in google_pairs().items():
        zawgyi = "Zawgyi" in name.split("(")[1] or "of it" in name
        total = len(pairs)
        if zawgyi:
            row(f"{name}: converted", total, sum(before(t) != t for t, _ in pairs), sum(after(t) != t for t, _ in pairs))
            row(f"{name}: converted exactly to the Unicode", total, sum(before(t) == u for t, u in pairs),
                sum(after(t) == u for t, u in pairs))
        else:
            row(f"{name}: Unicode falsely converted", total, sum(before(t) != t for t, _ in pairs),
                sum(after(t) != t for t, _ in pairs))

    header("myanmartools compatibility.tsv (labelled by what each line is)")
    labelled = compatibility()
    for label, texts in labelled.items():
        what = "converted" if label == "zawgyi" else "falsely converted"
        row(f"{label} lines {what}", len(texts), sum(before(t) != t for t in texts), sum(after(t) != t for t in texts))

    header("our own cases (tests/data/zawgyi/cases.tsv)")
    cases = own_cases()
    for kind in dict.fromkeys(kind for kind, _, _ in cases):
        group = [(typed, stored) for k, typed, stored in cases if k == kind]
        row(f"{kind}: stored as it should be", len(group), sum(before(t) == s for t, s in group),
            sum(after(t) == s for t, s in group))

    header("our catalogs")
    burmese = catalog_strings("my")
    row("Burmese strings in Unicode, falsely converted", len(burmese), sum(before(t) != t for t in burmese),
        sum(after(t) != t for t in burmese))
    typed = [(zawgyi_form(t), t) for t in burmese if zawgyi_form(t) != t]
    row("Burmese strings typed in Zawgyi, converted exactly", len(typed), sum(before(z) == u for z, u in typed),
        sum(after(z) == u for z, u in typed))
    row("  (of which converted at all)", len(typed), sum(before(z) != z for z, _ in typed),
        sum(after(z) != z for z, _ in typed))
    row("  ... from a sender known to type Zawgyi (no syllable veto)", len(typed), sum(before(z) == u for z, u in typed),
        sum(to_unicode(z, known_zawgyi=True) == u for z, u in typed))
    for lang, name in (("shn", "Shan"), ("ksw", "S'gaw Karen")):
        texts = catalog_strings(lang)
        row(f"{name} strings damaged", len(texts), sum(before(t) != t for t in texts), sum(after(t) != t for t in texts))
    numbers = [a + b for a in SHAN_DIGITS for b in SHAN_DIGITS]
    row("two-digit Shan numbers damaged", len(numbers), sum(before(n) != n for n in numbers),
        sum(after(n) != n for n in numbers))
    phones = ["႐႙" + "".join(SHAN_DIGITS[(i * 7 + k) % 10] for k in range(9)) for i in range(100)]
    row("Shan phone numbers (11 digits) damaged", len(phones), sum(before(n) != n for n in phones),
        sum(after(n) != n for n in phones))
    dated = [(zawgyi_form(f"{d} ရက်နေ့က ဖြစ်တာပါ"), f"{d} ရက်နေ့က ဖြစ်တာပါ") for d in "၁၂၃၄၅၆၇၈၉"]
    dated += [(zawgyi_form(f"{n} ရက်နေ့က"), f"{n} ရက်နေ့က") for n in ("၁၀", "၂၀", "၃၀", "၄၀", "၁၄", "၂၄")]
    row("Zawgyi dates ('N ရက်နေ့က'), number kept", len(dated), sum(before(z).startswith(u.split()[0] + " ") for z, u in dated),
        sum(after(z).startswith(u.split()[0] + " ") for z, u in dated))
    print(f"\nbefore: the detector alone (p > {THRESHOLD}); after: i18n.zawgyi.should_convert and to_unicode")
    assert should_convert  # the function measured

if __name__ == "__main__":
    main()
