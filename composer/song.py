"""A composed song, ready to arrange and render, and the files it became."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from composer.music import Bar, Meter
from composer.request import SongRequest


@dataclass
class Section:
    kind: str  # "Intro", "Verse", "Chorus", "Bridge", "Coda" or "Part"
    name: str  # the MIDI marker text: "Verse 2", "Part A", "Intro"
    material: str  # which RNN-written material it plays: "A", "B", "C"...
    bars: list[Bar]  # melody (absolute MIDI pitches) with chords (roots relative to the tonic)
    loudness: float = 0.7  # 0..1, the dynamics the arranger follows
    ritardando: bool = False  # slow down across this section (the coda)

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

    @property
    def bars(self) -> list[Bar]:
        return [bar for section in self.sections for bar in section.bars]


@dataclass
class Rendered:
    midi: Path
    mp3: Path
    png: Path
    json: Path
    duration_seconds: float
    ogg: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        return [p for p in (self.mp3, self.midi, self.png, self.json, self.ogg) if p]
