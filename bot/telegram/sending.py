"""Calling the Bot API for a job: retried on network trouble, replies that survive a deleted
message, chat actions that never fail a job."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.jobs import Job

logger = logging.getLogger("isadei.bot")

SEND_ATTEMPTS = 4  # network errors and timeouts while sending (RetryAfter: AIORateLimiter)


def reply_to(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


async def send(method, **kwargs: Any) -> Any:
    """Call a Bot method, retrying network errors and timeouts (RetryAfter is the rate
    limiter's; a BadRequest or Forbidden is final)."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await method(**kwargs)
        except (BadRequest, Forbidden):
            raise
        except RetryAfter as error:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(
                error.retry_after
                if isinstance(error.retry_after, int | float)
                else error.retry_after.total_seconds()
            )
        except NetworkError:  # includes TimedOut
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(2**attempt)
    raise AssertionError("unreachable")


async def chat_action(bot, job: Job, action: str) -> None:
    try:
        await bot.send_chat_action(chat_id=job.chat_id, action=action)
    except TelegramError as error:  # cosmetic: never worth failing a job
        logger.debug("job=%s chat action failed: %r", job.id, error)
