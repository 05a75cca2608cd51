"""Embedded mode: the compose task runs in the bot's own process.

The blocking, CPU-heavy composing runs in a thread pool (ISADEI_COMPOSE_SLOTS threads), so
the event loop stays responsive. The task is idempotent by job id: a job whose files are
already there gets them again, composed once.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from taskiq import AsyncBroker, TaskiqDepends
from taskiq.depends.progress_tracker import ProgressTracker, TaskState

from bot.queue.keys import TASK_NAME
from bot.queue.results import read_manifest, scratch_of, write_result
from bot.settings import Settings
from composer.request import SongRequest


def compose_files(request: dict[str, Any], seed: int, out_dir: Path, on_stage=None) -> dict:
    """Compose and render one song into out_dir (blocking); returns the job's result dict.

    Writes into a scratch folder first and renames it, so out_dir holds a whole song or nothing.
    """
    from composer.pipeline import compose_to_files  # torch: only when a song is composed here

    scratch = scratch_of(out_dir)
    song = SongRequest.from_json(request)
    rendered = compose_to_files(song, scratch, seed=seed, on_stage=on_stage)
    return write_result(rendered, scratch, out_dir)


def register_compose_task(broker: AsyncBroker, settings: Settings) -> ThreadPoolExecutor:
    """Register "compose job <id> → files" on an in-memory broker; returns its thread pool."""
    pool = ThreadPoolExecutor(max(1, settings.compose_slots), thread_name_prefix="compose")
    songs_dir = settings.songs_dir

    async def compose_job(
        job_id: str,
        request: dict[str, Any],
        seed: int,
        progress: ProgressTracker[str] = TaskiqDepends(),  # noqa: B008 (taskiq idiom)
    ) -> Any:  # the result dict (Any: taskiq then leaves failed results alone)
        """Compose job <id> → files (idempotent: a job's finished files are reused)."""
        out_dir = songs_dir / job_id
        done = read_manifest(out_dir)
        if done is not None:
            return {**done, "reused": True}
        loop = asyncio.get_running_loop()

        def on_stage(stage: str) -> None:  # called from the composing thread
            asyncio.run_coroutine_threadsafe(progress.set_progress(TaskState.STARTED, stage), loop)

        return await loop.run_in_executor(pool, compose_files, request, seed, out_dir, on_stage)

    broker.register_task(compose_job, task_name=TASK_NAME)
    return pool
