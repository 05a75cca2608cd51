"""The Telegram bot: handlers, keyboards, the job runner, and main() that wires them.

A request becomes a job record (bot/jobs.py) first; then a runner coroutine per job takes it
through the queue (bot/queue.py) and the chat: a status message kept up to date, the chat
action repeated while working, then audio, MIDI and sheet music, each step recorded so that
a restarted bot sends only what is missing. Runners are plain asyncio tasks (not
Application.create_task, which would hold up shutdown until every queued song is done);
their errors go to the one error handler, with the job id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedAudio,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

import composer.request
from bot import metrics, queue
from bot.jobs import (
    CANCELLED,
    COMPOSING,
    DONE,
    FAILED,
    QUEUED,
    RENDERING,
    SENDING,
    DuplicateJob,
    Job,
    JobStore,
    new_job_id,
)
from bot.settings import BOTFATHER_HELP, Settings
from bot.texts import COMMANDS, EN, RU, clip, lang_of, ordinal, style_label, t, wait_time
from composer.styles import STYLES

logger = logging.getLogger("isadei.bot")
job_log = logging.getLogger("isadei.jobs")

POLL_S = 0.5  # how often a runner looks at the queue and the task's progress
POSITION_S = 3.0  # distributed: how often "you are N-th in line" may change
BUSY_RETRY_S = 2.0  # how often a runner tries the queue again while Redis is away
CHAT_ACTION_S = 4.0  # a chat action shows for ~5 s: repeat it while working
SEND_ATTEMPTS = 4  # network errors and timeouts while sending (RetryAfter: AIORateLimiter)
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
KEYS = {
    "major": ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"],
    "minor": ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"],
}
ACTIONS = ("again", "var", "long", "inst")  # the buttons under a song


@dataclass
class Runtime:
    """What the handlers and runners share (kept in application.bot_data["rt"])."""

    settings: Settings
    store: JobStore
    running: set[str] = field(default_factory=set)  # jobs holding a compose slot
    runners: dict[str, asyncio.Task] = field(default_factory=dict)
    status_texts: dict[str, str] = field(default_factory=dict)  # last text shown per job


def runtime(app: Application) -> Runtime:
    return app.bot_data["rt"]


# -- words --


def describe(job_or_request: Job | dict[str, Any], lang: str, accusative: bool = False) -> str:
    """ "a sad waltz in D minor" / "грустный вальс в ре миноре" (accusative: "грустную ...",
    the Russian form after "сочиняю")."""
    data = job_or_request.request if isinstance(job_or_request, Job) else job_or_request
    try:
        request = queue.request_from_json(data)
        if lang == RU:
            return composer.request.describe_ru(request, accusative=accusative)
        return composer.request.describe(request)
    except Exception:  # a display string must never stop a job
        logger.exception("describe failed for %r", data.get("style"))
        return style_label(lang, str(data.get("style", "folk")))


def parse_request(text: str) -> dict[str, Any]:
    """Words → the request dict a job stores (SongRequest.to_json() plus the text)."""
    text = text.strip().removeprefix("🎼").strip()
    request = composer.request.parse(text)
    return {**request.to_json(), "text": text}


def style_request(style_id: str) -> dict[str, Any]:
    """The request a style button makes."""
    request = composer.request.SongRequest(style=style_id, text=style_id)
    return {**request.to_json(), "text": style_id}


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


def song_info(job: Job) -> dict[str, Any]:
    return (job.result or {}).get("info") or {}


def form_of(info: dict[str, Any]) -> str:
    """ "Intro · Verse · Chorus · ..." from the composer's JSON, whatever its exact shape."""
    form = info.get("form") or info.get("sections") or []
    if isinstance(form, dict):
        form = form.get("sections") or []
    if isinstance(form, str):
        return form
    names = [
        str(s.get("name") or s.get("kind") or "") if isinstance(s, dict) else str(s) for s in form
    ]
    return " · ".join(name for name in names if name)


def tempo_of(job: Job) -> int | None:
    info = song_info(job)
    tempo = info.get("tempo_bpm") or info.get("tempo") or job.request.get("tempo_bpm")
    if isinstance(tempo, dict):
        tempo = tempo.get("bpm")
    try:
        return int(round(float(tempo))) if tempo else None
    except (TypeError, ValueError):
        return None


def title_of(job: Job) -> str:
    title = song_info(job).get("title") or describe(job, EN)
    return clip(str(title), 64)


def caption_of(job: Job, lang: str) -> str:
    """Style, key, tempo, form and seed under the audio."""
    info = song_info(job)
    style = str(info.get("style") or job.request.get("style") or "folk")
    key, mode = (
        info.get("key") or job.request.get("key"),
        info.get("mode") or job.request.get("mode"),
    )
    if lang == RU and mode in ("major", "minor"):
        mode = {"major": "мажор", "minor": "минор"}[mode]
    parts = [style_label(lang, style)]
    if key:
        parts.append(f"{key} {mode or ''}".strip())
    if tempo_of(job):
        parts.append(f"{tempo_of(job)} bpm")
    meter = info.get("meter") or info.get("time_signature")
    if isinstance(meter, str):
        parts.append(meter)
    instrument = info.get("instrument") or job.request.get("instrument")
    if isinstance(instrument, str):
        parts.append(instrument)
    lines = [title_of(job), " · ".join(parts)]
    if form_of(info):
        lines.append(t(lang, "caption_form", form=clip(form_of(info), 300)))
    lines.append(t(lang, "caption_seed", seed=job.seed, job_id=job.id))
    return clip("\n".join(lines), 1000)


# -- keyboards --


def styles_keyboard(lang: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(style_label(lang, sid), callback_data=f"style:{sid}") for sid in STYLES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def song_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    """The buttons under a song: their callback_data names the job (≤ 64 bytes)."""
    row = [
        InlineKeyboardButton(t(lang, f"btn_{name}"), callback_data=f"{action}:{job.id}")
        for name, action in (("again", "again"), ("variation", "var"))
    ]
    row2 = [
        InlineKeyboardButton(t(lang, f"btn_{name}"), callback_data=f"{action}:{job.id}")
        for name, action in (("longer", "long"), ("instrument", "inst"))
    ]
    return InlineKeyboardMarkup([row, row2])


# -- accepting requests --


def random_seed() -> int:
    return random.randrange(1, 2**31)


def refusal(rt: Runtime, user_id: int, lang: str) -> str | None:
    """A friendly "not now, try again in ..." if a limit is reached, else None."""
    settings, store, now = rt.settings, rt.store, time.time()
    typical = rt.store.stats(now - 86400)["p50"] or TYPICAL_SONG_S
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
) -> tuple[Job | None, str | None]:
    """Record a job (before any "on it") and start its runner; or say why not.

    No await in here: the limit check and the insert happen as one step on the event loop.
    """
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
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


async def accept_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """A request in words from a message: accept it, or answer why not."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    lang = lang_of(user.language_code, text)
    request = parse_request(text)
    _, reason = accept(
        context.application,
        update,
        request,
        source=f"m:{message.chat_id}:{message.message_id}",
        lang=lang,
    )
    if reason:
        await message.reply_text(reason, do_quote=message.chat.type != ChatType.PRIVATE)


# -- handlers --


def user_lang(update: Update) -> str:
    user = update.effective_user
    message = update.effective_message
    return lang_of(user.language_code if user else None, (message.text or "") if message else "")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say who Isadei is and what to try."""
    lang = user_lang(update)
    await update.effective_message.reply_text(t(lang, "start"), reply_markup=styles_keyboard(lang))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and what a request can say."""
    await update.effective_message.reply_text(
        t(user_lang(update), "help", bot=context.bot.username)
    )


async def styles_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the styles as buttons; a tap composes one."""
    lang = user_lang(update)
    await update.effective_message.reply_text(t(lang, "styles"), reply_markup=styles_keyboard(lang))


async def compose_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compose TEXT: compose what the text asks for (no text: offer the styles)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    if not text:
        lang = user_lang(update)
        await message.reply_text(t(lang, "compose_empty"), reply_markup=styles_keyboard(lang))
        return
    await accept_text(update, context, text)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text in a private chat is a request."""
    await accept_text(update, context, update.effective_message.text or "")


def addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The request in a group message meant for the bot (a mention, a reply to the bot, a
    message sent via the bot's inline mode), or None for the group's other chatter."""
    text = message.text or ""
    if message.via_bot and message.via_bot.id == bot_id:
        return text
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        mentioned = entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower()
        if mentioned or (entity.user is not None and entity.user.id == bot_id):
            return text.replace(value, " ").strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    return None


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer mentions, replies to the bot and inline-mode requests; ignore the rest."""
    text = addressed_text(update.effective_message, context.bot.id, context.bot.username)
    if text is not None:
        await accept_text(update, context, text)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove the user's songs that are still waiting in line."""
    rt = runtime(context.application)
    lang = user_lang(update)
    cancelled = rt.store.cancel_queued(update.effective_user.id)
    for job in cancelled:
        log_job(job)
        await edit_status(
            context.bot, rt, job, t(job.lang, "status_cancelled", what=describe(job, job.lang))
        )
    if cancelled:
        text = t(lang, "cancel_done", count=len(cancelled))
    else:
        text = t(lang, "cancel_none")
        if rt.store.active(update.effective_user.id):
            text += t(lang, "cancel_running")
    await update.effective_message.reply_text(text)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For admins: songs today, queue length, p50/p95 latency."""
    rt = runtime(context.application)
    lang = user_lang(update)
    if update.effective_user.id not in rt.settings.admin_ids:
        await update.effective_message.reply_text(t(lang, "not_admin"))
        return
    midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
    stats = rt.store.stats(midnight)
    seconds = {k: "—" if stats[k] is None else f"{stats[k]:.1f} s" for k in ("p50", "p95")}
    await update.effective_message.reply_text(t(lang, "stats", **{**stats, **seconds}))


def derive(action: str, parent: Job) -> tuple[dict[str, Any], int]:
    """The request and seed of a button under a song: another one, variation, longer, other
    instrument. Variations keep the seed, so they stay the same tune, changed a little."""
    request = dict(parent.request)
    info = song_info(parent)
    if action == "again":
        request["seed"] = None
        return request, random_seed()
    if action == "var":  # same tune a fifth higher and a little faster
        mode = info.get("mode") or request.get("mode") or "major"
        key = shift_key(info.get("key") or request.get("key"), 7, mode)
        if key:
            request["key"], request["mode"] = key, mode
        if tempo_of(parent):
            request["tempo_bpm"] = int(round(tempo_of(parent) * 1.1))
    elif action == "long":
        seconds = (
            (parent.result or {}).get("duration_seconds") or request.get("length_seconds") or 60
        )
        request["length_seconds"] = int(min(300, max(60, 2 * float(seconds))))
    elif action == "inst":
        current = str(info.get("instrument") or request.get("instrument") or "").lower()
        index = INSTRUMENTS.index(current) + 1 if current in INSTRUMENTS else random.randrange(9)
        request["instrument"] = INSTRUMENTS[index % len(INSTRUMENTS)]
    return request, parent.seed


def shift_key(key: Any, semitones: int, mode: str) -> str | None:
    """ "D" up a fifth → "A"; None if the key is not a plain tonic name."""
    if not isinstance(key, str) or not key or key[0].upper() not in "CDEFGAB":
        return None
    pc = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[key[0].upper()]
    pc += key[1:].count("#") + key[1:].count("♯") - key[1:].count("b") - key[1:].count("♭")
    names = KEYS["minor" if mode == "minor" else "major"]
    return names[(pc + semitones) % 12]


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a style or on a button under a song composes a new one."""
    query = update.callback_query
    rt = runtime(context.application)
    action, _, arg = (query.data or "").partition(":")
    parent = rt.store.get(arg) if action in ACTIONS else None
    lang = lang_of(query.from_user.language_code, parent.request.get("text", "") if parent else "")
    if action == "style" and arg in STYLES:
        request, seed = style_request(arg), None
    elif parent is not None:
        request, seed = derive(action, parent)
    else:
        await query.answer(t(lang, "gone"), show_alert=True)
        return
    if update.effective_chat is None:  # a button on an inline message: no chat to answer in
        await query.answer(t(lang, "gone"), show_alert=True)
        return
    job, reason = accept(
        context.application,
        update,
        request,
        source=f"cb:{query.id}",
        lang=lang,
        seed=seed,
        parent_id=parent.id if parent else None,
    )
    await query.answer(clip(reason, 200) if reason else t(lang, "on_it"), show_alert=bool(reason))


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot TEXT in any chat: the user's songs (already uploaded, shared by file_id), a
    "compose this" entry, and the styles."""
    query = update.inline_query
    rt = runtime(context.application)
    text = query.query.strip()
    lang = lang_of(query.from_user.language_code, text)
    songs = rt.store.recent_songs(query.from_user.id, limit=20)
    words = [w for w in text.lower().split() if len(w) > 2]
    matching = [
        job
        for job in songs
        if any(
            w in json.dumps(job.request, ensure_ascii=False).lower() or w in title_of(job).lower()
            for w in words
        )
    ]
    results: list = [
        InlineQueryResultCachedAudio(
            id=f"song:{job.id}",
            audio_file_id=job.audio_file_id,
            caption=clip(caption_of(job, lang), 1000),
        )
        for job in (matching or songs)
    ]
    if text:
        results.append(
            InlineQueryResultArticle(
                id="compose",
                title=clip(t(lang, "inline_compose", text=text), 100),
                description=t(lang, "inline_compose_desc"),
                input_message_content=InputTextMessageContent(clip(f"🎼 {text}", 4000)),
            )
        )
    for sid in STYLES:
        results.append(
            InlineQueryResultArticle(
                id=f"style:{sid}",
                title=style_label(lang, sid),
                description=t(lang, "inline_style_desc", what=STYLES[sid].description),
                input_message_content=InputTextMessageContent(f"🎼 {sid}"),
            )
        )
    await query.answer(results[:50], cache_time=5, is_personal=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every error once, with the job id when there is one."""
    if isinstance(update, Job):
        logger.error("job=%s failed: %r", update.id, context.error, exc_info=context.error)
    elif isinstance(update, Update):
        logger.error(
            "update=%s failed: %r", update.update_id, context.error, exc_info=context.error
        )
    else:
        logger.error("error: %r", context.error, exc_info=context.error)


# -- the job runner --


def start_runner(app: Application, job_id: str) -> None:
    """Run a job in its own task (one per job, the same for new and resumed jobs)."""
    rt = runtime(app)
    if job_id in rt.runners:
        return
    task = asyncio.create_task(guarded_run(app, job_id), name=f"job-{job_id}")
    rt.runners[job_id] = task
    task.add_done_callback(lambda _: rt.runners.pop(job_id, None))


async def guarded_run(app: Application, job_id: str) -> None:
    """run_job; a job that breaks is marked failed, and the error goes to the error handler."""
    rt = runtime(app)
    try:
        await run_job(app, job_id)
    except Exception as error:
        job = rt.store.get(job_id)
        if job is not None and job.active:
            job = rt.store.update(
                job_id, state=FAILED, finished_at=time.time(), error=repr(error)[:500]
            )
            log_job(job)
            if not isinstance(error, Forbidden):
                await apologise(app.bot, rt, job)
        await app.process_error(update=job, error=error)
    finally:
        rt.running.discard(job_id)
        rt.status_texts.pop(job_id, None)


async def run_job(app: Application, job_id: str) -> None:
    """Take one job from its record to the chat, resuming wherever it stopped."""
    rt = runtime(app)
    job = rt.store.get(job_id)
    if job is None or not job.active:
        return
    if job.status_message_id is None:
        job = await send_status(app.bot, rt, job)
    reuse = rt.store.uploaded(job.song_key)  # this song is already on Telegram's servers
    if reuse is not None and job.result is None:
        job = rt.store.update(job.id, result=reuse.result)
    if reuse is None and not files_ready(job):
        result = await compose(app, job)
        if result is None:
            return
        job = rt.store.update(job.id, result=result)
    await deliver(app, job, reuse)


def files_ready(job: Job) -> bool:
    """Are the files for the parts not yet sent on disk?"""
    if job.result is None:
        return False
    needed = [
        name
        for name, sent in (
            ("mp3", job.audio_file_id),
            ("midi", job.midi_file_id),
            ("png", job.sheet_file_id),
        )
        if not sent
    ]
    return all(job.result.get(name) and Path(job.result[name]).exists() for name in needed)


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


async def compose(app: Application, job: Job) -> dict[str, Any] | None:
    """Wait for a compose slot (first come, first served), then compose with one retry.

    Distributed mode has no slots here: every job goes on the Redis queue at once, and the
    workers take them at their own pace (that is what lets them batch).
    """
    rt = runtime(app)
    if job.state != QUEUED:  # resumed after a restart: back in line
        job = rt.store.update(job.id, state=QUEUED)
    if not rt.settings.embedded:
        return await compose_attempts(app, job)
    while True:
        job = rt.store.get(job.id)
        if job is None or job.state == CANCELLED:
            return None
        free = rt.settings.compose_slots - len(rt.running)
        if free > 0 and job.id in waiting_ids(rt)[:free]:
            break
        await show_status(app.bot, rt, job, position_of(rt, job))
        await asyncio.sleep(POLL_S)
    rt.running.add(job.id)
    try:
        return await compose_attempts(app, job)
    finally:
        rt.running.discard(job.id)


async def compose_attempts(app: Application, job: Job) -> dict[str, Any] | None:
    """Run the compose task; retry a failure once; apologise after that."""
    rt = runtime(app)
    for attempt in range(job.failures, rt.settings.retries + 1):
        result, error = await run_attempt(app, job, attempt)
        if result is not None:
            return result
        job = rt.store.get(job.id)
        if error is None or job is None or job.state == CANCELLED:
            return None
        logger.warning("job=%s attempt %d failed: %s", job.id, attempt + 1, clip(error, 500))
        job = rt.store.update(job.id, failures=job.failures + 1, error=clip(error, 500))
    job = rt.store.update(job.id, state=FAILED, finished_at=time.time())
    log_job(job)
    await apologise(app.bot, rt, job)
    return None


async def run_attempt(
    app: Application, job: Job, attempt: int
) -> tuple[dict[str, Any] | None, str | None]:
    """Put one attempt on the queue (unless it is there already) and follow it to its end,
    keeping the status message current: (files, None), (None, error), or (None, None) when
    the user cancelled it. While the queue is unreachable the user is told we are busy."""
    rt, bot = runtime(app), app.bot
    settings = rt.settings
    tid = queue.task_id(job.id, attempt)
    timings = dict(job.timings)
    stage: str | None = None  # what the composer last reported; None = not taken yet
    if settings.embedded:  # it holds a compose slot: it starts now
        job, stage = start_work(rt, job, COMPOSING, timings), COMPOSING
        await show_status(bot, rt, job)
    # Distributed: a worker may sit on a job up to its own timeout; this is the backstop.
    timeout = settings.job_timeout_s * (1 if settings.embedded else 2)
    stage_start = began = time.monotonic()
    last_action = last_position = 0.0
    busy = False
    while True:
        job = rt.store.get(job.id)
        if job is None or job.state == CANCELLED:
            if job is not None:
                await queue.cancel(job.id)
            return None, None
        try:
            progress = await queue.poll(tid)
            if not progress.ready and not progress.queued:
                final = attempt >= settings.retries
                await queue.submit(job.id, job.request, job.seed, attempt, final)
                progress = queue.Progress(ready=False, stage=None, queued=True)
            outcome = await queue.fetch(tid, job.id) if progress.ready else None
        except queue.LostResult:
            logger.warning("job=%s: the files of %s are gone; composing it again", job.id, tid)
            await queue.forget(tid)
            continue
        except queue.QueueUnavailable as error:
            if not busy:
                logger.warning("job=%s: the queue is unreachable (%s); waiting", job.id, error)
                busy_text = t(job.lang, "status_busy", what=describe(job, job.lang))
                await edit_status(bot, rt, job, busy_text)
            busy = True
            await asyncio.sleep(BUSY_RETRY_S)
            continue
        if busy:  # back: show the regular status again
            busy = False
            logger.info("job=%s: the queue is back", job.id)
            last_position = 0.0
            rt.status_texts.pop(job.id, None)
            if stage is not None:
                await show_status(bot, rt, job)
        if outcome is not None:
            timings[stage or COMPOSING] = round(time.monotonic() - stage_start, 3)
            value, error = outcome
            for name, seconds in ((value or {}).get("timings") or {}).items():
                timings[f"composer.{name}"] = round(float(seconds), 3)
            for name, seconds in ((value or {}).get("worker_timings") or {}).items():
                timings[f"worker.{name}"] = round(float(seconds), 3)
            rt.store.update(job.id, timings=timings)
            return value, error
        new = progress.stage
        if new in (COMPOSING, RENDERING) and new != stage:
            if stage is None:  # a worker took it: from now on it is working
                job, began = start_work(rt, job, new, timings), time.monotonic()
            else:
                timings[stage] = round(time.monotonic() - stage_start, 3)
            stage, stage_start = new, time.monotonic()
            job = rt.store.update(job.id, state=new, timings=timings)
            await show_status(bot, rt, job)
        elif stage is None and time.monotonic() - last_position >= POSITION_S:
            last_position = time.monotonic()  # (not every poll: edits are rate-limited)
            await show_status(bot, rt, job, position_of(rt, job))
        if stage is not None and time.monotonic() - last_action >= CHAT_ACTION_S:
            last_action = time.monotonic()
            await chat_action(bot, job, ChatAction.RECORD_VOICE)
        if stage is not None and time.monotonic() - began > timeout:
            timings[stage] = round(time.monotonic() - stage_start, 3)
            rt.store.update(job.id, timings=timings)
            return None, "timed out"
        await asyncio.sleep(POLL_S)


def start_work(rt: Runtime, job: Job, state: str, timings: dict[str, float]) -> Job:
    """The job leaves the line: note how long it waited (first attempt only) and when."""
    now = time.time()
    timings.setdefault("queued", round(now - job.created_at, 3))
    return rt.store.update(job.id, state=state, started_at=job.started_at or now, timings=timings)


async def deliver(app: Application, job: Job, reuse: Job | None) -> None:
    """Send what is missing of audio, MIDI and sheet music; then tidy the status message."""
    rt, bot = runtime(app), app.bot
    began = time.monotonic()
    job = rt.store.update(job.id, state=SENDING)
    await show_status(bot, rt, job)
    result = job.result or {}
    lang = job.lang
    if job.audio_file_id is None:
        await chat_action(bot, job, ChatAction.UPLOAD_VOICE)
        audio = reuse.audio_file_id if reuse else Path(result["mp3"])
        message = await send(
            bot.send_audio,
            chat_id=job.chat_id,
            audio=audio,
            title=title_of(job),
            performer="Isadei",
            duration=int(round(result.get("duration_seconds") or 0)),
            caption=caption_of(job, lang),
            reply_markup=song_keyboard(job, lang),
            reply_parameters=reply_to(job.message_id),
        )
        job = rt.store.update(
            job.id, audio_file_id=message.audio.file_id, audio_message_id=message.message_id
        )
    if job.midi_file_id is None:
        midi = reuse.midi_file_id if reuse else Path(result["midi"])
        message = await send(
            bot.send_document,
            chat_id=job.chat_id,
            document=midi,
            filename=Path(result.get("midi") or "song.mid").name,
            reply_parameters=reply_to(job.audio_message_id),
            disable_notification=True,
        )
        job = rt.store.update(job.id, midi_file_id=message.document.file_id)
    if job.sheet_file_id is None:
        sheet = reuse.sheet_file_id if reuse else Path(result["png"])
        try:
            message = await send(
                bot.send_photo,
                chat_id=job.chat_id,
                photo=sheet,
                reply_parameters=reply_to(job.audio_message_id),
                disable_notification=True,
            )
            file_id = message.photo[-1].file_id
        except BadRequest:  # too tall for a photo (or a document's file_id): send it as a file
            message = await send(
                bot.send_document,
                chat_id=job.chat_id,
                document=sheet,
                reply_parameters=reply_to(job.audio_message_id),
                disable_notification=True,
            )
            file_id = message.document.file_id
        job = rt.store.update(job.id, sheet_file_id=file_id)
    finished = time.time()
    timings = {
        **job.timings,
        "sending": round(time.monotonic() - began, 3),
        "total": round(finished - job.created_at, 3),
    }
    job = rt.store.update(job.id, state=DONE, finished_at=finished, timings=timings)
    await remove_status(bot, rt, job)
    log_job(job, reused=reuse is not None)


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


async def send_status(bot, rt: Runtime, job: Job) -> Job:
    """The first "🎼 composing ..." message; its id goes into the job record."""
    text = status_text(job, job.lang, position_of(rt, job))
    message = await send(
        bot.send_message, chat_id=job.chat_id, text=text, reply_parameters=reply_to(job.message_id)
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
                chat_id=job.chat_id,
                text=text,
                reply_parameters=reply_to(job.message_id),
            )
    except TelegramError as error:
        logger.warning("job=%s apology not sent: %r", job.id, error)


def log_job(job: Job, **extra: Any) -> None:
    """One structured line per finished job, with the time spent in each stage."""
    metrics.job_finished(job.state, job.timings)
    job_log.info(
        json.dumps(
            {
                "event": "job",
                "job": job.id,
                "state": job.state,
                "user": job.user_id,
                "chat": job.chat_id,
                "style": job.request.get("style"),
                "seed": job.seed,
                "failures": job.failures,
                "parent": job.parent_id,
                "error": job.error,
                "timings": job.timings,
                **extra,
            },
            ensure_ascii=False,
        )
    )


# -- wiring --


async def post_init(app: Application) -> None:
    """Register the command list, start the queue, resume unfinished jobs."""
    for lang, code in ((EN, None), (RU, "ru")):
        commands = [BotCommand(name, description) for name, description in COMMANDS[lang]]
        await app.bot.set_my_commands(commands, language_code=code)
    await queue.start()
    rt = runtime(app)
    if rt.settings.metrics_port and app.job_queue:
        app.job_queue.run_repeating(update_gauges, interval=5, first=1)
    unfinished = rt.store.active()
    for job in unfinished:
        start_runner(app, job.id)
    logger.info(
        "Isadei is up as @%s; resumed %d unfinished job(s)", app.bot.username, len(unfinished)
    )


async def update_gauges(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Jobs per state, for /metrics (read here, on the event loop: SQLite is not shared)."""
    rt = runtime(context.application)
    counts = rt.store.count_active()
    for state in (QUEUED, COMPOSING, RENDERING, SENDING):
        metrics.bot_active.labels(state).set(counts.get(state, 0))
    if not rt.settings.embedded:
        metrics.redis_up.set(1 if await queue.ping() else 0)


async def post_stop(app: Application) -> None:
    """Stop the runners; their jobs stay in the records and resume on the next start."""
    tasks = list(runtime(app).runners.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def post_shutdown(app: Application) -> None:
    """Close the queue and the job records."""
    await queue.broker.shutdown()
    runtime(app).store.close()


class RedactingFormatter(logging.Formatter):
    """Never let the bot token into the logs (httpx logs URLs that contain it)."""

    def __init__(self, secrets: list[str], fmt: str):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


def setup_logging(settings: Settings, token: str) -> None:
    handler = logging.StreamHandler()
    secrets = [token, token.partition(":")[2]]
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret.get_secret_value())
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    logging.captureWarnings(True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # INFO lines carry the token in URLs
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    sys.excepthook = lambda *exc: logging.getLogger("isadei").critical("crashed", exc_info=exc)


def build_application(settings: Settings) -> Application:
    """The PTB Application with every handler wired (no network until it runs)."""
    assert settings.token is not None
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)  # one slow handler must not hold up the others
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.api_url:
        builder = builder.base_url(settings.api_url)
    if settings.file_url:
        builder = builder.base_file_url(settings.file_url)
    app = builder.build()
    app.bot_data["rt"] = Runtime(settings=settings, store=JobStore(settings.db_path))

    private = (
        filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    )
    groups = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("styles", styles_command))
    app.add_handler(CommandHandler("compose", compose_command))
    app.add_handler(CommandHandler("cancel", cancel_command))
    app.add_handler(CommandHandler("stats", stats_command))
    app.add_handler(MessageHandler(private, private_text))
    app.add_handler(MessageHandler(groups, group_text))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(InlineQueryHandler(inline_query))
    app.add_error_handler(on_error)
    return app


def main() -> None:
    """`isadei bot`: run the bot with long polling until Ctrl-C or SIGTERM."""
    settings = Settings()
    if settings.token is None or not settings.token.get_secret_value().strip():
        print(BOTFATHER_HELP, file=sys.stderr)
        sys.exit(2)
    setup_logging(settings, settings.token.get_secret_value())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.webhook and not valid_secret(settings):
        print(WEBHOOK_SECRET_HELP, file=sys.stderr)
        sys.exit(2)
    app = build_application(settings)
    logger.info(
        "starting (data in %s, %s mode, %s)",
        settings.data_dir,
        "embedded" if settings.embedded else "distributed",
        "webhook" if settings.webhook else "polling",
    )
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    if settings.webhook:
        assert settings.webhook_url and settings.webhook_secret
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


WEBHOOK_SECRET_HELP = (
    "isadei bot: ISADEI_WEBHOOK_URL is set, so ISADEI_WEBHOOK_SECRET must be too: 1-256 "
    "characters A-Z a-z 0-9 _ -. Telegram sends it with every update, and updates without it "
    "are refused, so nobody else can post fake updates to the bot. Make one with\n"
    "    python -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


def valid_secret(settings: Settings) -> bool:
    """Telegram's rule for a webhook secret token."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return bool(re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret))


if __name__ == "__main__":
    main()
