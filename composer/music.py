"""The plain data every stage passes around: meters, notes, chords, bars, tunes.

Time is counted in ticks: TICKS_PER_QUARTER per quarter note, a grid that holds
sixteenths, eighth-note triplets and sixteenth-note triplets exactly.
Pitches are MIDI numbers (None is a rest). Chord roots are pitch classes relative to
the tonic (0 = I, 7 = V), so the same chord label works in every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TICKS_PER_QUARTER = 12
# Note letters and their pitch classes; key names as players spell them (the one table).
LETTER_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Solfège syllables (Russian, and as English speakers sing them) and their letters.
SOLFEGE_LETTERS = {"до": "C", "ре": "D", "ми": "E", "фа": "F", "соль": "G", "ля": "A", "си": "B",
                   "do": "C", "re": "D", "mi": "E", "fa": "F", "sol": "G", "so": "G", "la": "A",
                   "si": "B", "ti": "B"}
KEY_NAMES = ("C", "C#", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
CHORD_QUALITIES = ("maj", "min", "dim", "dom7")
MODES = ("major", "minor", "dorian", "mixolydian")
# Scale steps above the tonic; minor is natural minor (the raised 7th comes from chords).
# Dorian is minor with a major sixth, Mixolydian major with a flat seventh: the modes of
# many Irish and Scottish tunes.
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
          "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10)}
# The major or minor a mode sounds like: its third decides (and its tonic chord).
PARENT_MODE = {"major": "major", "minor": "minor", "dorian": "minor", "mixolydian": "major"}
# Semitones from a mode's tonic to the major key with the same key signature (D dorian and
# A mixolydian are written like C and D major): what a MIDI key signature can say.
SIGNATURE_MAJOR_STEP = {"major": 0, "minor": 3, "dorian": -2, "mixolydian": 5}


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    @property
    def name(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def bar_ticks(self) -> int:
        return self.numerator * 4 * TICKS_PER_QUARTER // self.denominator

    @property
    def is_compound(self) -> bool:
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def beat_ticks(self) -> int:
        """The felt beat: a dotted quarter in 6/8, 9/8, 12/8; else the written unit."""
        unit = 4 * TICKS_PER_QUARTER // self.denominator
        return unit * 3 if self.is_compound else unit

    @property
    def beats(self) -> int:
        return self.bar_ticks // self.beat_ticks

    def strong_beats(self) -> list[int]:
        """Tick offsets of the strong beats in a bar (downbeat, and mid-bar in 4 beats)."""
        if self.beats == 4:
            return [0, 2 * self.beat_ticks]
        return [0]

    @staticmethod
    def parse(text: str) -> Meter:
        top, bottom = text.split("/")
        return Meter(int(top), int(bottom))


@dataclass(frozen=True)
class Note:
    pitch: int | None  # MIDI number; None is a rest
    ticks: int


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class relative to the tonic, 0..11
    quality: str  # one of CHORD_QUALITIES

    @property
    def name(self) -> str:
        return f"{self.root}{self.quality}"

    def pitch_classes(self, tonic: int = 0) -> tuple[int, ...]:
        """Absolute pitch classes of the chord in a key whose tonic is `tonic`."""
        steps = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "dom7": (0, 4, 7, 10)}
        return tuple((tonic + self.root + s) % 12 for s in steps[self.quality])

    @staticmethod
    def parse(name: str) -> Chord:
        for quality in CHORD_QUALITIES:
            if name.endswith(quality):
                return Chord(int(name[: -len(quality)]), quality)
        raise ValueError(f"not a chord name: {name!r}")


@dataclass
class Bar:
    notes: list[Note]
    chords: list[tuple[int, Chord]] = field(default_factory=list)  # (tick offset, chord)

    @property
    def ticks(self) -> int:
        return sum(n.ticks for n in self.notes)

    def chord_at(self, tick: int) -> Chord | None:
        current = None
        for offset, chord in self.chords:
            if offset <= tick:
                current = chord
        return current


@dataclass
class Tune:
    """One real or generated tune: a melody in bars, cut into parts (A, B, ...)."""

    id: str
    title: str
    style: str
    meter: Meter
    tonic: int  # pitch class of the key's tonic
    mode: str  # one of MODES
    parts: list[list[Bar]]
    pickup_ticks: int = 0  # the leading rest that pads an anacrusis to a full bar

    @property
    def bars(self) -> list[Bar]:
        return [bar for part in self.parts for bar in part]

    def melody(self) -> list[Note]:
        return [note for bar in self.bars for note in bar.notes]


# --- key names: how players spell a tonic, and moving a key ------------------------------------
# Each pitch class as a tonic, with the fewer accidentals (Db major but C# minor).
MAJOR_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def tonic_pitch_class(key: str) -> int:
    """Pitch class of a key name: "C" -> 0, "F#" -> 6, "Bb" -> 10 ("♯" and "♭" too)."""
    signs = key[1:].replace("♯", "#").replace("♭", "b")
    return (LETTER_PITCH_CLASSES[key[0].upper()] + signs.count("#") - signs.count("b")) % 12


def transpose_key(key: str | None, semitones: int, mode: str) -> str | None:
    """A key moved by `semitones`, spelled for its mode: "D" up a fifth is "A", "F#" minor
    up a fifth is "C#"; None when `key` is not a key name."""
    if not key or key[0].upper() not in LETTER_PITCH_CLASSES:
        return None
    return tonic_name(tonic_pitch_class(key) + semitones, mode)


def tonic_name(tonic: int, mode: str) -> str:
    """A pitch class as a tonic of the mode, spelled as players spell it: 10 -> "Bb" in
    major, 1 -> "C#" in minor."""
    names = MINOR_TONICS if PARENT_MODE.get(mode) == "minor" else MAJOR_TONICS
    return names[tonic % 12]


def key_label(key: str, mode: str) -> str:
    """A key and mode as one label, as the corpus's key tables count them: "D major"."""
    return f"{key} {mode}"
