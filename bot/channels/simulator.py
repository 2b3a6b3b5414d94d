"""The web simulator: a chat page that talks to the engine as an SMS or Telegram user would.

It goes through the same inbox, engine and storage as the webhooks; only the address is a random
id kept in the browser's session cookie. Off unless SIMULATOR_ENABLED says otherwise (config.py).
"""

from __future__ import annotations

import ipaddress
import secrets

from flask import Blueprint, abort, jsonify, render_template, request, session

from bot.channels.inbox import receive
from bot.channels.layout import as_text
from bot.http import json_body, problem
from bot.runtime import current_runtime
from intake.messages import Inbound

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/simulator/static")
# The page's script and style are files of its own: nothing inline runs, nothing else loads.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
CHANNEL = "simulator"
STYLES = ("sms", "telegram")


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
    runtime = current_runtime()
    inbound = Inbound(channel=CHANNEL, sender_key=runtime.vault.sender_key(CHANNEL, _sender()),
                      text=data.get("text", "")[:runtime.settings.max_inbound_chars],
                      received_at=runtime.clock())
    handled = receive(runtime, inbound)
    if style == "sms":
        replies = [{"text": as_text(reply), "buttons": []} for reply in handled.replies]
    else:
        replies = [{"text": "\n".join(reply.paragraphs), "buttons": [list(o) for o in reply.options]}
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
