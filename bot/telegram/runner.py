"""The job runner: one asyncio task per job takes it from its record through the queue to the
chat, resuming wherever it stopped (a restarted bot starts one for every unfinished job).

Runners are plain asyncio tasks (not Application.create_task, which would hold up shutdown
until every queued song is done); their errors go to the one error handler, with the job id.

In embedded mode the audio goes out as soon as the composer says the MP3 is ready, before the
sheet music is written (delivery.send_early_audio); the rest follows when the job is done.
Redis mode sends everything when the job is done (its workers report no early MP3).

Every phase has a deadline, so no job waits forever and every user hears back: waiting in
line (a compose slot, a worker) ISADEI_QUEUE_TIMEOUT_S, working ISADEI_JOB_TIMEOUT_S (twice
that in distributed mode, the worker's own timeout comes first), fetching the files the Redis
socket timeouts, sending the upload timeouts of sending.py. A job that crashed the bot
process twice while it was being composed here is apologised for instead of resumed again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from telegram.constants import ChatAction
from telegram.error import Forbidden
from telegram.ext import Application

from bot.queue.client import LostResult, Progress, QueueUnavailable
from bot.queue.keys import task_id
from bot.telegram import housekeeping
from bot.telegram.delivery import deliver, log_job, send_early_audio
from bot.telegram.jobs import CANCELLED, COMPOSING, FAILED, QUEUED, RENDERING, Job
from bot.telegram.runtime import Runtime, runtime
from bot.telegram.sending import chat_action
from bot.telegram.status import (
    apologise,
    edit_status,
    position_of,
    send_status,
    show_status,
    waiting_ids,
)
from bot.telegram.texts import clip, t
from bot.telegram.words import describe

logger = logging.getLogger("isadei.bot")

POLL_S = 0.5  # how often a runner looks at the queue and the task's progress
HERE_POLL_S = 0.1  # the same while its song is composed here: a look costs nothing
POSITION_S = 3.0  # distributed: how often "you are N-th in line" may change
BUSY_RETRY_S = 2.0  # how often a runner tries the queue again while Redis is away
CHAT_ACTION_S = 4.0  # a chat action shows for ~5 s: repeat it while working
CRASHES_TO_GIVE_UP = 2  # a job that crashed the bot this often is not resumed again
WAITED_TOO_LONG = "waited too long in line"  # not retried: another try would wait as long


def start_runner(app: Application, job_id: str) -> None:
    """Run a job in its own task (one per job, the same for new and resumed jobs)."""
    rt = runtime(app)
    if job_id in rt.runners:
        return
    task = asyncio.create_task(guarded_run(app, job_id), name=f"job-{job_id}")
    rt.runners[job_id] = task
    task.add_done_callback(lambda _: rt.runners.pop(job_id, None))
    housekeeping.maybe_clean(rt)  # retention: at most once per interval, in the background


async def guarded_run(app: Application, job_id: str) -> None:
    """run_job; a job that breaks is marked failed, and the error goes to the error handler."""
    rt = runtime(app)
    try:
        await run_job(app, job_id)
    except Exception as error:
        job = rt.store.get(job_id)
        if job is not None and job.active:
            await give_up(app, job, repr(error), tell=not isinstance(error, Forbidden))
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
    if job.in_process:  # the last bot process died while composing it, here
        job = rt.store.update(job.id, in_process=0, crashes=job.crashes + 1)
        logger.warning("job=%s: the bot died while composing it (%d time(s))", job.id, job.crashes)
        if job.crashes >= CRASHES_TO_GIVE_UP:
            await give_up(app, job, f"crashed the bot {job.crashes} times: not resumed again")
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
    if job.state == CANCELLED:  # /cancel while its result was being fetched: not sent
        return
    await deliver(app, job, reuse)  # (no await since the check: nothing can cancel it now)


async def give_up(app: Application, job: Job, error: str, tell: bool = True) -> None:
    """The job ends failed, the user gets an apology (with the job id), the slot is free."""
    rt = runtime(app)
    job = rt.store.update(job.id, state=FAILED, finished_at=time.time(), error=clip(error, 500))
    log_job(job)
    if tell:
        await apologise(app.bot, rt, job)


def queue_deadline(rt: Runtime, job: Job) -> float:
    """When a job still waiting in line is given up (wall clock: it survives restarts)."""
    return (job.started_at or job.created_at) + rt.settings.queue_timeout_s


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
            ("pdf", job.pdf_file_id),
            ("musicxml", job.musicxml_file_id),
        )
        if not sent
    ]
    # A result from before the PDF and the MusicXML existed names none: nothing to send there.
    return all(
        Path(job.result[name]).exists() if job.result.get(name) else name in ("pdf", "musicxml")
        for name in needed
    )


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
        if time.time() > queue_deadline(rt, job):
            await give_up(app, job, WAITED_TOO_LONG)
            return None
        await show_status(app.bot, rt, job, position_of(rt, job))
        await asyncio.sleep(POLL_S)
    rt.running.add(job.id)
    rt.store.update(job.id, in_process=1)  # composed in this process: a crash leaves it set
    try:
        return await compose_attempts(app, job)
    finally:  # also on a clean stop (the runner is cancelled): not a crash
        rt.running.discard(job.id)
        rt.store.update(job.id, in_process=0)


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
        if error == WAITED_TOO_LONG:
            break
    await give_up(app, job, job.error or "failed")
    return None


def start_work(rt: Runtime, job: Job, state: str, timings: dict[str, float]) -> Job:
    """The job leaves the line: note how long it waited (first attempt only) and when."""
    now = time.time()
    timings.setdefault("queued", round(now - job.created_at, 3))
    return rt.store.update(job.id, state=state, started_at=job.started_at or now, timings=timings)


def add_result_timings(timings: dict[str, float], value: dict[str, Any] | None) -> None:
    """The composer's and the worker's own stage timings, into the job's."""
    for prefix, name in (("composer", "timings"), ("worker", "worker_timings")):
        for stage, seconds in ((value or {}).get(name) or {}).items():
            timings[f"{prefix}.{stage}"] = round(float(seconds), 3)


async def run_attempt(
    app: Application, job: Job, attempt: int
) -> tuple[dict[str, Any] | None, str | None]:
    """Put one attempt on the queue (unless it is there already) and follow it to its end,
    keeping the status message current: (files, None), (None, error), or (None, None) when
    the user cancelled it. While the queue is unreachable the user is told we are busy."""
    rt, bot = runtime(app), app.bot
    settings = rt.settings
    tid = task_id(job.id, attempt)
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
    early = False  # the early audio was tried in this attempt (once is enough)
    while True:
        job = rt.store.get(job.id)
        if job is None or job.state == CANCELLED:
            if job is not None:
                await rt.queue.cancel(job.id)
            return None, None
        # The deadlines, checked first: also while Redis is away (then nothing else runs).
        if stage is None and time.time() > queue_deadline(rt, job):
            await rt.queue.cancel(job.id)  # a worker that takes it later skips it
            return None, WAITED_TOO_LONG
        if stage is not None and time.monotonic() - began > timeout:
            timings[stage] = round(time.monotonic() - stage_start, 3)
            rt.store.update(job.id, timings=timings)
            return None, "timed out"
        try:
            progress = await rt.queue.poll(tid)
            if not progress.ready and not progress.queued:
                final = attempt >= settings.retries
                await rt.queue.submit(job.id, job.request, job.seed, attempt, final)
                progress = Progress(ready=False, stage=None, queued=True)
            outcome = await rt.queue.fetch(tid, job.id) if progress.ready else None
        except LostResult:
            logger.warning("job=%s: the files of %s are gone; composing it again", job.id, tid)
            await rt.queue.forget(tid)
            continue
        except QueueUnavailable as error:
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
            add_result_timings(timings, value)
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
        if progress.audio and not early:  # the MP3 is ready: the user need not wait for the rest
            early = True
            if job.audio_file_id is None:  # (not if sent before a restart)
                job = await send_early_audio(app, job, progress.audio)
                if job.audio_file_id is not None:
                    timings["to_audio"] = round(time.time() - job.created_at, 3)
                    job = rt.store.update(job.id, timings=timings)
            continue  # poll again at once: the job may be done meanwhile
        if stage is not None and time.monotonic() - last_action >= CHAT_ACTION_S:
            last_action = time.monotonic()
            await chat_action(bot, job, ChatAction.RECORD_VOICE)
        await asyncio.sleep(HERE_POLL_S if settings.embedded else POLL_S)


