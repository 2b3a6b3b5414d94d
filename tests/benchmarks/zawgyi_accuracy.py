"""Measure Zawgyi detection and conversion: on the test corpus that ships inside myanmartools,
and on Burmese sentences of our own. Prints figures; asserts nothing.

    .venv/bin/python tests/benchmarks/zawgyi_accuracy.py
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from i18n.zawgyi import THRESHOLD, _to_unicode, is_zawgyi, to_unicode, zawgyi_form, zawgyi_probability  # noqa: E402

# Everyday sentences of the kind people send the service (Unicode), and short replies.
SENTENCES = [
    "မင်္ဂလာပါ", "ကျွန်မ အကူအညီ လိုပါတယ်။", "သူက ဆန်ပေးမယ်လို့ ပြောပြီး ငွေတောင်းတယ်။",
    "ဒီအကြောင်းကို ဘယ်သူ့ကို ပြောရမလဲ။", "ကျွန်တော့် ညီမလေး အသက် ၁၅ နှစ်ပါ။",
    "ရုံးက ဝန်ထမ်းတစ်ယောက် ညဘက် ရောက်လာတယ်။", "ကျေးဇူးတင်ပါတယ်။", "မနေ့က ဖြစ်ခဲ့တာပါ။",
    "စစ်တွေမြို့နယ် ဒုက္ခသည်စခန်းမှာ နေပါတယ်။", "ကျွန်မကို ဆက်သွယ်ခွင့် မပြုပါ။",
    "အစားအစာ ဖြန့်ဝေတဲ့နေ့မှာ သူက လက်ကိုင်ဖုန်း နံပါတ် တောင်းတယ်။", "ကလေးတွေ ကျောင်းမတက်နိုင်ဘူး။",
    "ကျွန်တော် ကြောက်နေတယ်။", "ပြန်ဖြေပေးပါ။", "အလုပ်ရှင်က လစာ မပေးဘူး။",
    "ညဘက် တံခါးလာခေါက်တယ်။", "ဆေးခန်းမှာ ဆရာဝန်က မတော်မတရား ပြုမူတယ်။",
    "အိမ်ထောင်ဖက်က ရိုက်နှက်တယ်။", "ကျွန်မ သမီးကို ခေါ်သွားမယ်လို့ ခြိမ်းခြောက်တယ်။",
    "မြို့နယ်ရုံးမှာ မှတ်ပုံတင်ဖို့ ငွေ ပေးခိုင်းတယ်။",
]
SHORT = ["ထွက်", "မီနူး", "နောက်သို့", "အကူအညီ", "ဘာသာစကား", "ဟုတ်ကဲ့", "မဟုတ်ပါ", "မသိပါ", "ပို့", "စစ်တွေ"]


def corpus() -> list[tuple[float, str]]:
    """myanmartools' compatibility.tsv: each line's expected Zawgyi probability, and the line."""
    text = resources.files("myanmartools.resources").joinpath("compatibility.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip():
            probability, sample = line.split("\t", 1)
            rows.append((float(probability), sample))
    return rows


def main() -> None:
    rows = corpus()
    agree = sum((expected > THRESHOLD) == is_zawgyi(sample) for expected, sample in rows)
    flagged = [sample for expected, sample in rows if expected > THRESHOLD]
    converted_clean = sum(zawgyi_probability(to_unicode(sample)) < 0.05 for sample in flagged)
    round_trip = sum(zawgyi_form(to_unicode(sample)) == sample for sample in flagged)
    print(f"myanmartools corpus: {len(rows)} lines, {len(flagged)} Zawgyi (expected p > {THRESHOLD})")
    print(f"  detection agrees with the corpus on {agree}/{len(rows)} lines")
    print(f"  converted Zawgyi no longer looks like Zawgyi: {converted_clean}/{len(flagged)}")
    print(f"  Zawgyi -> Unicode -> Zawgyi gives the line back: {round_trip}/{len(flagged)}")

    detected = sum(is_zawgyi(zawgyi_form(s)) for s in SENTENCES)
    exact = sum(to_unicode(zawgyi_form(s)) == s for s in SENTENCES)
    forced = sum(_to_unicode().transliterate(zawgyi_form(s)) == s for s in SENTENCES)
    untouched = sum(to_unicode(s) == s for s in SENTENCES)
    print(f"own sentences: {len(SENTENCES)}")
    print(f"  typed in Zawgyi and detected: {detected}/{len(SENTENCES)}")
    print(f"  typed in Zawgyi, converted back exactly: {exact}/{len(SENTENCES)} "
          f"(converter alone, without the detector: {forced}/{len(SENTENCES)})")
    print(f"  typed in Unicode, left unchanged: {untouched}/{len(SENTENCES)}")
    short_detected = sum(is_zawgyi(zawgyi_form(w)) for w in SHORT if zawgyi_form(w) != w)
    short_differ = sum(zawgyi_form(w) != w for w in SHORT)
    print(f"short replies whose Zawgyi spelling differs: {short_differ}/{len(SHORT)}, detected: "
          f"{short_detected} (these match through their Zawgyi spelling instead)")


if __name__ == "__main__":
    main()
