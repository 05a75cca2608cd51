"""A composed song, ready to arrange and render; the files it became; and the record of it.

`SongRecord` is the contract between the composer and its front ends: `render` writes it as
the .json beside the song, and the bot, the worker and the tests read it back with
`SongRecord.from_json` / `SongRecord.load`, never by guessing dict keys.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from composer.music import Bar, Meter, transpose_key
from composer.request import SongRequest

# The stages `compose_to_files` reports through on_stage: what the bot shows the user.
COMPOSING, RENDERING = "composing", "rendering"


@dataclass
class Section:
    kind: str  # "Intro", "Verse", "Chorus", "Bridge", "Coda" or "Part"
    name: str  # the MIDI marker text: "Verse 2", "Part A", "Intro"
    material: str  # which RNN-written material it plays: "A", "B", "C"...
    bars: list[Bar]  # melody (absolute MIDI pitches) with chords (roots relative to the tonic)
    loudness: float = 0.7  # 0..1, the dynamics the arranger follows
    ritardando: bool = False  # slow down across this section (the coda)
    key_step: int = 0  # semitones above the song's key: a later tune of a set, a march's trio

    @property
    def ticks(self) -> int:
        return sum(bar.ticks for bar in self.bars)


@dataclass
class Song:
    request: SongRequest
    title: str
    style: str
    meter: Meter
    tonic: int  # pitch class
    key_name: str  # "D", "F#", "Bb"
    mode: str  # "major" | "minor"
    tempo_bpm: int  # felt beats per minute (a dotted quarter in 6/8): see Meter.beat_ticks
    instrument: str  # General MIDI name of the melody instrument
    seed: int
    sections: list[Section]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # A song built around a user's tune: what was heard (the `isadei listen` JSON) and
    # the sections that play it ("Verse 1", ...); None for a song written from scratch.
    tune: dict[str, Any] | None = None

    @property
    def bars(self) -> list[Bar]:
        return [bar for section in self.sections for bar in section.bars]

    def key_of(self, key_step: int = 0) -> tuple[int, str]:
        """The tonic pitch class and key name `key_step` semitones above the song's key
        (Section.key_step: "D" for a set's second tune when the song is in G)."""
        name = transpose_key(self.key_name, key_step, self.mode) or self.key_name
        return (self.tonic + key_step) % 12, name


@dataclass
class Rendered:
    midi: Path
    mp3: Path
    png: Path
    json: Path
    duration_seconds: float
    ogg: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    pdf: Path | None = None  # every page of the sheet music, A4
    musicxml: Path | None = None  # the sheet music for notation programs
    cover: Path | None = None  # JPEG ≤ 320×320: the audio's thumbnail (also in the MP3)

    def paths(self) -> list[Path]:
        return [p for p in (self.mp3, self.midi, self.png, self.json, self.ogg, self.pdf,
                            self.musicxml, self.cover) if p]


@dataclass(frozen=True)
class SectionRecord:
    """One section of the form as played: where it starts and how long it lasts."""

    name: str  # "Verse 2"
    kind: str  # "Verse"
    material: str  # "A"
    start_bar: int  # 1-based
    bars: int
    start_seconds: float
    seconds: float
    loudness: float = 0.7
    ritardando: bool = False
    key: str = ""  # the section's tonic when it is not the song's ("D"), else ""


@dataclass(frozen=True)
class TrackRecord:
    name: str  # "Melody", "Chords", "Bass", "Drums"
    program: int
    channel: int
    notes: int


@dataclass(frozen=True)
class SongRecord:
    """What the .json beside a song says (DESIGN.md: the request, the form with each
    section's bars and seconds, key, tempo, seed, timings of each stage)."""

    title: str
    request: SongRequest
    style: str
    key: str  # the tonic: "D", "F#", "Bb"
    mode: str
    tempo_bpm: int
    meter: str  # "3/4"
    instrument: str
    seed: int
    form: tuple[SectionRecord, ...]
    duration_seconds: float  # of the audio
    key_signature: str = ""  # as in the MIDI file: "Bm"
    bars: int = 0
    music_seconds: float = 0.0  # to the end of the last note
    midi_seconds: float = 0.0
    tracks: tuple[TrackRecord, ...] = ()
    sheet_pages: int = 0  # of the phone-sized sheet (the PNG is its first page)
    score_pages: int = 0  # of the A4 PDF (0: none written)
    files: dict[str, str] = field(default_factory=dict)  # extension -> file name
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    tune: dict[str, Any] | None = None  # Song.tune: what was heard and where it plays

    @property
    def form_names(self) -> str:
        """ "Intro · Verse 1 · Chorus 1 · ... · Coda"."""
        return " · ".join(section.name for section in self.form)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only (lists, not tuples): equal to what the file reads back as."""
        data = asdict(self)
        data["request"] = self.request.to_json()
        data["form"] = [asdict(section) for section in self.form]
        data["tracks"] = [asdict(track) for track in self.tracks]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SongRecord:
        """The record `to_json` wrote; unknown keys are ignored (a newer writer may add some).
        Raises KeyError or TypeError when a required field is missing."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["request"] = SongRequest.from_json(data["request"])
        values["form"] = tuple(SectionRecord(**section) for section in data["form"])
        values["tracks"] = tuple(TrackRecord(**track) for track in data.get("tracks") or ())
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> SongRecord:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        Path(path).write_text(text, encoding="utf-8")
