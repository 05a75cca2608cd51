"""What `listen` hands back: the heard tune and its JSON contract, and the one error type.

Kept apart from the listening code so the bot and the CLI can import these light types
without pulling in audio decoding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from composer.music import Meter, Tune

# Stable reason codes (the bot translates them); the message is a one-line English reason.
ERROR_CODES = (
    "too_big", "too_short", "too_long", "corrupt", "unsupported", "silence", "no_tune",
    "no_notes", "too_many_notes", "abc_syntax",
)


class TuneInputError(ValueError):
    """A tune we cannot use. `code` is one of ERROR_CODES; str(error) is one friendly line."""

    def __init__(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class HeardNote:
    pitch: int  # MIDI number
    start: float  # quarter notes from the start of the tune's first (padded) bar
    beats: float  # length in quarter notes
    # where it was heard in the recording (None for written tunes and MIDI input)
    onset_s: float | None = None
    offset_s: float | None = None


@dataclass
class Heard:
    tune: Tune
    tempo_bpm: int  # quarter notes per minute
    meter: Meter
    key: str  # tonic name, one of composer.music.KEY_NAMES
    mode: str  # one of composer.music.MODES
    notes: list[HeardNote]
    source: str = "audio"  # "audio" | "abc" | "midi" | "names" (note names in a message)
    details: dict = field(default_factory=dict)  # diagnostics (tuning drift, timings...)

    def to_dict(self) -> dict:
        return {
            "tempo_bpm": int(self.tempo_bpm),
            "meter": self.meter.name,
            "key": self.key,
            "mode": self.mode,
            "notes": [{"pitch": int(n.pitch), "start": round(float(n.start), 4),
                       "beats": round(float(n.beats), 4)} for n in self.notes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def style(self) -> str:
        """The style this tune suggests when its owner names none: its meter says most."""
        return {"6/8": "jig", "9/8": "slip-jig", "3/4": "waltz", "2/2": "reel"}.get(
            self.meter.name, "folk")

    def summary(self) -> str:
        """One line for a reply: "I heard 14 notes in G major, 3/4, about 96 bpm"."""
        return (f"I heard {len(self.notes)} notes in {self.key} {self.mode}, "
                f"{self.meter.name}, about {self.tempo_bpm} bpm")
