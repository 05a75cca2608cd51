"""Guards against abuse of the bot's own goodwill: a button under a song acts only where the
song belongs, and a user (or a group) that is refused hears why at most once a minute.

Clients can send any callback data, so "var:<job>" may name anybody's job: without the check,
a forged tap would compose a variation of someone else's private song and show their words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from telegram import Update
from telegram.constants import ChatType

from bot.telegram.jobs import Job

REFUSAL_EVERY_S = 60.0
MAX_REMEMBERED = 10_000  # refusal times kept (older ones are dropped first)


def may_press(job: Job, update: Update) -> bool:
    """May this tap act on this job's song? Only in the chat it was made in; in a private
    chat, only for the user it was made for."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.id != job.chat_id:
        return False
    return job.chat_type != ChatType.PRIVATE or user.id == job.user_id


@dataclass
class RefusalThrottle:
    """At most one refusal message per user, and per group, every `every_s` seconds."""

    every_s: float = REFUSAL_EVERY_S
    last: dict[tuple[str, int], float] = field(default_factory=dict)

    def allow(self, update: Update, now: float | None = None) -> bool:
        """May the bot answer this update with a refusal now? (Records it if so.)"""
        now = time.monotonic() if now is None else now
        chat, user = update.effective_chat, update.effective_user
        keys = [("user", user.id if user else 0)]
        if chat is not None and chat.type != ChatType.PRIVATE:
            keys.append(("chat", chat.id))
        if any(now - self.last.get(key, -self.every_s) < self.every_s for key in keys):
            return False
        if len(self.last) >= MAX_REMEMBERED:
            self.forget(now)
        for key in keys:
            self.last[key] = now
        return True

    def forget(self, now: float) -> None:
        """Drop the refusals older than the interval (they no longer hold anything back)."""
        self.last = {k: t for k, t in self.last.items() if now - t < self.every_s}
