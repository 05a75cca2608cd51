"""What a worker runs: load the model once, generate a batch of songs, render one song.

The functions live at module level because the render pool is spawned (a forked process
cannot use CUDA again): it pickles them by name. Imports of composer happen inside, so a
render process only pays for what rendering needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.queue.results import scratch_of, write_result

logger = logging.getLogger("isadei.worker")


@dataclass(frozen=True)
class Engine:
    load: Callable[[str], str]  # the device wish ("auto", "cpu", "cuda:1") → the device used
    generate: Callable[[list[dict], list[int]], list[Any]]  # one batched sampling run → songs
    render: Callable[[Any, str], dict]  # a song → its job folder at out_dir; the manifest
    warm: Callable[[], None] | None = None  # run once in each render process when it starts


def load_model(device: str = "auto") -> str:
    """Load the shipped model once and move it to the GPU when there is one.

    composer.compose.default_model also sets torch's CPU threads (ISADEI_TORCH_THREADS).
    """
    import torch

    from composer.compose import networks

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    for network in networks():  # cached: compose_many uses these very networks
        network.to(device)
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"cpu ({torch.get_num_threads()} threads)"


def generate_songs(requests: list[dict], seeds: list[int]) -> list[Any]:
    """All the songs' sections in one batched sampling run (composer.compose.compose_many)."""
    from composer.compose import compose_many
    from composer.request import SongRequest

    return compose_many([SongRequest.from_json(r) for r in requests], list(seeds))


def render_song(song: Any, out_dir: str) -> dict:
    """Arrange and render one Song into out_dir: MP3, MIDI, sheet music, JSON, manifest."""
    from composer.render import render

    out = Path(out_dir)
    scratch = scratch_of(out)
    return write_result(render(song, scratch), scratch, out)


def warm_renderer() -> None:
    """Import the renderer (music21, verovio) and load the SoundFont once per process, so
    the first song costs what every later one does."""
    import composer.audio
    import composer.render  # noqa: F401
    import composer.sheet  # noqa: F401

    composer.audio.warm()


REAL = Engine(load=load_model, generate=generate_songs, render=render_song, warm=warm_renderer)


def generate_each(
    generate: Callable[[list[dict], list[int]], list[Any]], requests: list[dict], seeds: list[int]
) -> list[Any]:
    """The batch in one run; if that fails, each song alone, so one bad request fails alone."""
    try:
        return list(generate(requests, seeds))
    except Exception as error:
        if len(requests) == 1:
            return [error]
        logger.warning("batch of %d failed (%r); generating one by one", len(requests), error)
    songs: list[Any] = []
    for request, seed in zip(requests, seeds, strict=True):
        try:
            songs.extend(generate([request], [seed]))
        except Exception as error:
            songs.append(error)
    return songs
