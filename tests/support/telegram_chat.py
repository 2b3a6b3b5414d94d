"""Someone in a private chat with the bot: real update payloads posted to POST /webhooks/telegram,
the bot's answers read from the fake Bot API (tests.support.fake_telegram)."""

from __future__ import annotations

from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_updates import UpdateFactory

SECRET = "telegram-webhook-secret_0123"  # the TELEGRAM_WEBHOOK_SECRET tests configure
CHAT = 5550001


def telegram_settings(fake: FakeTelegram) -> dict:
    """The settings of an app whose Telegram channel talks to `fake`."""
    return {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE_URL": fake.url}


class Person:
    """Someone writing to the bot in a private chat."""

    def __init__(self, client, telegram: FakeTelegram, updates: UpdateFactory, chat: int = CHAT):
        self.client, self.telegram, self.updates, self.chat = client, telegram, updates, chat

    def post(self, update: dict, secret: str | None = SECRET):
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return self.client.post("/webhooks/telegram", json=update, headers=headers)

    def replies_since(self, count: int) -> list[dict]:
        return [m for m in self.telegram.sent_messages()[count:] if m["chat_id"] == self.chat]

    def send(self, update: dict) -> list[dict]:
        before = len(self.telegram.sent_messages())
        response = self.post(update)
        assert response.status_code == 200, response.data
        return self.replies_since(before)

    def say(self, text: str) -> list[dict]:
        return self.send(self.updates.message(self.chat, text))

    def press(self, reply: dict, number: int) -> list[dict]:
        """Press button `number` under a reply the bot sent."""
        message = self.telegram.message(self.chat, self.message_id(reply))
        data = reply["reply_markup"]["inline_keyboard"][number - 1][0]["callback_data"]
        return self.send(self.updates.callback_query(self.chat, data, message))

    def message_id(self, reply: dict) -> int:
        """The id of the bot's message `reply` (the latest, when the bot said the same twice)."""
        return next(m["message_id"] for m in reversed(self.telegram.chat_messages(self.chat))
                    if m.get("text") == reply["text"] and m.get("from", {}).get("is_bot"))


def buttons(reply: dict) -> list[str]:
    """The labels of the buttons under a reply, in order."""
    return [row[0]["text"] for row in reply.get("reply_markup", {}).get("inline_keyboard", [])]
