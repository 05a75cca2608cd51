"""What the user asked for, and the parser that turns free text into it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from composer.styles import DEFAULT_STYLE


@dataclass
class SongRequest:
    style: str = DEFAULT_STYLE
    mode: str | None = None  # "major" | "minor" | None (the style's default)
    key: str | None = None  # tonic: "D", "F#", "Bb"
    tempo_bpm: int | None = None
    length_seconds: int | None = None
    instrument: str | None = None  # General MIDI instrument name
    seed: int | None = None
    notes: list[str] = field(default_factory=list)  # what was not understood or adjusted
    text: str = ""  # the original words, for titles and logs

    def to_json(self) -> dict:
        """The `isadei parse --json` contract (DESIGN.md)."""
        data = asdict(self)
        data.pop("text")
        return data
