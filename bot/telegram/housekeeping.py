"""Retention: how long the bot keeps what it makes (ISADEI_KEEP_SONGS_DAYS for song folders,
ISADEI_KEEP_JOBS_DAYS for job records; a week each by default).

Runners ask for a clean-up as they start (`maybe_clean`); it runs at most once per
CLEAN_EVERY_S, in the background: job records finished before the limit, song folders older
than it (here and in the shared folder), and `.partial` folders of jobs no longer running.
Unfinished jobs are never touched. (Workers forget the names of gone workers themselves.)
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bot.telegram.runtime import Runtime

logger = logging.getLogger("isadei.bot")

CLEAN_EVERY_S = 3600.0
PARTIAL_GRACE_S = 60.0  # a .partial folder of a finished job may still be being renamed


@dataclass
class Cleaned:
    rows: int = 0
    songs: int = 0
    partial: int = 0


def maybe_clean(rt: Runtime) -> None:
    """Start a clean-up in the background unless one ran within CLEAN_EVERY_S."""
    now = time.monotonic()
    if rt.cleaned_at is not None and now - rt.cleaned_at < CLEAN_EVERY_S:
        return
    rt.cleaned_at = now
    task = asyncio.get_running_loop().create_task(clean(rt), name="housekeeping")
    rt.background.add(task)
    task.add_done_callback(finished(rt))


def finished(rt: Runtime):
    def done(task: asyncio.Task) -> None:
        rt.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("clean-up failed", exc_info=task.exception())

    return done


async def clean(rt: Runtime, now: float | None = None) -> Cleaned:
    """Delete what is past its retention; what was deleted."""
    now = time.time() if now is None else now
    settings = rt.settings
    rows = rt.store.purge(now - settings.keep_jobs_days * 86400)
    active = rt.store.active_ids()
    places = [settings.songs_dir]
    if settings.shared_dir:
        places.append(settings.shared_dir / "songs")
    songs_before = now - settings.keep_songs_days * 86400
    cleaned = Cleaned(rows=rows)
    for place in places:  # file system work off the event loop
        songs, partial = await asyncio.to_thread(
            clean_folder, place, active, songs_before, now - PARTIAL_GRACE_S
        )
        cleaned.songs += songs
        cleaned.partial += partial
    if rows or cleaned.songs or cleaned.partial:
        logger.info(
            "clean-up: %d job record(s), %d song folder(s), %d partial folder(s) deleted",
            rows, cleaned.songs, cleaned.partial,
        )
    return cleaned


def clean_folder(
    place: Path, active: set[str], songs_before: float, partial_before: float
) -> tuple[int, int]:
    """Delete song folders older than songs_before and .partial folders of finished jobs."""
    songs = partial = 0
    if not place.is_dir():
        return 0, 0
    for path in place.iterdir():
        job_id = path.name.removesuffix(".partial")
        try:
            if job_id in active:
                continue
            when = path.stat().st_mtime
            if path.name.endswith(".partial") and when < partial_before:
                shutil.rmtree(path, ignore_errors=True)
                partial += 1
            elif when < songs_before:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                songs += 1
        except OSError as error:  # gone meanwhile, or not ours to delete
            logger.debug("clean-up skipped %s: %s", path, error)
    return songs, partial
