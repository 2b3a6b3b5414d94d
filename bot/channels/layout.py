"""Plain-text layout of a rendered message, for SMS and the terminal: paragraphs, then one
numbered line per option. Kept to plain characters so English stays in GSM-7."""

from __future__ import annotations

from i18n.render import Rendered

# Twilio refuses a message body over 1,600 characters.
MAX_SMS_BODY = 1600


def as_text(rendered: Rendered) -> str:
    """The message as one block of text with numbered options."""
    lines = list(rendered.paragraphs)
    lines.extend(f"{rendered.number(number)}. {label}" for number, label in rendered.options)
    return "\n".join(lines)


def split_body(text: str, limit: int = MAX_SMS_BODY) -> list[str]:
    """Split a long text into bodies of at most `limit` characters, at line breaks where possible."""
    bodies: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                bodies.append(current)
                current = ""
            bodies.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            bodies.append(current)
            candidate = line
        current = candidate
    if current:
        bodies.append(current)
    return bodies
