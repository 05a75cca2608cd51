"""Sharing songs: deep links (t.me/<bot>?start=...) that start a style or replay a shared song,
the inline results a Share button or "@bot words" offers, and a song composed from inline mode
for a chat the bot is not in (the audio is edited into the inline message when it is ready).

A song composed for an inline message is a job like any other, made in the user's private
chat with the bot (Telegram only lets a bot edit an inline message with a file it already
has); its source "in:<inline_message_id>" says which inline message waits for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedAudio,
    InputMediaAudio,
    InputTextMessageContent,
)
from telegram.error import TelegramError
from telegram.ext import Application

from bot.telegram.jobs import FAILED, Job
from bot.telegram.runtime import runtime
from bot.telegram.sending import send
from bot.telegram.texts import clip, style_label, t
from bot.telegram.words import SHARE_PREFIX, caption_of, job_request, request_of, title_of
from composer import naming
from composer.request import SongRequest, parse
from composer.styles import STYLES

logger = logging.getLogger("isadei.bot")

SONG_LINK, STYLE_LINK = "song_", "style_"  # deep-link payloads: "song_j0123456789"
INLINE_SOURCE = "in:"
COMPOSE_RESULT = "compose:"  # the inline result that composes the query's words
WATCH_S = 1.0  # how often a watcher looks whether an inline song failed
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def deep_link(username: str, payload: str) -> str:
    """ "https://t.me/isadei_bot?start=song_j0123456789" (payloads: 1-64 of A-Za-z0-9_-)."""
    assert _PAYLOAD.fullmatch(payload), payload
    return f"https://t.me/{username}?start={payload}"


def read_payload(payload: str) -> tuple[str, str] | None:
    """ "song_j0123456789" → ("song", "j0123456789"); "style_waltz" → ("style", "waltz")."""
    if payload.startswith(SONG_LINK) and re.fullmatch(r"j[0-9a-f]{10}", payload[5:]):
        return "song", payload[len(SONG_LINK):]
    if payload.startswith(STYLE_LINK) and payload[len(STYLE_LINK):] in STYLES:
        return "style", payload[len(STYLE_LINK):]
    return None


def compose_own_markup(username: str, job: Job, lang: str) -> InlineKeyboardMarkup:
    """Under a shared song: open the bot, which replays the song and composes more."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        t(lang, "btn_compose_own"), url=deep_link(username, SONG_LINK + job.id))]])


def shared_caption(username: str, job: Job, lang: str) -> str:
    link = deep_link(username, SONG_LINK + job.id)
    return clip(caption_of(job, lang) + "\n" + t(lang, "shared_caption", bot=username,
                                                    link=link), 1000)


def shared_song(username: str, job: Job, lang: str) -> InlineQueryResultCachedAudio:
    return InlineQueryResultCachedAudio(
        id=f"song:{job.id}", audio_file_id=job.audio_file_id,
        caption=shared_caption(username, job, lang),
        reply_markup=compose_own_markup(username, job, lang))


def inline_results(rt, user_id: int, text: str, lang: str, username: str) -> list:
    """What "@bot words" offers: the song a Share button names (or the user's songs that
    match), "compose this" for the words, and the styles."""
    if text.startswith(SHARE_PREFIX):
        job = rt.store.get(text[len(SHARE_PREFIX):].strip())
        mine = job is not None and job.user_id == user_id and job.audio_file_id
        return [shared_song(username, job, lang)] if mine else []
    songs = rt.store.recent_songs(user_id, limit=20)
    terms = [w for w in text.lower().split() if len(w) > 2]
    matching = [job for job in songs if any(
        w in title_of(job, lang).lower() or w in str(job.request.get("text", "")).lower()
        for w in terms)]
    results: list = [shared_song(username, job, lang) for job in (matching or songs)[:10]]
    if text:
        what = naming.describe(parse(text, lang), lang)
        key = hashlib.sha1(text.encode()).hexdigest()[:16]
        results.insert(0, InlineQueryResultArticle(
            id=COMPOSE_RESULT + key,
            title=clip(t(lang, "inline_compose", text=text), 100),
            description=t(lang, "inline_compose_desc"),
            input_message_content=InputTextMessageContent(
                clip(t(lang, "inline_composing", what=what), 4000)),
            # A keyboard makes Telegram report the inline_message_id (ChosenInlineResult).
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
                "Isadei", url=f"https://t.me/{username}")]]),
        ))
    for sid in STYLES:
        results.append(InlineQueryResultArticle(
            id=f"style:{sid}", title=style_label(lang, sid),
            description=t(lang, "inline_style_desc", what=naming.describe(
                SongRequest(style=sid), lang)),
            input_message_content=InputTextMessageContent(f"🎼 {sid}"),
        ))
    return results[:50]


def inline_message_id(job: Job) -> str | None:
    return job.source[len(INLINE_SOURCE):] if job.source.startswith(INLINE_SOURCE) else None


async def edit_inline_song(app: Application, job: Job) -> None:
    """Put the finished song into the inline message that asked for it."""
    message_id = inline_message_id(job)
    if message_id is None or job.audio_file_id is None:
        return
    username = app.bot.username
    try:
        await send(app.bot.edit_message_media, inline_message_id=message_id,
                   media=InputMediaAudio(job.audio_file_id, caption=shared_caption(
                       username, job, job.lang), title=title_of(job), performer="Isadei"),
                   reply_markup=compose_own_markup(username, job, job.lang))
    except TelegramError as error:  # the message was deleted, or is too old to edit
        logger.warning("job=%s: inline message not edited: %r", job.id, error)


async def watch_inline_job(app: Application, job_id: str) -> None:
    """If an inline song fails, say so in its inline message (success: delivery edits it)."""
    rt = runtime(app)
    while True:
        job = rt.store.get(job_id)
        if job is None or not job.active:
            break
        await asyncio.sleep(WATCH_S)
    if job is not None and job.state == FAILED and (message_id := inline_message_id(job)):
        try:
            await send(app.bot.edit_message_text, inline_message_id=message_id,
                       text=t(job.lang, "inline_failed"))
        except TelegramError as error:
            logger.warning("job=%s: inline failure not shown: %r", job.id, error)


def replay_request(parent: Job) -> tuple[dict, int]:
    """A shared song, again: the same request and seed make the same song (and the runner
    sends Telegram's copies of its files: nothing is composed)."""
    return job_request(request_of(parent)), parent.seed
