"""Generate intake/flows.md, a Mermaid diagram of every flow, from intake/flows.py.

    python -m intake.diagram          # rewrite intake/flows.md
    python -m intake.diagram --check  # exit 1 if intake/flows.md is out of date (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

from intake.flows import END, FLOWS, KEYWORDS, RESUME, qualified

OUTPUT = Path(__file__).with_name("flows.md")


def _node(position: str) -> str:
    return position.replace(".", "_")


def _label(text: str) -> str:
    return text.replace('"', "'").replace("\n", "<br/>")


def render() -> str:
    """The Markdown document with one Mermaid graph of all flows."""
    lines = ["# Conversation flows", "",
             "Generated from `intake/flows.py` by `python -m intake.diagram`; do not edit by hand.", "",
             "Global keywords, at any step: " + ", ".join(f"`{w.msgid.split('|')[0]}`" for w in KEYWORDS.values())
             + " (`exit` ends the conversation and deletes the draft). Three invalid answers in a row add a "
             "hint to send MENU or HELP.", "", "```mermaid", "flowchart TD"]
    for flow in FLOWS.values():
        lines.append(f"  subgraph {flow.name}")
        for step in flow.steps:
            kind = " + ".join(filter(None, ["choice" if step.is_choice else "",
                                            f"text: {step.validator}" if step.validator else "",
                                            "several messages" if step.append else ""])) or "info"
            lines.append(f'    {_node(f"{flow.name}.{step.name}")}["{_label(step.prompt.msgid)}<br/><i>{kind}</i>"]')
        lines.append("  end")
    for flow in FLOWS.values():
        for step in flow.steps:
            source = _node(f"{flow.name}.{step.name}")
            if step.choices_from == "languages":
                edges = [("each language", step.goto)]
            elif step.choices_from == "editable":
                edges = [(f"change: {_label(s.edit_label.msgid)}", f"{flow.name}.{s.name}")
                         for s in flow.steps if s.edit_label]
            else:
                edges = [(_label(choice.label.msgid), choice.goto) for choice in step.choices]
                if step.validator:
                    edges.append((f"typed: {step.store}", step.goto or f"{flow.name}.{step.name}"))
                elif not step.choices:
                    edges.append(("", step.goto))
            for label, target in edges:
                node = {RESUME: "resume", END: "finish"}.get(target) or _node(qualified(target))
                arrow = f' -- "{label}" -->' if label else " -->"
                lines.append(f"  {source}{arrow} {node}")
    lines.append('  resume(("where the person was<br/>(menu if new)"))')
    lines.append('  finish(("end: draft deleted"))')
    lines.extend(["```", ""])
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    document = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != document:
            print("intake/flows.md is out of date: run python -m intake.diagram", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(document, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
