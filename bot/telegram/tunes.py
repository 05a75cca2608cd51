"""A user's own tune becomes a song: a voice message, an audio file, an .abc or .mid document,
or ABC or note names written in a message. The handlers (handlers.py) decide whether a
message is meant for the bot; here the file is checked and fetched, heard (composer.listen,
in a thread: the event loop never waits for it), shown back ("I heard 14 notes in G major,
3/4, about 96 bpm" under a small sheet of the tune) and made into a job whose request
carries the tune (SongRequest.tune): the usual path composes the song around it, and the
buttons under the song keep it.

Bad input (silence, speech, a clip too short or too long, a file too big, damaged or not
music, a MIDI file with no notes or a million, broken ABC) gets one friendly line in the
user's language, and nothing else happens.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.telegram.intake import accept, parse_request, refusal, user_lang
from bot.telegram.runtime import runtime
from bot.telegram.sending import reply_to, send
from bot.telegram.texts import t
from bot.telegram.user_settings import UserSettings, user_settings
from composer import naming
from composer.heard import Heard, TuneInputError
from composer.request import style_said
from composer.tune_sheet import tune_sheet_png
from composer.written import written_tune

logger = logging.getLogger("isadei.bot")

MAX_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram (and listen reads)
MAX_SECONDS = 61  # Telegram rounds a clip's length; listen itself refuses over 60 s
DOWNLOAD_TIMEOUT_S = 60.0
LISTENING = asyncio.Semaphore(2)  # tunes heard at once: each takes a core for ~1 s
TURNS: dict[int, tuple[asyncio.Lock, int]] = {}  # user → (their turn, clips in line)
SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}")
MIME_SUFFIX = {"audio/midi": ".mid", "audio/x-midi": ".mid", "audio/mid": ".mid",
               "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a",
               "audio/ogg": ".ogg", "audio/wav": ".wav", "audio/x-wav": ".wav"}


@dataclass(frozen=True)
class Attachment:
    """The file of a message, as Telegram describes it before it is downloaded."""

    file_id: str
    name: str  # "tune.ogg": only its extension is the user's (it tells listen the kind)
    size: int | None
    seconds: int | None


def attachment_of(message: Message) -> Attachment | None:
    """The voice message, audio file or document of a message, if it has one."""
    if message.voice:
        voice = message.voice
        return Attachment(voice.file_id, "voice.ogg", voice.file_size, voice.duration)
    media = message.audio or message.document
    if media is None:
        return None
    suffix = Path(media.file_name or "").suffix
    if not SUFFIX.fullmatch(suffix):
        suffix = MIME_SUFFIX.get((media.mime_type or "").lower(), "")
    seconds = message.audio.duration if message.audio else None
    return Attachment(media.file_id, "tune" + suffix.lower(), media.file_size, seconds)


async def tune_message(update: Update, context: ContextTypes.DEFAULT_TYPE, words: str) -> None:
    """A message with a tune (its file, or ABC or note names in `words`) meant for the bot:
    hear it, show what was heard, compose a song around it; or say, kindly, why not."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    written = None if message.voice or message.audio or message.document else \
        written_tune(words)
    if written is not None:
        words = written[1]
    lang = user_lang(update, context, words)
    async with turn(user.id):  # one user's clips are heard one after another
        reason = refusal(runtime(context.application), user.id, lang)  # before any download
        if reason:
            await answer(update, context, reason, limited=True)
            return
        heard, style = await heard_or_told(update, context, written[0] if written else None,
                                           lang)
        if heard is None:
            return
        try:
            await show_heard(context, message, heard, lang)
        except Exception:  # showing it is a courtesy: the song comes anyway
            logger.exception("what was heard not shown in chat %s", message.chat_id)
        request = tune_request(heard, style, words, lang,
                               user_settings(context.application).get(user.id))
        _, reason = accept(context.application, update, request,
                           source=f"t:{message.chat_id}:{message.message_id}", lang=lang)
    if reason:
        await answer(update, context, reason, limited=True)


@asynccontextmanager
async def turn(user_id: int) -> AsyncIterator[None]:
    """One tune at a time per user (the next one waits, so a flood of clips takes one core
    at most, and the limits see the jobs the earlier ones made); forgotten when none wait."""
    lock, users = TURNS.get(user_id, (asyncio.Lock(), 0))
    TURNS[user_id] = (lock, users + 1)
    try:
        async with lock:
            yield
    finally:
        lock, users = TURNS[user_id]
        if users > 1:
            TURNS[user_id] = (lock, users - 1)
        else:
            del TURNS[user_id]


async def heard_or_told(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        written: str | None, lang: str) -> tuple[Heard | None, str]:
    """The tune and the style it suggests; or (None, "") once the user is told why not."""
    message = update.effective_message
    began = time.monotonic()
    try:
        async with LISTENING:
            await typing(message)
            heard, style = await hear(context, message, written)
    except TuneInputError as error:
        logger.info("tune refused user=%s chat=%s: %s (%s)", message.from_user.id,
                    message.chat_id, error.code, error)
        await answer(update, context, t(lang, f"tune_{error.code}"))
        return None, ""
    except Exception:  # a bug or a Telegram hiccup: the user hears about it, the bot goes on
        logger.exception("tune not heard in chat %s", message.chat_id)
        await answer(update, context, t(lang, "tune_failed"))
        return None, ""
    logger.info("heard chat=%s: %s (%.2f s)", message.chat_id, heard.summary(),
                time.monotonic() - began)
    return heard, style


async def hear(context: ContextTypes.DEFAULT_TYPE, message: Message,
               written: str | None) -> tuple[Heard, str]:
    """The tune of a message and the style it suggests. Raises TuneInputError."""
    if written is not None:
        return await asyncio.to_thread(listen_in_thread, written, None)
    attachment = attachment_of(message)
    if attachment is None:
        raise TuneInputError("unsupported", "There is no tune in that message.")
    if attachment.size and attachment.size > MAX_BYTES:  # refused before any download
        raise TuneInputError("too_big", "The file is over 20 MB.")
    if attachment.seconds and attachment.seconds > MAX_SECONDS:
        raise TuneInputError("too_long", "The recording is over a minute.")
    try:
        file = await context.bot.get_file(attachment.file_id, read_timeout=DOWNLOAD_TIMEOUT_S)
    except BadRequest as error:
        if "too big" in str(error).lower():
            raise TuneInputError("too_big", "Telegram says the file is too big.") from error
        raise
    data = await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_S)
    if len(data) > MAX_BYTES:
        raise TuneInputError("too_big", "The file is over 20 MB.")
    return await asyncio.to_thread(listen_in_thread, bytes(data), attachment.name)


def listen_in_thread(source: str | bytes, name: str | None) -> tuple[Heard, str]:
    """listen, and the style the tune suggests (off the event loop: both import heavy
    libraries on first use)."""
    from composer.listen import listen, listen_text

    heard = listen_text(source) if isinstance(source, str) else listen(source, filename=name)
    return heard, heard.style()


def tune_request(heard: Heard, style: str, words: str, lang: str,
                 defaults: UserSettings | None = None) -> dict[str, Any]:
    """The job's request: the words' wishes (style, instrument, length...) and the tune. Words
    that say no style get the style the tune suggests (3/4: a waltz, 6/8: a jig)."""
    request = parse_request(words, lang, defaults)
    if not style_said(words):
        request.update(style=style, notes=[])  # "no style recognised" would be wrong here
    request["tune"] = heard.to_dict()
    return request


async def show_heard(context: ContextTypes.DEFAULT_TYPE, message: Message, heard: Heard,
                     lang: str) -> None:
    """The tune as a small sheet, with "I heard 14 notes in G major, 3/4, about 96 bpm"; the
    words alone if the sheet cannot be drawn."""
    caption = t(lang, "heard", count=len(heard.notes), meter=heard.meter.name,
                tonality=naming.key_name(heard.key, heard.mode, lang), tempo=heard.tempo_bpm)
    where = {"chat_id": message.chat_id, "reply_parameters": reply_to(message.message_id),
             "message_thread_id": message.message_thread_id if message.is_topic_message else None}
    try:
        png = await asyncio.to_thread(tune_sheet_png, heard)
    except Exception:  # music21 or verovio on an odd tune: the words still say it
        logger.exception("no sheet for the heard tune in chat %s", message.chat_id)
        png = None
    if png is not None:
        await send(context.bot.send_photo, photo=png, caption=caption, **where)
    else:
        await send(context.bot.send_message, text=caption, **where)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                 limited: bool = False) -> None:
    """A short reply to the user's message (quoted in groups); limits at most once a minute."""
    message = update.effective_message
    if limited and not runtime(context.application).refusals.allow(update):
        return
    try:
        await message.reply_text(text, do_quote=message.chat.type != ChatType.PRIVATE)
    except TelegramError as error:
        logger.warning("reply not sent in chat %s: %r", message.chat_id, error)


async def typing(message: Message) -> None:
    try:
        await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError as error:  # cosmetic
        logger.debug("chat action failed: %r", error)
