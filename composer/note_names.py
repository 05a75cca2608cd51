"""A tune written as note names in a message -> notes on the beat grid, for composer.listen.

People with no training write a tune with the names they learnt: letters ("E D C D E E E",
with # or b: "F#", "Bb") or solfège ("ми ре до ре ми ми ми", "do re mi", with диез, бемоль,
sharp or flat after the name). Each name is one beat; a dash holds the note a beat longer
("G - -" or "G--"), or a digit after it names its beats ("G3", as in ABC); "|" marks a bar
line, and the beats between bar lines give the meter (a short first bar is an upbeat). When
every name carries a digit, the digits are octaves ("C4 D4 E4", C4 = middle C); without
them a note sits in the octave nearest the note before, as a singer moves, so
"C D E F G A B C" climbs to the upper C, and the whole tune sits where a voice sings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from composer.music import LETTER_PITCH_CLASSES, SOLFEGE_LETTERS, TICKS_PER_QUARTER, Meter
from composer.rhythm import Placed

MIN_NOTES = 4  # fewer names in a row are words ("do", "a", "ре минор"), not a tune
MAX_NOTES = 500
FIRST_OCTAVE_LOW = 60  # the first note goes in C4..B4, then the tune moves by octaves so
SUNG_MIDDLE = 67  # its middle note is nearest G4, unless an octave is written
HOLD = re.compile(r"^[-–—]+$")
BAR = "|"
SHARP_WORDS = ("#", "♯", "sharp", "диез")
FLAT_WORDS = ("♭", "flat", "бемоль")
_NAME = "|".join(sorted(SOLFEGE_LETTERS, key=len, reverse=True))
NOTE = re.compile(
    rf"^(?:(?P<letter>[A-Ga-g])|(?P<syllable>{_NAME}))"
    r"(?P<acc>#|♯|b|♭)?(?P<digit>[0-8])?(?P<hold>[-–—]*)$",
    re.IGNORECASE,
)
TOKEN = re.compile(r"\||[^\s,;|]+")
WORD_EDGES = " \t\n:;,.-–—"  # what parts the words from the tune
METER_OF_BEATS = {2: "2/4", 3: "3/4", 4: "4/4", 6: "6/8"}


@dataclass
class WrittenTune:
    """Note names read from a message: the notes on the grid, the meter, the other words."""

    placed: list[Placed]
    meter: Meter
    text: str  # the names as written: "E D C D | E E E -"
    words: str  # the message without them: "as a waltz, please"


@dataclass
class _Name:
    pitch_class: int
    octave: int | None
    beats: int


def read_note_names(text: str) -> WrittenTune | None:
    """The longest run of at least MIN_NOTES note names in `text`, or None."""
    tokens = [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text or "")]
    runs: list[tuple[int, int, int]] = []  # (names, first token, last token + 1)
    start, count = None, 0
    for index, (token, _, _) in enumerate([*tokens, ("", 0, 0)]):
        if _is_part_of_a_tune(token, count):
            start = index if start is None else start
            count += bool(NOTE.match(_bare(token)))
        elif start is not None:
            runs.append((count, start, index))
            start, count = None, 0
    count, first, last = max(runs, default=(0, 0, 0))
    if not MIN_NOTES <= count <= MAX_NOTES:
        return None
    names, bars = _names(tokens[first:last])
    meter = _meter(bars)
    begin, end = tokens[first][1], tokens[last - 1][2]
    words = " ".join(part.strip(WORD_EDGES) for part in (text[:begin], text[end:])
                     if part.strip(WORD_EDGES))
    written_octaves = any(n.octave is not None for n in names)
    placed = _placed(names, bars, meter)
    return WrittenTune(placed if written_octaves else _sung_register(placed), meter,
                       text[begin:end], words)


def _bare(token: str) -> str:
    return token.strip(".!?").lower()


def _is_part_of_a_tune(token: str, notes_so_far: int) -> bool:
    bare = _bare(token)
    if not bare:
        return False
    if NOTE.match(bare) or bare == BAR or HOLD.match(bare):
        return True
    return notes_so_far > 0 and bare in SHARP_WORDS + FLAT_WORDS


def _names(tokens: list[tuple[str, int, int]]) -> tuple[list[_Name], list[int]]:
    """The names in order, and the number of names before each bar line."""
    names: list[_Name] = []
    bars: list[int] = []
    bares = [_bare(token) for token, _, _ in tokens]
    # "C4 D4 E4" writes octaves; a digit on some names only is a length ("E D C2", as ABC)
    octaves = all(m["letter"] and m["digit"] for b in bares if (m := NOTE.match(b)))
    for bare in bares:
        match = NOTE.match(bare)
        if match:
            letter = match["letter"] or SOLFEGE_LETTERS[match["syllable"]]
            shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(match["acc"] or "", 0)
            digit = int(match["digit"] or 0)
            beats = 1 if octaves or not digit else digit
            names.append(_Name((LETTER_PITCH_CLASSES[letter.upper()] + shift) % 12,
                               digit if octaves else None, beats + len(match["hold"])))
        elif bare == BAR:
            bars.append(sum(n.beats for n in names))
        elif HOLD.match(bare) and names:
            names[-1].beats += len(bare)
        elif names and bare in SHARP_WORDS:
            names[-1].pitch_class = (names[-1].pitch_class + 1) % 12
        elif names and bare in FLAT_WORDS:
            names[-1].pitch_class = (names[-1].pitch_class - 1) % 12
    return names, bars


def _meter(bars: list[int]) -> Meter:
    """The beats between bar lines most often (a short first bar is an upbeat), as a meter."""
    lengths = [b - a for a, b in zip(bars, bars[1:], strict=False) if b > a]
    common = Counter(lengths).most_common(1)
    beats = common[0][0] if common else (bars[0] if bars else 4)
    return Meter.parse(METER_OF_BEATS.get(beats, "4/4"))


def _placed(names: list[_Name], bars: list[int], meter: Meter) -> list[Placed]:
    """Notes on the grid, each in the octave written or nearest the note before; a first
    bar shorter than the meter's is an upbeat, so the next bar line falls where it was."""
    beat = TICKS_PER_QUARTER * 4 // meter.denominator
    beats_in_bar = meter.bar_ticks // beat
    upbeat = bars[0] if bars and 0 < bars[0] < beats_in_bar else 0
    tick = (beats_in_bar - upbeat) * beat if upbeat else 0
    placed: list[Placed] = []
    previous: int | None = None
    for name in names:
        if name.octave is not None:
            pitch = 12 * (name.octave + 1) + name.pitch_class
        elif previous is None:
            pitch = FIRST_OCTAVE_LOW + name.pitch_class
        else:  # the nearest octave; a tritone goes up
            pitch = previous + (name.pitch_class - previous + 6) % 12 - 6
            pitch += 12 if (name.pitch_class - previous) % 12 == 6 else 0
        placed.append(Placed(pitch, tick, name.beats * beat))
        tick += name.beats * beat
        previous = pitch
    return placed


def _sung_register(placed: list[Placed]) -> list[Placed]:
    """The tune moved by octaves so its middle sits nearest the middle of a singing voice."""
    middle = sorted(p.pitch for p in placed)[len(placed) // 2]
    octaves = round((SUNG_MIDDLE - middle) / 12)
    return [Placed(p.pitch + 12 * octaves, p.start, p.ticks) for p in placed]
