"""What a job looks like in the chat: its description, the caption under a song, keyboards.

The song's facts come from its SongRecord (composer.song), the .json render wrote beside it;
before there is one (or if it cannot be read) the request stands in.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import composer.request
from bot.telegram.jobs import Job
from bot.telegram.texts import EN, RU, clip, style_label, t
from composer.request import SongRequest
from composer.song import SongRecord
from composer.styles import STYLES

logger = logging.getLogger("isadei.bot")


def describe(job: Job, lang: str, accusative: bool = False) -> str:
    """ "a sad waltz in D minor" / "грустный вальс в ре миноре" (accusative: "грустную ...",
    the Russian form after "сочиняю")."""
    try:
        request = SongRequest.from_json(job.request)
        if lang == RU:
            return composer.request.describe_ru(request, accusative=accusative)
        return composer.request.describe(request)
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


def title_of(job: Job) -> str:
    record = record_of(job)
    return clip(record.title if record else describe(job, EN), 64)


def caption_of(job: Job, lang: str) -> str:
    """Style, key, tempo, meter, instrument, form and seed under the audio."""
    record, request = record_of(job), job.request
    style = record.style if record else str(request.get("style") or "folk")
    key = record.key if record else request.get("key")
    mode = record.mode if record else request.get("mode")
    if lang == RU and mode in ("major", "minor"):
        mode = {"major": "мажор", "minor": "минор"}[mode]
    parts = [style_label(lang, style)]
    if key:
        parts.append(f"{key} {mode or ''}".strip())
    if tempo_of(job):
        parts.append(f"{tempo_of(job)} bpm")
    if record:
        parts.append(record.meter)
    instrument = record.instrument if record else request.get("instrument")
    if isinstance(instrument, str):
        parts.append(instrument)
    lines = [title_of(job), " · ".join(parts)]
    if record and record.form:
        lines.append(t(lang, "caption_form", form=clip(record.form_names, 300)))
    lines.append(t(lang, "caption_seed", seed=job.seed, job_id=job.id))
    return clip("\n".join(lines), 1000)


def styles_keyboard(lang: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(style_label(lang, sid), callback_data=f"style:{sid}") for sid in STYLES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def song_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    """The buttons under a song: their callback_data names the job (≤ 64 bytes)."""
    rows = [
        (("again", "again"), ("variation", "var")),
        (("longer", "long"), ("instrument", "inst")),
    ]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, f"btn_{name}"), callback_data=f"{action}:{job.id}")
                for name, action in row
            ]
            for row in rows
        ]
    )
