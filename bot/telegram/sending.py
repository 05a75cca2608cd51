"""Calling the Bot API for a job: retried only when the call surely did not reach Telegram,
replies that survive a deleted message, chat actions that never fail a job.

Telegram has no idempotency key: a message or upload that timed out on our side may still
have arrived, and sending it again shows the user the song twice. So a call that creates
something (send_*) is retried only when it never left (no connection, no free connection in
the pool); an edit or a delete is safe to repeat. Uploads get long timeouts, so Telegram
answers before we give up. Too Many Requests is retried by AIORateLimiter alone (one layer).
What was sent is recorded in the job (delivery.py), so a resumed job sends only the rest.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from telegram import ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.jobs import Job

logger = logging.getLogger("isadei.bot")

SEND_ATTEMPTS = 4  # for a call that surely did not arrive, or that is safe to repeat
SEND_TIMEOUT_S = 30.0  # reading Telegram's answer to a message
UPLOAD_TIMEOUT_S = 300.0  # writing up to 50 MB and reading the answer
UPLOADS = frozenset({"send_audio", "send_document", "send_photo", "send_voice", "send_video"})
REPEATABLE = frozenset(
    {"edit_message_text", "edit_message_caption", "edit_message_reply_markup", "delete_message",
     "send_chat_action", "answer_callback_query"}
)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def to_chat(job: Job) -> dict[str, int | None]:
    """Where a job's messages go: its chat, and in a forum the topic it was asked in."""
    return {"chat_id": job.chat_id, "message_thread_id": job.thread_id}


def reply_to(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


def surely_not_sent(error: BaseException) -> bool:
    """Did this call never reach Telegram (so sending it again cannot make a duplicate)?"""
    return isinstance(error.__cause__, NOT_SENT)


async def send(method, **kwargs: Any) -> Any:
    """Call a Bot method with timeouts that fit it; retry a network error only when the call
    surely did not arrive, or is safe to repeat. BadRequest, Forbidden and RetryAfter (the
    rate limiter has already retried it) are final."""
    name = getattr(method, "__name__", "")
    kwargs.setdefault("read_timeout", UPLOAD_TIMEOUT_S if name in UPLOADS else SEND_TIMEOUT_S)
    if name in UPLOADS:
        kwargs.setdefault("write_timeout", UPLOAD_TIMEOUT_S)
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await method(**kwargs)
        except (BadRequest, Forbidden, RetryAfter):
            raise
        except NetworkError as error:  # includes TimedOut
            if attempt == SEND_ATTEMPTS - 1 or not (name in REPEATABLE or surely_not_sent(error)):
                raise  # it may have arrived: the job's record decides what happens next
            logger.info("%s did not reach Telegram (%r); trying again", name, error)
            await asyncio.sleep(2**attempt)
    raise AssertionError("unreachable")


async def chat_action(bot, job: Job, action: str) -> None:
    try:
        await bot.send_chat_action(action=action, **to_chat(job))
    except TelegramError as error:  # cosmetic: never worth failing a job
        logger.debug("job=%s chat action failed: %r", job.id, error)
