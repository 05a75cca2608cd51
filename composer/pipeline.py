"""The main job: text in, song files out (parse -> compose -> render)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from composer.compose import compose
from composer.heard import Heard
from composer.render import render
from composer.request import SongRequest, parse, style_said
from composer.song import COMPOSING, RENDERING, Rendered


def compose_to_files(request: SongRequest | str, out_dir: Path, seed: int | None = None,
                     progress: bool = False,
                     on_stage: Callable[[str], None] | None = None,
                     heard: Heard | None = None,
                     on_audio: Callable[[Path], None] | None = None) -> Rendered:
    """Write <slug>.mid/.mp3/.png/.json for one request into out_dir; with `heard`, the
    song is built around that tune (text with no style word: the style the tune suggests).
    `on_audio(mp3_path)` runs as soon as the MP3 is in place, before the other files."""
    def stage(name: str) -> None:
        if on_stage:
            on_stage(name)
        if progress:
            print(f"… {name}", flush=True)

    started = time.perf_counter()
    if isinstance(request, str):
        words, request = request, parse(request)
        if heard and not style_said(words):  # as the bot does: the tune's own style
            request.style, request.notes = heard.style(), []
    parsed = time.perf_counter()
    stage(COMPOSING)
    song = compose(request, seed=seed, heard=heard)
    song.timings["parse"] = parsed - started
    stage(RENDERING)
    rendered = render(song, Path(out_dir), on_audio=on_audio)
    if progress:
        total = time.perf_counter() - started
        print(f"done in {total:.2f} s: {song.title}, {rendered.duration_seconds:.0f} s of music",
              flush=True)
    return rendered
