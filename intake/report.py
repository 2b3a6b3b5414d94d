"""The filed report's schema, derived from the report flow: each answer the flow stores is one
field, declared once on its step (`intake.flows.Field`), and is either sealed in the report's
content or kept in a clear routing column. Filing writes the sealed part from here; the portal
reads both parts through here and shows every field once, with its label in the catalogs.

Adding a question is one step in the flow with its `field` (and its translations); a clear field
also needs its column in `storage.models.Report`, because routing and counts read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from i18n.text import N_, Text
from intake.flows import REPORT, Flow
from intake.messages import DRAFT_MEDIA

CHANNEL = "channel"  # not a question: where the reporter wrote from, filed with their consent
# Not a question either: the voice notes and photos sent with the account (`Step.media`), each
# filed as {ref, key, kind, content_type, size}: the stored item and the key that alone opens it,
# so only whoever opens the report's content can play or view them (storage.media).
MEDIA = DRAFT_MEDIA
MEDIA_WORDS = {"voice": Text(N_("Voice note")), "audio": Text(N_("Audio")), "photo": Text(N_("Photo"))}
# Not a question of its own: an organisation the directory does not know, as the reporter typed it
# (at report.organisation), filed when they chose to send it so (report.organisation_unlisted).
TYPED_ORGANISATION = "organisation_typed"
CHANNEL_WORDS = {"sms": Text("SMS", literal=True), "whatsapp": Text("WhatsApp", literal=True),
                 "telegram": Text("Telegram", literal=True)}

# The sealed content's originals: field name -> the text as the person typed it, for answers that
# were converted from Zawgyi (the draft keeps them under the same key: Unicode -> as typed).
AS_TYPED = "as_typed"

# Keys of sealed content filed before the schema (free words, not codes): each is shown as the
# field it was, in place of that field's clear column, since it says at least as much.
OLD_KEYS = {"organisation named": "organisation", "place": "where", "safety": "danger"}


@dataclass(frozen=True)
class ReportField:
    """One field of a filed report: `name` is the draft key (the step's `store`) and the sealed
    content key; `column` is the clear column that keeps it instead, if any; `words` say coded
    answers in words (the step's choice labels unless the field says better)."""

    name: str
    label: Text
    column: str | None
    words: Mapping[str, Text]
    only_if: tuple[str, str] | None = None
    append: bool = False

    @property
    def sealed(self) -> bool:
        return self.column is None


def schema(flow: Flow = REPORT) -> tuple[ReportField, ...]:
    """The fields of a report filed from `flow`, in the order they are asked."""
    fields = []
    for step in flow.steps:
        if step.field is None:
            continue
        words = {choice.value: choice.label for choice in step.choices}
        words.update(step.field.words)
        fields.append(ReportField(step.store, step.field.label, step.field.column, words, step.field.only_if,
                                  step.append))
    if any(step.store == "organisation" for step in flow.steps):
        fields.insert(next(i for i, f in enumerate(fields) if f.name == "organisation") + 1, ReportField(
            TYPED_ORGANISATION, Text(N_("Organisation as typed")), None, {}, ("organisation", "typed")))
    fields.append(ReportField(CHANNEL, Text(N_("Channel")), None, CHANNEL_WORDS, ("contact_how", "this_number")))
    if any(step.media for step in flow.steps):
        fields.append(ReportField(MEDIA, Text(N_("Voice notes and photos")), None, MEDIA_WORDS))
    names = [field.name for field in fields]
    for field in fields:
        if names.count(field.name) > 1 or (field.only_if and field.only_if[0] not in names):
            raise ValueError(f"{flow.name}: field {field.name} is declared twice or depends on no field")
    return tuple(fields)


FIELDS = schema()


def filed(answers: Mapping[str, object], name: str, fields: tuple[ReportField, ...] = FIELDS) -> bool:
    """Whether the answer `name` is filed: given, and given under its field's condition (which
    must itself be filed), so an answer the person took back later is not sent."""
    field = next(field for field in fields if field.name == name)
    if name not in answers:
        return False
    if field.only_if is None:
        return True
    other, value = field.only_if
    return answers.get(other) == value and filed(answers, other, fields)


def sealed_content(answers: Mapping[str, object], fields: tuple[ReportField, ...] = FIELDS) -> dict:
    """The sealed part of a report: every sealed field that is filed, as the flow stored it (an
    answer sent in several messages is joined into one text). Answers that are no field (the
    review's own bookkeeping, say) are not filed. An answer converted from Zawgyi also keeps what
    the person typed, under `AS_TYPED`, so the focal point can read the original when in doubt."""
    content, originals = {}, {}
    typed = answers.get(AS_TYPED) or {}
    for field in fields:
        if field.sealed and filed(answers, field.name, fields):
            value = answers[field.name]
            joined = "\n\n".join(value) if field.append and isinstance(value, list) else value
            content[field.name] = joined
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                original = "\n\n".join(typed.get(item, item) for item in value)
            else:
                original = typed.get(value) if isinstance(value, str) else None
            if original is not None and original != joined:
                originals[field.name] = original
    if originals:
        content[AS_TYPED] = originals
    return content


@dataclass(frozen=True)
class Shown:
    """One line of a report as the portal shows it: the field's label and its value, which is
    words (`Text`) for a coded answer, or what was filed (text, a list, a mapping, None)."""

    name: str
    label: Text
    value: object
    typed: str | None = None  # what the person typed, when it was converted from Zawgyi


def _in_words(field: ReportField | None, value: object) -> object:
    if isinstance(value, str) and field is not None and value in field.words:
        return field.words[value]
    return value


def shown(content: Mapping[str, object], clear: Mapping[str, object],
          fields: tuple[ReportField, ...] = FIELDS) -> list[Shown]:
    """Every field of a report once, in the flow's order: sealed fields from `content`, clear ones
    from `clear` (field name -> the column's value, as the portal resolved it), then any content
    key the schema does not know, under its own name, so nothing a reporter said is hidden."""
    content = dict(content)
    typed = content.pop(AS_TYPED, None) or {}
    for old, name in OLD_KEYS.items():
        if old in content and name not in content:
            content[name] = content.pop(old)
    lines = []
    for field in fields:
        if field.name in content:  # sealed; or, for a clear field, an older report's own words
            lines.append(Shown(field.name, field.label, _in_words(field, content.pop(field.name)),
                               typed.get(field.name)))
        elif not field.sealed:
            lines.append(Shown(field.name, field.label, _in_words(field, clear.get(field.name))))
    for name in sorted(content):
        lines.append(Shown(name, Text(name.replace("_", " ").capitalize(), literal=True), content[name]))
    return lines
