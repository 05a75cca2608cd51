"""A Song → files: MIDI, MP3 (and OGG/Opus), the lead sheet (PNG, PDF, MusicXML), cover art,
and a JSON record.

    arrange → played MIDI → FluidSynth → MP3   (every core: the reply waits on this)
            → MIDI file, OGG, lead sheet (music21 → verovio → PNG, cover JPEG, MusicXML,
              every page as PDF), the cover into the MP3's tags, JSON   (afterwards)

The MP3 is renamed into place as soon as it is encoded (`on_audio` hears of it); every
other file is written under a temporary name and renamed into place only when all of them
are done, so a failure (a missing SoundFont, a crash) leaves no files, not even the MP3.
The same Song (same seed) gives a byte-identical MIDI and the same JSON, timings aside.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import mido

from composer.arrange import SCALE, Arrangement, arrange, humanise
from composer.audio import AudioResult, check_system, render_audio
from composer.midi import staged, to_midi_file, write_midi
from composer.ornaments import ornament
from composer.song import Rendered, SectionRecord, Song, SongRecord, TrackRecord
from composer.styles import get_style
from composer.swing import swing

if TYPE_CHECKING:
    from composer.sheet import Engraved

FORMATS = ("mid", "mp3", "ogg", "png", "pdf", "musicxml", "jpg", "json")
# add "ogg" for an Opus copy (~1 s more CPU); "jpg" is the cover art (and the MP3's picture)
DEFAULT_FORMATS = ("mid", "mp3", "png", "pdf", "musicxml", "jpg", "json")
SHEET_FORMATS = ("png", "pdf", "musicxml", "jpg")  # what composer.sheet writes


def make_slug(song: Song) -> str:
    """An ASCII file name from style, key and seed: "jig-f-sharp-major-42"."""
    key = song.key_name.replace("#", "-sharp").replace("b", "-flat") if len(
        song.key_name) > 1 else song.key_name
    text = f"{song.style}-{key}-{song.mode}-{song.seed}".lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "song"


def render(song: Song, out_dir: Path, slug: str | None = None,
           formats: tuple[str, ...] = DEFAULT_FORMATS,
           on_audio: Callable[[Path], None] | None = None) -> Rendered:
    """Arrange and render a song into out_dir/<slug>.{mid,mp3,ogg,png,pdf,musicxml,jpg,json}.

    The MIDI and the JSON are always written; the others as `formats` asks.
    The MP3 comes first, in place, and `on_audio(mp3_path)` is called at once (a reply can
    go out); the rest follows. If anything fails, no file stays, that MP3 included.
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
    pages = score_pages = 0
    mp3 = paths.get("mp3")  # written in place as soon as it is ready (on_audio)
    try:
        with ExitStack() as stack:
            tmp = {ext: stack.enter_context(staged(path)) for ext, path in paths.items()
                   if ext != "mp3"}
            t0 = time.perf_counter()
            played = as_played(song, arrangement)
            timings["midi"] = time.perf_counter() - t0
            if soundfont is not None:
                # The critical path: synthesis and encoding on every core; then the rest.
                audio = render_audio(
                    played, mp3, tmp.get("ogg"),
                    music_seconds=arrangement.seconds_at(arrangement.music_end),
                    tags={"title": song.title, "artist": "Isadei", "album": "Isadei",
                          "genre": song.style},
                    soundfont=soundfont, on_mp3=on_audio)
                timings.update(audio.timings)
                timings["to_mp3"] = time.perf_counter() - started
            t0 = time.perf_counter()
            write_midi(arrangement, tmp["mid"])
            timings["midi_file"] = time.perf_counter() - t0
            if set(SHEET_FORMATS) & set(tmp):
                sheet = engrave_all(song, tmp, mp3, timings)
                pages, score_pages = sheet.pages, sheet.pdf_pages
            timings["render"] = time.perf_counter() - started
            song_record(song, arrangement, audio, pages, paths, timings,
                        score_pages).save(tmp["json"])
    except BaseException:
        if mp3 is not None:
            mp3.unlink(missing_ok=True)  # all files or none, the early MP3 included
        raise

    duration = audio.duration_seconds if audio else arrangement.duration_seconds
    return Rendered(midi=paths["mid"], mp3=paths.get("mp3"), png=paths.get("png"),
                    json=paths["json"], duration_seconds=duration, ogg=paths.get("ogg"),
                    timings=timings, pdf=paths.get("pdf"), musicxml=paths.get("musicxml"),
                    cover=paths.get("jpg"))


def as_played(song: Song, arrangement: Arrangement) -> mido.MidiFile:
    """What FluidSynth plays: the style's swing, the band's timing (humanise) and the
    style's ornaments; the MIDI file a user gets stays on the grid."""
    style = get_style(song.style)
    played = humanise(swing(arrangement, style), song.seed)
    return to_midi_file(ornament(played, style, song.seed))


def engrave_all(song: Song, tmp: dict[str, Path], mp3: Path | None,
                timings: dict[str, float]) -> Engraved:
    """The sheet music files `tmp` asks for (PNG, PDF, MusicXML, cover JPEG); the cover also
    goes into the MP3's tags (replacing the MP3 atomically: it may be on its way already)."""
    from composer.cover import embed_cover
    from composer.sheet import ScoreFiles, engrave

    done = engrave(song, ScoreFiles(png=tmp.get("png"), pdf=tmp.get("pdf"),
                                    musicxml=tmp.get("musicxml"), cover=tmp.get("jpg")))
    timings.update(done.timings)
    if mp3 is not None and "jpg" in tmp:
        t0 = time.perf_counter()
        embed_cover(mp3, tmp["jpg"].read_bytes())
        timings["cover_tag"] = time.perf_counter() - t0
    return done


def song_record(song: Song, arrangement: Arrangement, audio: AudioResult | None, pages: int,
                paths: dict[str, Path], timings: dict[str, float],
                score_pages: int = 0) -> SongRecord:
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
            key=song.key_of(section.key_step)[1] if section.key_step else "",
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
        score_pages=score_pages,
        files={ext: path.name for ext, path in paths.items()},
        timings={name: round(seconds, 3) for name, seconds in timings.items()},
        tune=song.tune,
    )
