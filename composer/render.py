"""A Song → files: MIDI, MP3 (and OGG/Opus), the lead sheet PNG, and a JSON record.

    arrange → MIDI → FluidSynth → MP3/OGG        (a worker thread: mostly subprocesses)
                   ↘ lead sheet (music21 → verovio → PNG, at the same time)

Every file is written under a temporary name and renamed into place only when all of them
are done, so a failure (a missing SoundFont, a crash) leaves no half-written outputs.
The same Song (same seed) gives a byte-identical MIDI and the same JSON, timings aside.
"""

from __future__ import annotations

import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from composer.arrange import SCALE, Arrangement, arrange, humanise
from composer.audio import AudioResult, check_system, render_audio
from composer.midi import staged, write_midi
from composer.song import Rendered, SectionRecord, Song, SongRecord, TrackRecord

FORMATS = ("mid", "mp3", "ogg", "png", "json")
DEFAULT_FORMATS = ("mid", "mp3", "png", "json")  # add "ogg" for an Opus copy (~1 s more CPU)


def make_slug(song: Song) -> str:
    """An ASCII file name from style, key and seed: "jig-f-sharp-major-42"."""
    key = song.key_name.replace("#", "-sharp").replace("b", "-flat") if len(
        song.key_name) > 1 else song.key_name
    text = f"{song.style}-{key}-{song.mode}-{song.seed}".lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "song"


def render(song: Song, out_dir: Path, slug: str | None = None,
           formats: tuple[str, ...] = DEFAULT_FORMATS) -> Rendered:
    """Arrange and render a song into out_dir/<slug>.{mid,mp3,ogg,png,json}.

    The MIDI and the JSON are always written; MP3, OGG and PNG as `formats` asks.
    Raises audio.MissingSystemDependency before writing anything if FluidSynth, a
    SoundFont or ffmpeg is missing.
    """
    started = time.perf_counter()
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    wanted = [f for f in FORMATS if f in formats or f in ("mid", "json")]
    soundfont = check_system() if {"mp3", "ogg"} & set(wanted) else None
    out_dir = Path(out_dir)
    slug = slug or make_slug(song)
    paths = {ext: out_dir / f"{slug}.{ext}" for ext in wanted}
    timings = dict(song.timings)

    t0 = time.perf_counter()
    arrangement = arrange(song, song.seed)
    timings["arrange"] = time.perf_counter() - t0

    audio: AudioResult | None = None
    pages = 0
    with ExitStack() as stack:
        tmp = {ext: stack.enter_context(staged(path)) for ext, path in paths.items()}
        t0 = time.perf_counter()
        write_midi(arrangement, tmp["mid"])
        played = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "played.mid"
        write_midi(humanise(arrangement, song.seed), played)  # what FluidSynth plays
        timings["midi"] = time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            if soundfont is not None:
                pending = pool.submit(
                    render_audio, played, tmp.get("mp3"), tmp.get("ogg"),
                    music_seconds=arrangement.seconds_at(arrangement.music_end),
                    tags={"title": song.title, "artist": "Isadei", "album": "Isadei",
                          "genre": song.style},
                    soundfont=soundfont)
            if "png" in tmp:
                # Engraving is Python; FluidSynth and ffmpeg are other processes: overlap.
                from composer.sheet import engrave

                t0 = time.perf_counter()
                pages = engrave(song, tmp["png"])
                timings["engrave"] = time.perf_counter() - t0
            if pending is not None:
                audio = pending.result()
                timings.update(audio.timings)

        timings["render"] = time.perf_counter() - started
        song_record(song, arrangement, audio, pages, paths, timings).save(tmp["json"])

    duration = audio.duration_seconds if audio else arrangement.duration_seconds
    return Rendered(midi=paths["mid"], mp3=paths.get("mp3"), png=paths.get("png"),
                    json=paths["json"], duration_seconds=duration, ogg=paths.get("ogg"),
                    timings=timings)


def song_record(song: Song, arrangement: Arrangement, audio: AudioResult | None, pages: int,
                paths: dict[str, Path], timings: dict[str, float]) -> SongRecord:
    """What the JSON file says: the request, the song's facts, its form in bars and seconds."""
    form, tick, bar = [], 0, 1
    for section in song.sections:
        start = arrangement.seconds_at(tick * SCALE)
        end_tick = tick + section.ticks
        end = arrangement.seconds_at(end_tick * SCALE)
        form.append(SectionRecord(
            name=section.name, kind=section.kind, material=section.material,
            start_bar=bar, bars=len(section.bars),
            start_seconds=round(start, 3), seconds=round(end - start, 3),
            loudness=section.loudness, ritardando=section.ritardando,
        ))
        tick, bar = end_tick, bar + len(section.bars)
    music_seconds = arrangement.seconds_at(arrangement.music_end)
    return SongRecord(
        title=song.title,
        request=song.request,
        style=song.style,
        key=song.key_name,
        mode=song.mode,
        key_signature=arrangement.key,
        tempo_bpm=song.tempo_bpm,
        meter=song.meter.name,
        instrument=song.instrument,
        seed=song.seed,
        bars=bar - 1,
        form=tuple(form),
        music_seconds=round(music_seconds, 3),
        midi_seconds=round(arrangement.duration_seconds, 3),
        duration_seconds=round(audio.duration_seconds if audio else music_seconds, 3),
        tracks=tuple(TrackRecord(name=t.name, program=t.program, channel=t.channel,
                                 notes=len(t.notes)) for t in arrangement.tracks),
        sheet_pages=pages,
        files={ext: path.name for ext, path in paths.items()},
        timings={name: round(seconds, 3) for name, seconds in timings.items()},
        tune=song.tune,
    )
