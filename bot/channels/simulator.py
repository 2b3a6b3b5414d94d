"""The web simulator: a chat page that talks to the engine as an SMS or Telegram user would.

It goes through the same inbox, engine and storage as the webhooks; only the address is a random
id kept in the browser's session cookie. Off unless SIMULATOR_ENABLED says otherwise (config.py).
"""

from __future__ import annotations

import ipaddress
import secrets

from flask import Blueprint, abort, jsonify, render_template, request, session

from bot.channels.inbox import button_tag, receive
from bot.channels.layout import as_text
from bot.http import json_body, problem
from bot.runtime import current_runtime
from storage.logins import address_group
from i18n.text import N_, Text
from intake.messages import Inbound

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/simulator/static")
# The page's script and style are files of its own: nothing inline runs, nothing else loads.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
CHANNEL = "simulator"
STYLES = ("sms", "telegram")
# What the simulated sender's address carries (intake.messages.CARRIES): in SMS style it stands for
# a phone number, as on a phone (the simulated report keeps no number: there is none); in Telegram
# style for nothing, since no organisation can write to the simulator's chat.
CARRIES = {"sms": frozenset({"number"}), "telegram": frozenset()}


# Headers a reverse proxy adds: a request that came through one is not from this machine.
_PROXIED = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@bp.after_request
def _page_policy(response):
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@bp.before_request
def _enabled():
    settings = current_runtime().settings
    if not settings.simulator_enabled:
        abort(404)
    if settings.simulator_local_only and not _from_this_machine():
        abort(404, "the simulator answers only browsers on the server's own machine "
                   "(set SIMULATOR_ENABLED=1 to open it to others)")


def _from_this_machine() -> bool:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
    return loopback and not any(header in request.headers for header in _PROXIED)


def _sender() -> str:
    if "simulator_id" not in session:
        session["simulator_id"] = secrets.token_urlsafe(16)
    return session["simulator_id"]


@bp.get("/simulator")
def page():
    runtime = current_runtime()
    return render_template("simulator.html", service_name=runtime.settings.service_name,
                           max_chars=runtime.settings.max_inbound_chars)


@bp.post("/simulator/messages")
def message():
    # JSON only: a cross-site form cannot post JSON without a CORS preflight, which we never grant.
    if not request.is_json:
        return problem(415, "send JSON: {\"text\": \"...\", \"style\": \"sms\" or \"telegram\"}")
    data = json_body()
    if not isinstance(data, dict) or not isinstance(data.get("text", ""), str):
        return problem(400, "the body must be a JSON object with a text field")
    style = data.get("style", "sms")
    if style not in STYLES:
        return problem(400, f"style must be one of {', '.join(STYLES)}")
    # A button press carries its question's tag, as the Telegram webhook's callback data does
    # ("<tag>:<number>"), so a press on an old button does not answer the current question.
    button = data.get("button")
    if button is not None and (not isinstance(button, str) or style != "telegram"):
        return problem(400, "button must be the data of a button the simulator showed in Telegram style")
    tag, number = (button.partition(":")[::2]) if button is not None else (None, None)
    if button is not None and not (number.isdecimal() and len(number) <= 3):
        return problem(400, "button must be the data of a button the simulator showed (tag:number)")
    runtime = current_runtime()
    text = number if button is not None else data.get("text", "")
    limit = runtime.settings.max_inbound_chars
    inbound = Inbound(channel=CHANNEL, sender_key=runtime.vault.sender_key(CHANNEL, _sender()),
                      text=text[:limit], cut=max(0, len(text) - limit), received_at=runtime.clock(),
                      address_carries=CARRIES[style], origin=address_group(request.remote_addr))
    handled = receive(runtime, inbound, button=tag)
    if handled.stale:
        lang = handled.conversation.language if handled.conversation is not None else None
        notice = runtime.renderer.text(lang or runtime.context.default_language,
                                       Text(N_("That button is from an earlier question.")))
        return jsonify({"replies": [{"text": notice, "buttons": [], "stale": True}]})
    if style == "sms":
        replies = [{"text": as_text(reply), "buttons": []} for reply in handled.replies]
    else:  # numbered like the Telegram webhook's buttons, so "reply with one of the numbers" fits
        tag = button_tag(handled.position)
        replies = [{"text": "\n".join(reply.paragraphs),
                    "buttons": [[f"{tag}:{n}", f"{reply.number(n)}. {label}"] for n, label in reply.options]}
                   for reply in handled.replies]
    return jsonify({"replies": replies})


@bp.post("/simulator/reset")
def reset():
    """Become a new person (a new sender id); the old conversation expires like any other."""
    if not request.is_json:
        return problem(415, "send JSON")
    session.pop("simulator_id", None)
    _sender()
    return jsonify({"status": "ok"})
