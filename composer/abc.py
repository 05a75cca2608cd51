"""ABC notation -> a `Tune`: the reader the corpus uses, and the one a user's pasted tune goes
through. music21 parses the notes; this module turns its measures into full bars on the
tick grid, cuts them into parts at section barlines, and finds the key and mode.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from composer.music import LETTER_PITCH_CLASSES, TICKS_PER_QUARTER, Bar, Meter, Note, Tune

COMMON_METERS = {"2/4", "3/4", "4/4", "2/2", "6/8", "9/8", "12/8", "3/8", "3/2", "6/4"}
MAX_PARTS = 4


class TuneError(ValueError):
    """A tune we cannot use; the message says why (and is what the corpus counts)."""


def split_abc(text: str) -> list[tuple[str, str]]:
    """(X number, tune text) for every tune in an ABC file; file-level headers are dropped."""
    tunes = []
    for chunk in re.split(r"(?m)^(?=X:)", text):
        if not chunk.startswith("X:"):
            continue  # the file header before the first tune
        number = chunk.splitlines()[0][2:].strip()
        tunes.append((number, chunk))
    return tunes


def abc_headers(text: str) -> dict[str, list[str]]:
    """Header fields (T, R, M, K, B, ...) of one tune, read up to and including K:."""
    headers: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z]):(.*)$", line)
        if not match:
            if headers.get("K"):
                break
            continue
        field, value = match.group(1), match.group(2).strip().rstrip("]").strip()
        headers.setdefault(field, []).append(value)
        if field == "K":
            break
    return headers


def parse_meter(text: str) -> Meter | None:
    text = text.strip().split()[0] if text.strip() else ""
    text = {"C": "4/4", "C|": "2/2"}.get(text, text)
    if text not in COMMON_METERS:
        return None
    return Meter.parse(text)


_LETTERS = {**LETTER_PITCH_CLASSES, "H": 11}  # German B
_MINOR_MODES = ("m", "min", "minor", "aeo", "aeolian", "dor", "dorian", "phr", "phrygian",
                "loc", "locrian")
_MAJOR_MODES = ("", "maj", "major", "ion", "ionian", "mix", "mixolydian", "lyd", "lydian")


def parse_key(text: str) -> tuple[int, str | None] | None:
    """(tonic pitch class, mode or None when K: names no mode) from a K: field.

    Dorian and Mixolydian are kept; ionian/lydian count as major, aeolian/phrygian/locrian
    as minor, all with the written tonic. German spellings (H, Es) occur in Essen.
    """
    match = re.match(r"^\s*([A-Ha-h])(#|b|is|es|s)?\s*([A-Za-z]*)", text)
    if not match:
        return None
    letter, accidental, mode = match.group(1).upper(), match.group(2) or "", match.group(3)
    tonic = _LETTERS[letter] + {"#": 1, "is": 1, "b": -1, "es": -1, "s": -1, "": 0}[accidental]
    mode = mode.lower()
    if mode[:3] in ("dor", "mix"):
        return tonic % 12, "dorian" if mode[:3] == "dor" else "mixolydian"
    if mode in _MINOR_MODES or mode[:3] in ("min", "aeo", "dor", "phr", "loc"):
        return tonic % 12, "minor"
    if mode in _MAJOR_MODES or mode[:3] in ("maj", "ion", "mix", "lyd"):
        return tonic % 12, "major" if mode else None
    return None  # "HP", "none", clefs only...


@dataclass
class RawBar:
    notes: list[Note]
    starts_part: bool = False  # a repeat/section barline before this bar
    ends_part: bool = False  # a repeat/section barline after it

    @property
    def ticks(self) -> int:
        return sum(n.ticks for n in self.notes)


_SECTION_BARLINES = {"double", "final", "heavy-light", "light-heavy", "heavy-heavy", "heavy"}


def _is_section_barline(barline) -> bool:
    from music21 import bar as m21bar

    if barline is None:
        return False
    return isinstance(barline, m21bar.Repeat) or barline.type in _SECTION_BARLINES


def to_ticks(quarter_length) -> int:
    ticks = Fraction(quarter_length).limit_denominator(1000) * TICKS_PER_QUARTER
    if ticks.denominator != 1:
        raise TuneError("duration off the grid")
    return int(ticks)


def measures_to_raw_bars(part) -> list[RawBar]:
    """Notes of each music21 measure in ticks; grace notes dropped, ties merged in a bar."""
    from music21 import chord as m21chord
    from music21 import note as m21note
    from music21 import stream

    bars = []
    for measure in part.getElementsByClass(stream.Measure):
        source = measure.voices[0] if measure.voices else measure
        notes: list[Note] = []
        tied = False  # the previous note is tied into the next one
        for element in source.notesAndRests:
            if element.duration.isGrace or element.quarterLength == 0:
                continue
            ticks = to_ticks(element.quarterLength)
            if isinstance(element, m21note.Rest):
                pitch = None
            elif isinstance(element, m21chord.Chord):
                pitch = max(p.midi for p in element.pitches)  # double stops: the top note
            else:
                pitch = element.pitch.midi
            if tied and notes and notes[-1].pitch == pitch and pitch is not None:
                notes[-1] = Note(pitch, notes[-1].ticks + ticks)
            else:
                notes.append(Note(pitch, ticks))
            tie = getattr(element, "tie", None)
            tied = tie is not None and tie.type in ("start", "continue")
        bars.append(RawBar(notes, _is_section_barline(measure.leftBarline),
                           _is_section_barline(measure.rightBarline)))
    return [bar for bar in bars if bar.ticks > 0]


def full_bars(raw: list[RawBar], bar_ticks: int) -> tuple[list[list[Bar]], int, list[int]]:
    """Cut music21's measures into parts of full bars: (parts, pickup ticks, bar starts).

    A short first bar is an anacrusis: padded with a leading rest. Two short bars that add
    up to one (the end of a part and the next part's pickup) are joined. A short bar at a
    part's edge or at the end is padded with a rest. Any other short or long bar is a TuneError.
    The bar starts say where each output bar's tick 0 falls in the written music's time
    (negative for a padded pickup), so other voices can be lined up with the bars.
    """
    parts: list[list[Bar]] = [[]]
    starts: list[int] = []
    pickup = 0
    source_tick = 0  # ticks of written music consumed so far
    joined_boundary = False  # the bar before was joined with the next part's pickup
    i = 0
    while i < len(raw):
        bar = raw[i]
        notes = list(bar.notes)
        new_part = joined_boundary or (i > 0 and (bar.starts_part or raw[i - 1].ends_part))
        joined_boundary = False
        start, consumed = source_tick, bar.ticks
        if bar.ticks > bar_ticks:
            raise TuneError("overfull bar")
        if bar.ticks < bar_ticks:
            missing = bar_ticks - bar.ticks
            nxt = raw[i + 1] if i + 1 < len(raw) else None
            if i == 0:
                pickup = missing
                notes = [Note(None, missing), *notes]
                start -= missing
            elif nxt is not None and bar.ticks + nxt.ticks == bar_ticks:
                notes += nxt.notes  # the next part's pickup completes this part's last bar
                consumed += nxt.ticks
                joined_boundary = bar.ends_part or nxt.starts_part or nxt.ends_part
                i += 1
            elif nxt is None or bar.ends_part or nxt.starts_part:
                notes.append(Note(None, missing))
            elif new_part:
                notes = [Note(None, missing), *notes]
                start -= missing
            else:
                raise TuneError("incomplete bar")
        if new_part and parts[-1]:
            parts.append([])
        parts[-1].append(Bar(notes))
        starts.append(start)
        source_tick += consumed
        i += 1
    return _tidy_parts(parts), pickup, starts


def _tidy_parts(parts: list[list[Bar]]) -> list[list[Bar]]:
    """Fold one-bar scraps into their neighbour and keep at most MAX_PARTS parts."""
    tidy: list[list[Bar]] = []
    for part in parts:
        if tidy and (len(part) < 2 or len(tidy[-1]) < 2):
            tidy[-1].extend(part)
        else:
            tidy.append(list(part))
    while len(tidy) > MAX_PARTS:
        last = tidy.pop()
        tidy[-1].extend(last)
    return tidy


def _weights(notes: list[Note], tonic: int) -> Counter:
    """How long the melody dwells on each degree above the tonic (in ticks)."""
    weight: Counter = Counter()
    for note in notes:
        if note.pitch is not None:
            weight[(note.pitch - tonic) % 12] += note.ticks
    return weight


def guess_mode(notes: list[Note], tonic: int) -> str:
    """Minor when the melody dwells more on the minor third above the tonic than the major;
    then Dorian or Mixolydian when the sixth or seventh says so (see modal_colour)."""
    weight = _weights(notes, tonic)
    return modal_colour(notes, tonic, "minor" if weight[3] > weight[4] else "major")


def modal_colour(notes: list[Note], tonic: int, mode: str, margin: float = 1.5) -> str:
    """Major -> Mixolydian when the flat seventh clearly outweighs the leading tone; minor
    -> Dorian when the major sixth clearly outweighs the minor sixth. Many Irish tunes are
    written with a major or minor key signature but sound in these modes."""
    weight = _weights(notes, tonic)
    enough = 0.02 * sum(weight.values())
    if mode == "major" and weight[10] > max(margin * weight[11], enough):
        return "mixolydian"
    if mode == "minor" and weight[9] > max(margin * weight[8], enough):
        return "dorian"
    return mode


def _final_pitch_class(notes: list[Note]) -> int | None:
    for note in reversed(notes):
        if note.pitch is not None:
            return note.pitch % 12
    return None


def read_abc(text: str, tune_id: str = "abc", style: str = "folk") -> Tune:
    """One ABC tune -> Tune (no chords). Raises TuneError with the reason it is unusable."""
    from music21 import converter

    headers = abc_headers(text)
    if not headers.get("K"):
        raise TuneError("no K: header")
    meter = parse_meter(headers.get("M", ["4/4"])[0])
    if meter is None:
        raise TuneError("uncommon meter")
    body = re.split(r"(?m)^K:.*$", text, maxsplit=1)[-1]
    if re.search(r"(?m)^M:|\[M:", body):
        raise TuneError("meter change")
    try:
        score = converter.parse(text, format="abc")
    except Exception as exc:  # music21 raises many kinds of errors on odd ABC
        raise TuneError("music21 error") from exc
    part = score.parts[0] if score.parts else score
    raw_bars = measures_to_raw_bars(part)
    if not raw_bars:
        raise TuneError("no notes")
    parts, pickup, _ = full_bars(raw_bars, meter.bar_ticks)
    melody = [n for p in parts for b in p for n in b.notes]
    key = parse_key(headers["K"][0])
    if key is None:
        analysed = score.analyze("key")
        tonic, mode = analysed.tonic.pitchClass, analysed.mode
        mode = "minor" if mode == "minor" else "major"
    else:
        tonic, mode = key
        if mode is None:
            # K: gives the key signature; a tune ending on the relative minor's tonic is minor.
            final = _final_pitch_class(melody)
            if final == (tonic + 9) % 12:
                tonic, mode = (tonic + 9) % 12, "minor"
            else:
                mode = guess_mode(melody, tonic)
    title = headers.get("T", [""])[0]
    return Tune(tune_id, title, style, meter, tonic, mode, parts, pickup)
