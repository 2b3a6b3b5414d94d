"""docs/THREAT_MODEL.md holds its claims to tests: every test it names exists, and every claim of
what an adversary cannot do names at least one."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "docs" / "THREAT_MODEL.md"
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _bullets(text: str) -> list[str]:
    """The model's bullet points, each joined into one line."""
    bullets, current = [], None
    for line in text.splitlines():
        if line.startswith("- "):
            current = [line]
            bullets.append(current)
        elif current is not None and line.startswith("  "):
            current.append(line.strip())
        else:
            current = None
    return [" ".join(parts) for parts in bullets]


def test_every_test_the_threat_model_names_exists():
    references = REFERENCE.findall(MODEL.read_text(encoding="utf-8"))
    assert len(references) >= 40
    missing = [f"{path}::{name}" for path, name in references
               if not (REPO / path).exists()
               or not re.search(rf"^def {name}\(", (REPO / path).read_text(encoding="utf-8"), re.M)]
    assert missing == []


def test_every_cannot_names_a_test():
    claims = [bullet for bullet in _bullets(MODEL.read_text(encoding="utf-8")) if "**cannot**" in bullet]
    assert len(claims) >= 10
    assert [claim[:80] for claim in claims if not REFERENCE.search(claim)] == []
