"""What a job looks like in the chat: its description, title, the caption under a song, the
keyboards — every word in the job's language (composer.naming, bot/telegram/texts.py).

The song's facts come from its SongRecord (composer.song), the .json render wrote beside it;
before there is one (or if it cannot be read) the request stands in.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.telegram.jobs import Job
from bot.telegram.texts import STYLE_EMOJI, clip, duration, style_label, t
from composer import naming
from composer.request import SongRequest
from composer.song import SongRecord
from composer.styles import STYLES

logger = logging.getLogger("isadei.bot")
SHARE_PREFIX = "share "  # the inline query a Share button starts: "share j0123456789"


def job_request(request: SongRequest) -> dict[str, Any]:
    """What a job record keeps of a request: SongRequest.to_json() plus the words and their
    language (the worker writes the sheet music's words in it)."""
    return {**request.to_json(), "text": request.text, "lang": request.lang}


def request_of(job: Job) -> SongRequest:
    return SongRequest.from_json(job.request)


def describe(job: Job, lang: str, accusative: bool = False) -> str:
    """ "a sad waltz in D minor" / "грустный вальс ре минор" (accusative: "колыбельную ...",
    the Russian form after "сочиняю")."""
    try:
        case = naming.ACCUSATIVE if accusative else naming.NOMINATIVE
        return naming.describe(request_of(job), lang, case)
    except Exception:  # a display string must never stop a job
        logger.exception("describe failed for %r", job.request.get("style"))
        return style_label(lang, str(job.request.get("style", "folk")))


def record_of(job: Job) -> SongRecord | None:
    """The song's record, once it is composed."""
    info = (job.result or {}).get("info")
    if not info:
        return None
    try:
        return SongRecord.from_json(info)
    except (KeyError, TypeError, ValueError) as error:  # a record from an older version
        logger.warning("job=%s: song record not readable: %r", job.id, error)
        return None


def tempo_of(job: Job) -> int | None:
    record = record_of(job)
    return record.tempo_bpm if record else job.request.get("tempo_bpm")


def title_of(job: Job, lang: str | None = None) -> str:
    """ "Waltz in D minor" / "Вальс ре минор", in the job's language."""
    lang = lang or job.lang
    record = record_of(job)
    if record is None:
        return clip(describe(job, lang), 64)
    return clip(naming.title(record.style, record.key, record.mode, lang), 64)


def caption_of(job: Job, lang: str, title: str | None = None) -> str:
    """Style, key, tempo, meter, instruments, length, form and seed under the audio (before
    the record: what the request and `title`, the MP3's own, say)."""
    record, request = record_of(job), request_of(job)
    style = record.style if record else request.style
    key = record.key if record else request.key
    mode = (record.mode if record else request.mode) or STYLES.get(style, STYLES["folk"]).modes[0]
    parts = [f"{STYLE_EMOJI.get(style, '🎵')} {naming.style_name(style, lang)}"]
    if key:
        parts.append(naming.key_name(key, mode, lang))
    if tempo_of(job):
        parts.append(t(lang, "caption_tempo", tempo=tempo_of(job)))
    if record:
        parts.append(record.meter)
    instrument = naming.instrument_name(record.instrument if record else request.instrument, lang)
    if instrument and request.accompaniment:
        instrument = t(lang, "caption_instruments", instrument=instrument,
                       accompaniment=naming.instrument_name(request.accompaniment, lang))
    if instrument:
        parts.append(instrument)
    seconds = record.duration_seconds if record else request.length_seconds
    if seconds:
        parts.append("⏱ " + duration(lang, seconds))
    lines = [title or title_of(job, lang), " · ".join(parts)]
    if record and record.form:
        names = " · ".join(naming.section_name(s.name, lang) for s in record.form)
        lines.append(t(lang, "caption_form", form=clip(names, 300)))
    lines.append(t(lang, "caption_seed", seed=str(job.seed), job_id=job.id))
    return clip("\n".join(lines), 1000)


def styles_keyboard(lang: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(style_label(lang, sid), callback_data=f"style:{sid}") for sid in STYLES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def share_button(job: Job, lang: str) -> InlineKeyboardButton:
    """Opens a chat picker; the chosen chat gets this song through inline mode."""
    return InlineKeyboardButton(
        t(lang, "btn_share"),
        switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat(
            query=SHARE_PREFIX + job.id, allow_user_chats=True, allow_bot_chats=False,
            allow_group_chats=True, allow_channel_chats=True),
    )


def song_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    """The buttons under a song: their callback_data names the job (≤ 64 bytes); the menus
    (bot/telegram/menus.py) open in place."""
    rows = [
        (("again", "again"), ("variation", "var"), ("longer", "long")),
        (("instrument", "menu:inst"), ("mood", "menu:mood")),
        (("key", "menu:key"), ("length", "menu:len")),
    ]
    keyboard = [
        [
            InlineKeyboardButton(t(lang, f"btn_{name}"), callback_data=f"{action}:{job.id}")
            for name, action in row
        ]
        for row in rows
    ]
    keyboard.append([share_button(job, lang)])
    return InlineKeyboardMarkup(keyboard)
