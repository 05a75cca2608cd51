"""Intake of requests: words, a style button or a button under a song become a job record
(before any "on it"), within the limits, and its runner starts; or the user hears why not."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from typing import Any

from telegram import Chat, Update
from telegram.constants import ChatType
from telegram.ext import Application, ContextTypes

import composer.request
from bot import metrics
from bot.telegram.jobs import DuplicateJob, Job, new_job_id
from bot.telegram.runner import start_runner
from bot.telegram.runtime import Runtime, runtime
from bot.telegram.texts import lang_of, t, wait_time
from bot.telegram.user_settings import UserSettings, user_settings
from bot.telegram.words import job_request, record_of, tempo_of
from composer.i18n import script_language
from composer.music import transpose_key
from composer.request import SongRequest, longer_length

logger = logging.getLogger("isadei.bot")

TYPICAL_SONG_S = 20.0  # latency guess before there are statistics
INSTRUMENTS = [
    "acoustic grand piano",
    "violin",
    "flute",
    "acoustic guitar (nylon)",
    "clarinet",
    "cello",
    "trumpet",
    "orchestral harp",
    "accordion",
    "music box",
]
ACTIONS = ("again", "var", "long", "inst")  # the buttons under a song (menus: menus.py)


def parse_request(text: str, lang: str, defaults: UserSettings | None = None) -> dict[str, Any]:
    """Words → the request a job stores, its notes in `lang`; the user's defaults fill what
    the words leave open."""
    text = text.strip().removeprefix("🎼").strip()
    request = replace(composer.request.parse(text, lang), text=text)
    if defaults is not None:
        if request.instrument is None and defaults.instrument:
            request.instrument = defaults.instrument
        if request.length_seconds is None and defaults.length_seconds:
            request.length_seconds = defaults.length_seconds
    return job_request(request)


def style_request(style_id: str, lang: str) -> dict[str, Any]:
    """The request a style button (or a deep link) makes."""
    return job_request(SongRequest(style=style_id, text=style_id, lang=lang))


def random_seed() -> int:
    return random.randrange(1, 2**31)


def derive(action: str, parent: Job) -> tuple[dict[str, Any], int]:
    """The request and seed of a button under a song: another one, variation, longer, other
    instrument. Variations keep the seed, so they stay the same tune, changed a little."""
    request = SongRequest.from_json(parent.request)
    record = record_of(parent)
    if action == "again":
        return job_request(replace(request, seed=None)), random_seed()
    if action == "var":  # the same tune a fifth higher and a little faster
        mode = (record.mode if record else request.mode) or "major"
        key = transpose_key(record.key if record else request.key, 7, mode)
        if key:
            request.key, request.mode = key, mode
        tempo = tempo_of(parent)
        if tempo:
            request.tempo_bpm = int(round(tempo * 1.1))
    elif action == "long":
        played = (parent.result or {}).get("duration_seconds")
        request.length_seconds = longer_length(played or request.length_seconds or 60)
    elif action == "inst":
        current = str((record.instrument if record else request.instrument) or "").lower()
        index = INSTRUMENTS.index(current) + 1 if current in INSTRUMENTS else random.randrange(9)
        request.instrument = INSTRUMENTS[index % len(INSTRUMENTS)]
    return job_request(request), parent.seed


def refusal(rt: Runtime, user_id: int, lang: str) -> str | None:
    """A friendly "not now, try again in ..." if a limit is reached, else None."""
    settings, store, now = rt.settings, rt.store, time.time()
    typical = rt.store.typical_seconds() or TYPICAL_SONG_S  # a running figure: O(1)
    slots = max(1, settings.compose_slots)
    everyone = store.active()
    if len(everyone) >= settings.queue_cap:
        wait = len(everyone) * typical / slots
        return t(lang, "limit_queue", count=len(everyone), wait=wait_time(lang, wait))
    mine = [job for job in everyone if job.user_id == user_id]
    if len(mine) >= settings.max_active_per_user:
        ahead = sum(1 for job in everyone if job.created_at <= mine[0].created_at)
        wait = max(typical, ahead * typical / slots)
        return t(lang, "limit_active", count=len(mine), wait=wait_time(lang, wait))
    recent = store.created_since(user_id, now - 3600)
    if len(recent) >= settings.max_per_hour:
        wait = recent[len(recent) - settings.max_per_hour].created_at + 3600 - now
        return t(lang, "limit_hour", count=len(recent), wait=wait_time(lang, max(wait, 60)))
    return None


def accept(
    app: Application,
    update: Update,
    request: dict[str, Any],
    source: str,
    lang: str,
    seed: int | None = None,
    parent_id: str | None = None,
    chat: Chat | None = None,
) -> tuple[Job | None, str | None]:
    """Record a job (before any "on it") and start its runner; or say why not. `chat`: where
    the song goes when the update has no chat of its own (inline mode: the user's private
    chat with the bot).

    No await in here: the limit check and the insert happen as one step on the event loop.
    """
    user, message = update.effective_user, update.effective_message
    chat = chat or update.effective_chat
    assert user is not None and chat is not None
    rt = runtime(app)
    reason = refusal(rt, user.id, lang)
    if reason:
        logger.info("refused user=%s chat=%s: %s", user.id, chat.id, reason.splitlines()[0])
        metrics.bot_jobs.labels("refused").inc()
        return None, reason
    if seed is None:
        seed = request.get("seed") if isinstance(request.get("seed"), int) else random_seed()
    job = Job(
        id=new_job_id(),
        source=source,
        user_id=user.id,
        chat_id=chat.id,
        chat_type=chat.type,
        message_id=message.message_id if message else None,
        thread_id=message.message_thread_id if message and message.is_topic_message else None,
        lang=lang,
        request=request,
        seed=seed,
        parent_id=parent_id,
    )
    try:
        rt.store.create(job)
    except DuplicateJob:  # the same update delivered again after a restart
        logger.info("duplicate update %s ignored", source)
        return None, None
    logger.info(
        "accepted job=%s user=%s chat=%s style=%s seed=%s",
        job.id,
        user.id,
        chat.id,
        request.get("style"),
        seed,
    )
    metrics.bot_jobs.labels("accepted").inc()
    start_runner(app, job.id)
    return job, None


def user_lang(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str = "") -> str:
    """The language to answer in: the words' own script, else /settings, else the client's."""
    user = update.effective_user
    chosen = user_settings(context.application).get(user.id).lang if user else None
    return script_language(text) or chosen or lang_of(user.language_code if user else None)


async def accept_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """A request in words from a message: accept it, or answer why not."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    lang = user_lang(update, context, text)
    _, reason = accept(
        context.application,
        update,
        parse_request(text, lang, user_settings(context.application).get(user.id)),
        source=f"m:{message.chat_id}:{message.message_id}",
        lang=lang,
    )
    if reason and runtime(context.application).refusals.allow(update):  # one a minute
        await message.reply_text(reason, do_quote=message.chat.type != ChatType.PRIVATE)
