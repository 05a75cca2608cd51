"""Embedded mode: the compose task runs in the bot's own process.

The blocking, CPU-heavy composing runs in a thread pool (ISADEI_COMPOSE_SLOTS threads), so
the event loop stays responsive. The task is idempotent by job id: a job whose files are
already there gets them again, composed once. Its progress says the stage ("composing",
"rendering") and, as soon as the MP3 is ready, {"stage": "rendering", "audio": <file name>}:
the runner sends the audio before the other files are written (bot/telegram/runner.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from taskiq import AsyncBroker, TaskiqDepends
from taskiq.depends.progress_tracker import ProgressTracker, TaskState

from bot.queue.keys import TASK_NAME
from bot.queue.results import read_manifest, scratch_of, write_result
from bot.settings import Settings
from composer.request import SongRequest
from composer.song import RENDERING

logger = logging.getLogger("isadei.queue")


def compose_files(request: dict[str, Any], seed: int, out_dir: Path,
                  on_stage: Callable[[str], None] | None = None,
                  on_audio: Callable[[Path], None] | None = None) -> dict:
    """Compose and render one song into out_dir (blocking); returns the job's result dict.

    Writes into a scratch folder first and renames it, so out_dir holds a whole song or nothing.
    `on_audio(mp3)` hears of the MP3 in the scratch folder as soon as it is there.
    """
    from composer.pipeline import compose_to_files  # torch: only when a song is composed here

    scratch = scratch_of(out_dir)
    song = SongRequest.from_json(request)
    rendered = compose_to_files(song, scratch, seed=seed, on_stage=on_stage, on_audio=on_audio)
    return write_result(rendered, scratch, out_dir)


def warm_in_background() -> threading.Thread:
    """Load torch, the model and the SoundFont in a daemon thread: the bot answers meanwhile,
    and its first song does not pay for them (a song that comes first shares the loading)."""

    def warm() -> None:
        try:
            from bot.queue.engine import warm_renderer
            from composer.compose import networks

            networks()
            warm_renderer()
            logger.info("warm: the model and the SoundFont are loaded")
        except Exception:  # the first song loads them itself, and says what is wrong
            logger.exception("warming up failed")

    thread = threading.Thread(target=warm, name="warm", daemon=True)
    thread.start()
    return thread


def register_compose_task(broker: AsyncBroker, settings: Settings) -> ThreadPoolExecutor:
    """Register "compose job <id> → files" on an in-memory broker; returns its thread pool."""
    pool = ThreadPoolExecutor(max(1, settings.compose_slots), thread_name_prefix="compose")
    songs_dir = settings.songs_dir

    async def compose_job(
        job_id: str,
        request: dict[str, Any],
        seed: int,
        progress: ProgressTracker[Any] = TaskiqDepends(),  # noqa: B008 (taskiq idiom)
    ) -> Any:  # the result dict (Any: taskiq then leaves failed results alone)
        """Compose job <id> → files (idempotent: a job's finished files are reused)."""
        out_dir = songs_dir / job_id
        done = read_manifest(out_dir)
        if done is not None:
            return {**done, "reused": True}
        loop = asyncio.get_running_loop()

        def report(meta: str | dict[str, str]) -> None:  # called from the composing thread
            asyncio.run_coroutine_threadsafe(progress.set_progress(TaskState.STARTED, meta), loop)

        def on_audio(mp3: Path) -> None:  # the reply can go out before the sheet music
            report({"stage": RENDERING, "audio": mp3.name})

        return await loop.run_in_executor(pool, compose_files, request, seed, out_dir, report,
                                          on_audio)

    broker.register_task(compose_job, task_name=TASK_NAME)
    return pool
