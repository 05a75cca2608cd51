"""The event vocabulary: a tune as a flat list of tokens, and back.

A tune reads like a lead sheet, one bar at a time:

    BOS STYLE:jig METER:6/8 MODE:major PART:A
    BAR CHORD:0maj CHORD:7maj DUR:6 P:67 DUR:6 P:69 ... BAR COPY:4 BAR ...
    PART:B BAR ... EOS

- pitches are key-normalised: MIDI pitch minus the tonic's pitch class (the tune is
  moved to C), so one tune teaches every key;
- each bar starts with its chords (one per harmonic-rhythm slot), then the melody as
  DUR then pitch pairs (REST is a pitch), so the network picks the rhythm first and
  the sampler can make every bar add up;
- COPY:k says "this bar is the bar k bars back" (melody and chords). Folk tunes repeat
  about a third of their bars; with COPY the network can do so in one step.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.music import CHORD_QUALITIES, MODES, Bar, Chord, Meter, Note, Tune
from composer.styles import STYLES

METERS = ("2/4", "3/4", "4/4", "2/2", "6/8", "9/8", "12/8", "3/8", "3/2", "6/4")
PARTS = ("A", "B", "C", "D")
PITCH_LOW, PITCH_HIGH = 24, 100  # key-normalised MIDI range of the vocabulary
MAX_DURATION = 72  # ticks: a whole bar of 12/8, 3/2 or 6/4
MAX_COPY = 8

PAD, BOS, EOS, BAR, REST = "PAD", "BOS", "EOS", "BAR", "REST"


def _build_vocabulary() -> list[str]:
    words = [PAD, BOS, EOS, BAR, REST]
    words += [f"STYLE:{s}" for s in STYLES]
    words += [f"METER:{m}" for m in METERS]
    words += [f"MODE:{m}" for m in MODES]
    words += [f"PART:{p}" for p in PARTS]
    words += [f"COPY:{k}" for k in range(1, MAX_COPY + 1)]
    words += [f"CHORD:{root}{q}" for root in range(12) for q in CHORD_QUALITIES]
    words += [f"DUR:{t}" for t in range(1, MAX_DURATION + 1)]
    words += [f"P:{p}" for p in range(PITCH_LOW, PITCH_HIGH + 1)]
    return words


VOCAB: list[str] = _build_vocabulary()
INDEX: dict[str, int] = {word: i for i, word in enumerate(VOCAB)}


def ids_of(prefix: str) -> list[int]:
    """Token ids of one family, e.g. ids_of("DUR:")."""
    return [i for word, i in INDEX.items() if word.startswith(prefix)]


class TokenError(ValueError):
    """A tune that cannot be written in this vocabulary."""


@dataclass(frozen=True)
class Header:
    style: str
    meter: Meter
    mode: str


def key_shift(tonic: int) -> int:
    """Semitones from C up to the key's tonic, taken the shorter way: C..F are 0..5
    above, F#..B are 6..1 below. Moving a tune by it keeps the tune's register."""
    return tonic if tonic <= 5 else tonic - 12


def header_tokens(style: str, meter: Meter, mode: str) -> list[str]:
    if f"STYLE:{style}" not in INDEX:
        raise TokenError(f"unknown style {style!r}")
    if meter.name not in METERS:
        raise TokenError(f"unsupported meter {meter.name}")
    return [BOS, f"STYLE:{style}", f"METER:{meter.name}", f"MODE:{mode}"]


def bar_tokens(bar: Bar, tonic: int) -> list[str]:
    """One bar after its BAR token: chords, then DUR/pitch pairs."""
    words = [f"CHORD:{chord.name}" for _, chord in bar.chords]
    for note in bar.notes:
        if not 1 <= note.ticks <= MAX_DURATION:
            raise TokenError(f"duration {note.ticks} ticks is off the grid")
        words.append(f"DUR:{note.ticks}")
        if note.pitch is None:
            words.append(REST)
        else:
            relative = note.pitch - key_shift(tonic)
            if not PITCH_LOW <= relative <= PITCH_HIGH:
                raise TokenError(f"pitch {note.pitch} is out of range")
            words.append(f"P:{relative}")
    return words


def _same_bar(a: Bar, b: Bar) -> bool:
    return a.notes == b.notes and a.chords == b.chords


def encode(tune: Tune, copies: bool = True) -> list[int]:
    """Token ids of a whole tune (BOS ... EOS)."""
    words = header_tokens(tune.style, tune.meter, tune.mode)
    history: list[Bar] = []
    for part_index, part in enumerate(tune.parts):
        words.append(f"PART:{PARTS[min(part_index, len(PARTS) - 1)]}")
        for bar in part:
            if bar.ticks != tune.meter.bar_ticks:
                raise TokenError(f"a bar of {bar.ticks} ticks in {tune.meter.name}")
            words.append(BAR)
            back = _copy_distance(history, bar) if copies else None
            if back:
                words.append(f"COPY:{back}")
            else:
                words += bar_tokens(bar, tune.tonic)
            history.append(bar)
    words.append(EOS)
    return [INDEX[w] for w in words]


def _copy_distance(history: list[Bar], bar: Bar) -> int | None:
    """The nearest k <= MAX_COPY such that this bar equals the bar k back."""
    for k in range(1, min(MAX_COPY, len(history)) + 1):
        if _same_bar(history[-k], bar):
            return k
    return None


def decode(ids: list[int], tonic: int = 0, tune_id: str = "generated") -> Tune:
    """A Tune from token ids; tolerant of a missing EOS (a sample cut short)."""
    words = [VOCAB[i] for i in ids]
    style, meter, mode = "folk", Meter(4, 4), "major"
    parts: list[list[Bar]] = []
    history: list[Bar] = []
    bar: Bar | None = None

    def close_bar() -> None:
        nonlocal bar
        if bar is not None:
            if not parts:
                parts.append([])
            parts[-1].append(bar)
            history.append(bar)
            bar = None

    for word in words:
        family, _, value = word.partition(":")
        if word in (PAD, BOS):
            continue
        if word == EOS:
            break
        if family == "STYLE":
            style = value
        elif family == "METER":
            meter = Meter.parse(value)
        elif family == "MODE":
            mode = value
        elif family == "PART":
            close_bar()
            parts.append([])
        elif word == BAR:
            close_bar()
            bar = Bar(notes=[], chords=[])
        elif bar is None:
            continue  # stray token outside a bar: ignore
        elif family == "COPY":
            source = history[-int(value)]
            bar = Bar(notes=list(source.notes), chords=list(source.chords))
        elif family == "CHORD":
            bar.chords.append((0, Chord.parse(value)))
        elif family == "DUR":
            bar.notes.append(Note(None, int(value)))
        elif (word == REST or family == "P") and bar.notes and bar.notes[-1].pitch is None:
            pitch = None if word == REST else int(value) + key_shift(tonic)
            bar.notes[-1] = Note(pitch, bar.notes[-1].ticks)
    close_bar()
    for part in parts:
        for b in part:
            _space_chords(b, meter)
    pickup = _leading_rest(parts)
    return Tune(tune_id, "", style, meter, tonic % 12, mode, [p for p in parts if p], pickup)


def slot_tick(index: int, slots: int, bar_ticks: int) -> int:
    """Where chord slot `index` of a bar's `slots` begins: chords sit on equal slots."""
    return index * bar_ticks // slots


def _space_chords(bar: Bar, meter: Meter) -> None:
    """Chords sit on equal slots of the bar, in the order written."""
    n = len(bar.chords)
    if n:
        bar.chords = [(slot_tick(i, n, meter.bar_ticks), c) for i, (_, c) in enumerate(bar.chords)]


def _leading_rest(parts: list[list[Bar]]) -> int:
    if parts and parts[0] and parts[0][0].notes and parts[0][0].notes[0].pitch is None:
        return parts[0][0].notes[0].ticks
    return 0
