"""The status message of a job: "🎼 composing ... you are 3rd in line", kept up to date while
the job waits and works, deleted (or turned into a summary) when the song is sent."""

from __future__ import annotations

import logging
import time

from telegram.error import BadRequest, TelegramError

from bot.telegram.jobs import CANCELLED, COMPOSING, QUEUED, RENDERING, SENDING, Job
from bot.telegram.runtime import Runtime
from bot.telegram.sending import reply_to, send, to_chat
from bot.telegram.texts import clip, ordinal, t
from bot.telegram.words import describe

logger = logging.getLogger("isadei.bot")


def status_text(job: Job, lang: str, position: int = 1) -> str:
    what = describe(job, lang, accusative=job.state != CANCELLED)
    if job.state == QUEUED:
        if position > 1:
            text = t(lang, "status_queued", what=what, position=ordinal(lang, position))
        else:
            text = t(lang, "status_next", what=what)
    elif job.state == CANCELLED:
        text = t(lang, "status_cancelled", what=what)
    elif job.state in (COMPOSING, RENDERING, SENDING):
        text = t(lang, f"status_{job.state}", what=what)
        if job.state == COMPOSING and job.failures:
            text = t(lang, "status_retry", what=what)
    else:
        text = what
    notes = [clip(str(note), 200) for note in job.request.get("notes") or []][:2]
    if notes and job.state != CANCELLED:
        text += "\n" + t(lang, "notes", notes="; ".join(notes))
    return clip(text, 4000)


def waiting_ids(rt: Runtime) -> list[str]:
    """Jobs that need a compose slot and have none, oldest first."""
    return [
        job.id
        for job in rt.store.active()
        if job.state in (QUEUED, COMPOSING, RENDERING) and job.id not in rt.running
    ]


def position_of(rt: Runtime, job: Job) -> int:
    """1 = nothing ahead; 2 = one song is composed (or waits) before this one; ..."""
    if not rt.settings.embedded:  # the Redis queue: jobs no worker has taken yet, older first
        return rt.store.queued_ahead(job) + 1
    waiting = waiting_ids(rt)
    return len(rt.running) + (waiting.index(job.id) if job.id in waiting else 0) + 1


async def send_status(bot, rt: Runtime, job: Job) -> Job:
    """The first "🎼 composing ..." message; its id goes into the job record."""
    text = status_text(job, job.lang, position_of(rt, job))
    message = await send(
        bot.send_message, text=text, reply_parameters=reply_to(job.message_id), **to_chat(job)
    )
    rt.status_texts[job.id] = text
    return rt.store.update(job.id, status_message_id=message.message_id)


async def show_status(bot, rt: Runtime, job: Job, position: int = 1) -> None:
    await edit_status(bot, rt, job, status_text(job, job.lang, position))


async def edit_status(bot, rt: Runtime, job: Job, text: str) -> None:
    """Edit the status message, only when its text changes."""
    if job.status_message_id is None or rt.status_texts.get(job.id) == text:
        return
    rt.status_texts[job.id] = text
    try:
        await send(
            bot.edit_message_text, chat_id=job.chat_id, message_id=job.status_message_id, text=text
        )
    except BadRequest as error:  # "message is not modified", or the user deleted it
        logger.debug("job=%s status not edited: %s", job.id, error)


async def remove_status(bot, rt: Runtime, job: Job) -> None:
    """Delete the status message; if Telegram won't, turn it into a summary."""
    if job.status_message_id is None:
        return
    try:
        await send(bot.delete_message, chat_id=job.chat_id, message_id=job.status_message_id)
    except TelegramError:
        seconds = f"{(job.finished_at or time.time()) - job.created_at:.1f}"
        await edit_status(
            bot, rt, job, t(job.lang, "summary", what=describe(job, job.lang), seconds=seconds)
        )


async def apologise(bot, rt: Runtime, job: Job) -> None:
    """Tell the user this job failed, with its id."""
    text = t(job.lang, "failed", job_id=job.id)
    try:
        if job.status_message_id is not None:
            rt.status_texts.pop(job.id, None)
            await edit_status(bot, rt, job, text)
        else:
            await send(
                bot.send_message,
                **to_chat(job),
                text=text,
                reply_parameters=reply_to(job.message_id),
            )
    except TelegramError as error:
        logger.warning("job=%s apology not sent: %r", job.id, error)
