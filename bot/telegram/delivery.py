"""Delivery of a finished song: audio (with its caption, buttons and cover art), MIDI, the
sheet music preview, then the whole score: the PDF and the MusicXML together, as one album.

Each part is recorded once sent (its Telegram file_id), so a job resumed after a restart
sends only what is missing; a song Telegram already has is sent again by file_id. In embedded
mode the audio goes out as soon as the MP3 is ready (send_early_audio, from the runner), with
a caption from what is known then; delivery completes that caption once the record is there.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, BinaryIO

from telegram import InputMediaDocument
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import Application

from bot import metrics
from bot.queue.results import open_early_audio
from bot.telegram.jobs import ACTIVE, DONE, SENDING, Job
from bot.telegram.runtime import runtime
from bot.telegram.sending import UPLOAD_TIMEOUT_S, chat_action, reply_to, send, to_chat
from bot.telegram.sharing import edit_inline_song
from bot.telegram.status import remove_status, show_status
from bot.telegram.texts import t
from bot.telegram.words import caption_of, record_of, song_keyboard, title_of

job_log = logging.getLogger("isadei.jobs")
logger = logging.getLogger("isadei.bot")


async def deliver(app: Application, job: Job, reuse: Job | None) -> None:
    """Send what is missing of audio, MIDI and sheet music; then tidy the status message."""
    rt, bot = runtime(app), app.bot
    began = time.monotonic()
    job = rt.store.update(job.id, state=SENDING)
    await show_status(bot, rt, job)
    result = job.result or {}
    audio_at = job.timings.get("to_audio")
    if job.audio_file_id is None:
        audio = reuse.audio_file_id if reuse else Path(result["mp3"])
        cover = None if reuse else existing(result.get("cover"))  # a file_id keeps its own
        job = await send_audio(app, job, audio, title_of(job), result.get("duration_seconds"),
                               cover)
        audio_at = round(time.time() - job.created_at, 3)
    elif job.caption_pending:  # sent early: now the caption can say all (form, meter...)
        job = await complete_caption(app, job)
    quiet = {  # MIDI and sheet music: under the audio, without a second notification
        **to_chat(job),
        "reply_parameters": reply_to(job.audio_message_id),
        "disable_notification": True,
    }
    if job.midi_file_id is None:
        midi = reuse.midi_file_id if reuse else Path(result["midi"])
        name = Path(result.get("midi") or "song.mid").name
        message = await send(bot.send_document, document=midi, filename=name, **quiet)
        job = rt.store.update(job.id, midi_file_id=message.document.file_id)
    if job.sheet_file_id is None:
        sheet = reuse.sheet_file_id if reuse else Path(result["png"])
        try:
            message = await send(bot.send_photo, photo=sheet, **quiet)
            file_id = message.photo[-1].file_id
        except BadRequest:  # too tall for a photo (or a document's file_id): send it as a file
            message = await send(bot.send_document, document=sheet, **quiet)
            file_id = message.document.file_id
        job = rt.store.update(job.id, sheet_file_id=file_id)
    if job.pdf_file_id is None or job.musicxml_file_id is None:
        job = await send_score(app, job, reuse, quiet)
    finished = time.time()
    timings = {
        **job.timings,
        "sending": round(time.monotonic() - began, 3),
        "total": round(finished - job.created_at, 3),
    }
    if audio_at is not None:
        timings["to_audio"] = audio_at
    job = rt.store.update(job.id, state=DONE, finished_at=finished, timings=timings)
    await remove_status(bot, rt, job)
    log_job(job, reused=reuse is not None)


async def send_audio(app: Application, job: Job, audio: Any, title: str,
                     seconds: float | None, cover: Path | None, early: bool = False,
                     filename: str | None = None) -> Job:
    """The audio with its caption and buttons (a path, bytes or a file_id), recorded as sent;
    `early`: before the song's record, so its caption is completed on delivery."""
    rt, bot, lang = runtime(app), app.bot, job.lang
    await chat_action(bot, job, ChatAction.UPLOAD_VOICE)
    message = await send(
        bot.send_audio,
        **to_chat(job),
        audio=audio,
        title=title,
        performer="Isadei",
        duration=int(round(seconds or 0)),
        caption=caption_of(job, lang, title if early else None),
        reply_markup=song_keyboard(job, lang),
        reply_parameters=reply_to(job.message_id),
        thumbnail=cover,
        filename=filename,
    )
    job = rt.store.update(job.id, audio_file_id=message.audio.file_id,
                          audio_message_id=message.message_id, caption_pending=int(early))
    await edit_inline_song(app, job)  # a song asked for from inline mode: into its message
    return job


async def send_early_audio(app: Application, job: Job, name: str) -> Job:
    """The MP3 the moment it is ready, while the sheet music is still being written: its
    title from its own tags (the song's title), the rest of the caption from the request.
    The cover is not made yet: this audio goes without a thumbnail."""
    handle = open_early_audio(runtime(app).settings.songs_dir / job.id, name)
    if handle is None:  # the attempt failed after the MP3: a retry, or an apology, follows
        return job
    with handle:  # bytes, read now: the file moves when the job's folder is renamed
        title, seconds = mp3_facts(handle)
        data = handle.read()
    if not title:  # no tags: what was asked for, as a title ("A sad waltz in D minor")
        title = title_of(job)[:1].upper() + title_of(job)[1:]
    length = job.request.get("length_seconds")
    return await send_audio(app, job, data, title, seconds or length, None, early=True,
                            filename=name)


def mp3_facts(handle: BinaryIO) -> tuple[str | None, float | None]:
    """The title in an MP3's tags and its length; (None, None) where they cannot be read."""
    from mutagen.mp3 import MP3

    try:
        mp3 = MP3(handle)
        title = mp3.tags.get("TIT2") if mp3.tags else None
        return (str(title.text[0])[:64] if title and title.text else None), mp3.info.length
    except Exception as error:  # MutagenError and the like: the request stands in
        logger.debug("MP3 tags not read: %r", error)
        return None, None
    finally:
        handle.seek(0)  # the upload is read from the start


async def complete_caption(app: Application, job: Job) -> Job:
    """An early audio's caption, now from the song's record (key, tempo, meter, form)."""
    rt = runtime(app)
    try:
        await send(app.bot.edit_message_caption, chat_id=job.chat_id,
                   message_id=job.audio_message_id, caption=caption_of(job, job.lang),
                   reply_markup=song_keyboard(job, job.lang))
    except BadRequest as error:  # "not modified" (edited before a restart), or deleted
        logger.info("job=%s: caption not completed: %s", job.id, error)
    job = rt.store.update(job.id, caption_pending=0)
    await edit_inline_song(app, job)
    return job


SCORE_FILES = (("pdf", "pdf_file_id"), ("musicxml", "musicxml_file_id"))


async def send_score(app: Application, job: Job, reuse: Job | None, quiet: dict) -> Job:
    """The whole score: the PDF (every page, to print) and the MusicXML (for MuseScore and
    the like) as one album of two documents, each with a caption saying what it is for.

    One album, not two loose messages: the pair reads as one thing under the song (the MIDI
    stays the only loose document), and it is one call, so it is sent, and recorded, whole.
    A result from before these files existed has none: nothing is sent.
    """
    rt, result, lang = runtime(app), job.result or {}, job.lang
    record = record_of(job)
    captions = {
        "pdf": t(lang, "score_pdf", count=max(1, record.score_pages if record else 0)),
        "musicxml": t(lang, "score_musicxml"),
    }
    items = []  # (job field, source: a file_id or a path, caption, file name)
    for kind, field in SCORE_FILES:
        source = getattr(reuse, field, None) or existing(result.get(kind))
        if getattr(job, field) is None and source is not None:
            name = Path(result[kind]).name if result.get(kind) else None
            items.append((field, source, captions[kind], name))
    if not items:
        return job
    if len(items) == 1:  # an album needs two: one alone goes as a plain document
        _, source, caption, name = items[0]
        messages = [await send(app.bot.send_document, document=source, caption=caption,
                               filename=name, **quiet)]
    else:
        # Bytes, not paths: PTB turns a path in an album into a file:// URI, which only a
        # local Bot API server can open (the files are small: ~50 kB of MusicXML, a PDF).
        media = [InputMediaDocument(source.read_bytes() if isinstance(source, Path) else source,
                                    caption=caption, filename=name)
                 for _, source, caption, name in items]
        messages = await send(app.bot.send_media_group, media=media, **quiet,
                              read_timeout=UPLOAD_TIMEOUT_S, write_timeout=UPLOAD_TIMEOUT_S)
    sent = {item[0]: message.document.file_id
            for item, message in zip(items, messages, strict=True)}
    return rt.store.update(job.id, **sent)


def existing(path: str | None) -> Path | None:
    """The file at `path` if there is one (a job's files may be gone after retention)."""
    return Path(path) if path and Path(path).is_file() else None


def log_job(job: Job, **extra: Any) -> None:
    """One structured line per finished job, with the time spent in each stage; metrics."""
    metrics.bot_jobs.labels(job.state).inc()
    for stage in (*ACTIVE, "total"):
        if isinstance(job.timings.get(stage), int | float):
            metrics.bot_stage_seconds.labels(stage).observe(job.timings[stage])
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
