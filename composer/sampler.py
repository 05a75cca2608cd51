"""Constrained, seeded, batched sampling from the LSTM.

The network proposes; a small grammar disposes. For every sequence in the batch a
state machine knows where it is (which part, which bar, how many ticks are left in
the bar) and masks every token that would break the tune: bars always add up to the
meter, each bar carries exactly its chords, parts have the planned number of bars,
and each part ends on the cadence it was asked for. Masks are cached by state, so
the per-step cost is a dictionary lookup per sequence plus one batched LSTM step.

Each sequence has its own random generator, so a song comes out the same whether
it was sampled alone or in a batch of 64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch

from composer.model import LeanStep, TuneLSTM
from composer.music import PARENT_MODE, Meter, Tune
from composer.style_rhythm import log_probs as style_rhythm
from composer.styles import get_style
from composer.tokens import (
    BAR,
    EOS,
    INDEX,
    MAX_COPY,
    MAX_DURATION,
    PAD,
    PARTS,
    PITCH_HIGH,
    PITCH_LOW,
    REST,
    VOCAB,
    decode,
    header_tokens,
    ids_of,
    slot_tick,
)

GUIDANCE_CONTRAST = "folk"  # the plainest, commonest style: what style guidance moves from
CONTRAST_ID = INDEX[f"STYLE:{GUIDANCE_CONTRAST}"]
COPY_IDS = ids_of("COPY:")
NOTE_IDS = frozenset(ids_of("P:") + [INDEX[REST]])
DUR_IDS = ids_of("DUR:")  # DUR:1 .. DUR:MAX_DURATION, in order
FREE = -1  # in a given bar: the network writes this token (a chord under a user's melody)
# The chords before a cadence's last chord, and those a contrasting part opens on, per
# mode: modal tunes cadence from the flat seventh (bVII-I) or a minor v as often as from V.
DOMINANTS = {"major": ("7maj", "7dom7"), "minor": ("7maj", "7dom7"),
             "dorian": ("7maj", "7dom7", "7min", "10maj"),
             "mixolydian": ("7maj", "7dom7", "7min", "10maj")}
PREDOMINANTS = {"major": ("5maj", "9min", "2min"), "minor": ("5min", "8maj", "3maj"),
                "dorian": ("5maj", "3maj", "2min"), "mixolydian": ("5maj", "10maj", "2min")}
# Melody tones a part's cadence arrives on: over the tonic chord (full), over V (half).
FULL_CADENCE_TONES = {"major": (0, 4, 7), "minor": (0, 3, 7)}
HALF_CADENCE_TONES = {"major": (7, 11, 2), "minor": (7, 11, 2), "dorian": (7, 10, 11, 2),
                      "mixolydian": (7, 10, 11, 2)}


def tonic_chord(mode: str) -> str:
    return "0maj" if PARENT_MODE[mode] == "major" else "0min"


@dataclass(frozen=True)
class PartSpec:
    bars: int
    cadence: str = "full"  # "full" ends on I, "half" ends on V
    contrast: bool = False  # a bridge: opens away from the tonic
    phrase_bars: int = 0  # >0: the last note of every phrase of this many bars is held


@dataclass(frozen=True)
class TuneSpec:
    style: str
    meter: Meter
    mode: str
    parts: tuple[PartSpec, ...]
    chords_per_bar: int
    pitch_range: tuple[int, int] = (55, 84)  # key-normalised MIDI (tonic moved to C)
    seed: int = 0
    # Bars written already (a variation of an earlier take, a user's tune): the token ids
    # of bar i's body (after its BAR), or None where the network writes the bar anew; a
    # FREE id inside a body is one token the network writes (the chords under a melody).
    given: tuple[tuple[int, ...] | None, ...] = ()
    # The first part may open with a pickup bar (a rest, then the upbeat), as the corpus
    # writes most tunes: the network then starts as it learned to, its phrases counted from
    # the first full bar. The pickup bar lies outside the part's bars and leaves the tune
    # (as_tune); a repeat is led in by the part's last bar instead.
    pickup: bool = False
    # The given bars are an earlier take's (a varied repeat): where the network wrote the
    # bar before anew, it may lead into a given bar otherwise (SamplingOptions.
    # repeat_entry_bias), and the bar goes on anew. A user's bars are never changed.
    rejoins: bool = False

    def given_bar(self, index: int) -> tuple[int, ...] | None:
        return self.given[index] if index < len(self.given) else None


@dataclass(frozen=True)
class SamplingOptions:
    # A little above 1: at 1.0 the network's favourite moves come too often (eighth notes
    # 0.65 against 0.58 in human tunes, too few whole steps down). At 1.1 human vs generated
    # went 0.64 / 0.64 / 0.65 -> 0.61 / 0.61 / 0.60 on three seeds, style recognised the
    # same (0.87 / 0.88 / 0.87 -> 0.87 / 0.86 / 0.86); at 1.2 it was 0.65 again.
    temperature: float = 1.1
    top_p: float = 0.95
    # The nucleus cut on a duration step (the grammar's mask already keeps every duration in
    # the meter). There the tail is a style's sixteenths and dotted notes: cut at 0.95, raw
    # jigs held eighth notes 0.88 of the time and sixteenths 0.02 (the corpus's 0.82, 0.05),
    # 6/8 ballads 0.05 sixteenths (0.08); uncut, 0.83 / 0.05 and 0.08. Songs uncut, seeds
    # 0-3 and 4-7: human vs generated 0.59 and 0.59 (0.59, 0.60), the style told apart most
    # the folk song at 0.654 and 0.62 (the strathspey at 0.69 and 0.69; now 0.63, 0.61), airs
    # recognised 0.56 and 0.73 (0.54, 0.60), marches 0.08 and 0.21 (0.10, 0.08); boosted
    # trees 0.66 and 0.64 (0.64, 0.65).
    durations_top_p: float = 1.0
    # Added to the COPY logits: an LSTM under-repeats bars compared with people (it
    # hedges between repeating and not); a nudge brings the rate back towards human tunes.
    # Chosen so songs repeat bars about as often as human tunes do: 0.85 at temperature 1.0.
    # At temperature 1.1 the network copies less (bar repetition 0.41, human 0.47, the
    # lullaby below the human spread); with +1.1 here it is 0.43, every style inside the
    # spread, and human vs generated went 0.61 / 0.61 / 0.60 -> 0.58 / 0.60 / 0.61 (boosted
    # trees 0.68 / 0.67 / 0.70 -> 0.64 / 0.66 / 0.68); +1.3 gave 0.60 (trees 0.69). Since
    # the bar before a cadence may be a copy, 0.48 (human 0.465); +0.9 gave 0.46 and no
    # better songs (seeds 0 and 1: 0.570 / 0.579 against 0.579 / 0.552). Dance tunes take
    # less of it (Style.copying). Since a COPY reaches the network written out and a repeat
    # may be declined at its first note (below), the network copies less: at +1.1 folk songs
    # repeated 0.18 of their bars (human 0.35), at +2.2 0.33 (10 songs a style, seed 0).
    copy_bias: float = 2.2
    # Added to the logit of a repeated bar's first note (a COPY the network chose, a kept bar
    # of a varied repeat after one written anew), which the network may decline: a repeat is
    # entered where the melody can go on with it, else the bar goes on anew from the note
    # the network wrote (a varied repeat: the same chords and opening length). With the
    # repeat entered blindly, 7.1% of our folk songs' bar lines leapt a fourth or a fifth down
    # or a seventh up (human 4.3%). Folk and ballad songs (16 each, seeds 0 and 1) told from
    # human ones at +5 with the nudge at +2.2: 0.44 and 0.61, ballads 0.82 and 0.64; at +4
    # and +1.6: 0.57, 0.69 / 0.72, 0.48 (bar repetition 0.23); before: 0.53, 0.69 / 0.65,
    # 0.64. Every style over eight seeds: TRAINING_NOTES.md, wave 19.
    repeat_entry_bias: float = 5.0
    # Style guidance: the logits move away from what the same network predicts for the same
    # tune under a plain folk heading, by this factor (0: off). The network learned the rare
    # styles (march, hornpipe, strathspey) from a few hundred tunes and blurs them towards
    # the common folk idiom; the difference between the two predictions is the style's own.
    # Each style takes its own share of it (Style.guidance).
    style_guidance: float = 0.25

    def __post_init__(self) -> None:
        if not 0.05 <= self.temperature <= 5.0:
            raise ValueError(f"temperature {self.temperature} is outside 0.05..5")
        for name in ("top_p", "durations_top_p"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} {getattr(self, name)} is outside (0, 1]")

    @classmethod
    def trying(cls, **given: float | None) -> SamplingOptions:
        """The product's options with these in their place (None: keep the product's)."""
        return cls(**{name: value for name, value in given.items() if value is not None})


@dataclass
class _Cursor:
    """Where one sequence is in its tune."""

    spec: TuneSpec
    forced: list[int] = field(default_factory=list)  # tokens to emit without sampling (or FREE)
    part: int = 0
    bar_in_part: int = 0  # bars started in this part
    bars_total: int = 0
    phase: str = "forced"  # after_bar | chord | dur | pitch | bar_end | done
    chords_left: int = 0
    ticks_left: int = 0
    covers_cadence: bool = False  # the note being written sounds as the bar's last chord begins
    note_at: int = 0  # tick in the bar where the note being written starts
    last_length: int = 0  # ticks of the bar's last note so far (0: none yet)
    pickup_bars: int = 0  # 1 once the first bar turned out to be a pickup bar
    # A repeat's first note, not yet written: the network is leaned towards it (see
    # _Loop.spell_copy); None elsewhere.
    repeat_entry: int | None = None
    given_now: bool = False  # the bar being written is a given one, kept so far
    tokens: list[int] = field(default_factory=list)
    bodies: list[list[int]] = field(default_factory=list)  # bar_bodies(tokens), kept up

    @property
    def part_spec(self) -> PartSpec:
        return self.spec.parts[self.part]


class Grammar:
    """Which tokens may come next, given a cursor; masks cached by state."""

    def __init__(self, allowed_durations: set[int] | None = None,
                 allowed_chords: set[str] | None = None) -> None:
        self.durations = sorted(allowed_durations or range(1, MAX_DURATION + 1))
        self.chords = allowed_chords
        self.fillable = self._fillable(self.durations)

    @staticmethod
    def _fillable(durations: list[int]) -> list[bool]:
        """fillable[r]: can r ticks be made of the allowed durations?"""
        ok = [False] * (MAX_DURATION * 2 + 1)
        ok[0] = True
        for r in range(1, len(ok)):
            ok[r] = any(d <= r and ok[r - d] for d in durations)
        return ok

    @lru_cache(maxsize=4096)  # noqa: B019 - one Grammar lives as long as the model
    def mask(self, key: tuple) -> torch.Tensor:
        allowed = torch.zeros(len(VOCAB), dtype=torch.bool)
        for i in self._allowed(key):
            allowed[i] = True
        return allowed

    def _allowed(self, key: tuple) -> list[int]:
        kind = key[0]
        if kind == "after_bar":  # COPY or the first chord
            _, max_copy, chord_slot, barred = key
            copies = [INDEX[f"COPY:{k}"] for k in range(1, max_copy + 1) if k not in barred]
            return copies + self._chord_ids(chord_slot)
        if kind == "chord":
            return self._chord_ids(key[1])
        if kind == "dur":
            _, ticks_left, hold, pickup = key
            # A phrase end keeps room for its held last note (hold = 0 when not). A part's
            # opening note is no pickup bar's padding (see _pickup_padding).
            return [INDEX[f"DUR:{d}"] for d in self.durations
                    if d <= ticks_left and self.fillable[ticks_left - d]
                    and (d == ticks_left and d >= hold or ticks_left - d >= hold)
                    and not (0 < ticks_left - d <= pickup and 2 * d > ticks_left)]
        if kind == "pitch":
            _, low, high, final, mode, rest_allowed = key
            if final:  # the note the part's last chord arrives on: a tone of the cadence
                tones = _cadence_tones(final, mode)
                return [INDEX[f"P:{p}"] for p in range(low, high + 1) if p % 12 in tones]
            # A part opens on a note (a rest would be a hole in every repeat), unless the
            # take may open with a pickup bar (TuneSpec.pickup).
            rest = [INDEX[REST]] if rest_allowed else []
            return rest + [INDEX[f"P:{p}"] for p in range(low, high + 1)]
        raise ValueError(f"unknown grammar state {key!r}")

    def _chord_ids(self, slot: tuple[str, ...] | None) -> list[int]:
        if slot:  # a cadence names its chords
            return [INDEX[f"CHORD:{n}"] for n in slot]
        names = [w[6:] for w in VOCAB if w.startswith("CHORD:")]
        return [INDEX[f"CHORD:{n}"] for n in names if self.chords is None or n in self.chords]


def _chord_slot(cursor: _Cursor, slot: int) -> tuple[str, ...] | None:
    """The chords a cadence or an opening demands at this slot (None = free)."""
    spec, part = cursor.spec, cursor.part_spec
    n, last_slot = part.bars, slot == spec.chords_per_bar - 1
    bar = cursor.bar_in_part - 1  # index of the bar being written
    tonic = tonic_chord(spec.mode)
    if bar == 0 and slot == 0:
        if part.contrast:
            return PREDOMINANTS[spec.mode]
        if cursor.part == 0:
            return (tonic,)
    dominants = DOMINANTS[spec.mode]
    # Only the last bar is named. The harmonised corpus ends a part's penultimate bar on a
    # dominant in 29% of its 14,474 folk parts; forced there in every part, V was 0.24 of
    # our tunes' chords against the corpus's 0.19 (free: 0.19), and the melody leant on
    # the 2nd and the leading tone.
    if part.cadence == "full":
        if bar == n - 1:
            subdominant = "5maj" if PARENT_MODE[spec.mode] == "major" else "5min"
            return (tonic,) if last_slot else (tonic, subdominant, *dominants)
    elif bar == n - 1 and last_slot:
        return dominants
    return None


def _cadence_bar(cursor: _Cursor) -> bool:
    """A part's opening and its last bar (the cadence), and bars whose last note a phrase
    end holds, are written out, never copied. The bar before the cadence may repeat an
    earlier one, as 23% of the corpus's parts have it (its last bar: 8%; a bar inside: 21%)."""
    n, bar = cursor.part_spec.bars, cursor.bar_in_part - 1
    return bar == n - 1 or bar == 0 or _held_ticks(cursor) > 0


def _soft_entry(cursor: _Cursor, body: tuple[int, ...]) -> list[int]:
    """A bar played again, its first note left to the network (FREE), leaned towards the
    bar's own (cursor.repeat_entry). A body whose note comes first is kept as it is."""
    body = list(body)
    first_note = next((j for j, t in enumerate(body) if t in NOTE_IDS), 0)
    if first_note:
        cursor.repeat_entry, body[first_note] = body[first_note], FREE
    return body


def _riff_copies(cursor: _Cursor, max_copy: int) -> tuple[int, ...]:
    """The COPY:k a bar may not take: a bar played a third time in a row is a riff, not a
    folk tune, so after a bar that repeats the one before, no copy of those notes again."""
    if not max_copy:
        return ()
    bodies = cursor.bodies  # the last one: this bar, not yet written
    if len(bodies) < 3 or bodies[-2] != bodies[-3]:
        return ()
    return tuple(k for k in range(1, max_copy + 1) if bodies[-1 - k] == bodies[-2])


def _state_key(cursor: _Cursor) -> tuple | None:
    spec = cursor.spec
    if cursor.phase == "after_bar":
        # No COPY where the cadence fixes the bar, or where a given melody follows.
        fixed = _cadence_bar(cursor) or cursor.forced
        max_copy = 0 if fixed else min(MAX_COPY, cursor.bars_total - 1 - cursor.pickup_bars)
        return ("after_bar", max_copy, _chord_slot(cursor, 0), _riff_copies(cursor, max_copy))
    if cursor.phase == "chord":
        return ("chord", _chord_slot(cursor, spec.chords_per_bar - cursor.chords_left))
    if cursor.phase == "dur":
        padding = 0 if _may_open_with_pickup(cursor) else _pickup_padding(cursor)
        return ("dur", cursor.ticks_left, _held_ticks(cursor), padding)
    if cursor.phase == "pitch":
        last_bar = cursor.bar_in_part == cursor.part_spec.bars
        # The part cadences where its last chord begins; what follows in the bar is free: a
        # breath, or notes leading into the repeat or the next part, as tunes are written.
        final = cursor.part_spec.cadence if last_bar and cursor.covers_cadence else None
        low = max(PITCH_LOW, spec.pitch_range[0])
        high = min(PITCH_HIGH, spec.pitch_range[1])
        opens_part = cursor.bar_in_part == 1 and _at_bar_start(cursor)
        rest_allowed = not opens_part or _may_open_with_pickup(cursor)
        return ("pitch", low, high, final, spec.mode, rest_allowed)
    return None


def _cadence_tones(cadence: str, mode: str) -> tuple[int, ...]:
    """Pitch classes (tonic = 0) the note a part's last chord arrives on may take: a tone
    of the tonic chord in a full cadence, of V in a half cadence. The network picks among
    them as its style does (the corpus's last notes: the tonic in 72-90% of most styles,
    the third in 12-19% of songs and waltzes, the fifth in half the Chinese tunes)."""
    return FULL_CADENCE_TONES[PARENT_MODE[mode]] if cadence == "full" else HALF_CADENCE_TONES[mode]


def _at_bar_start(cursor: _Cursor) -> bool:
    """Whether the note being written (its length, or then its pitch) starts the bar."""
    if cursor.phase == "dur":
        return cursor.ticks_left == cursor.spec.meter.bar_ticks
    return cursor.note_at == 0


def _may_open_with_pickup(cursor: _Cursor) -> bool:
    """At the take's first note, when its spec lets it open with a pickup bar."""
    return (cursor.spec.pickup and cursor.bars_total == 1 and cursor.part_spec.bars >= 4
            and _at_bar_start(cursor))


def _pickup_padding(cursor: _Cursor) -> int:
    """At a part's opening, the longest pickup whose padding its first note must not be
    (a beat); elsewhere 0. The corpus writes an upbeat as a padded bar, a rest and then
    the pickup, so the network opens a part with the padding's length; the part must open
    on a note (no hole in every repeat), and that length became a note held where tunes
    start moving: a dotted half opened half of the hornpipe parts. Notes longer than half
    the bar and a beat or less short of it open 0-2% of the corpus's parts without a pickup
    in 4/4, 2/2, 6/8 and 2/4 (8% in 3/4), and are padding in most tunes."""
    opening = cursor.bar_in_part == 1 and _at_bar_start(cursor)
    return cursor.spec.meter.beat_ticks if opening else 0


def _held_ticks(cursor: _Cursor) -> int:
    """How long the last note of this bar must be: a beat at a phrase end (the chorale's
    fermata sits on a quarter note: half a bar made four times the human share of half
    notes), else 0."""
    every = cursor.part_spec.phrase_bars
    if every and cursor.bar_in_part % every == 0:
        return cursor.spec.meter.beat_ticks
    return 0


def _advance(cursor: _Cursor, token: int) -> None:
    """Move the cursor past one emitted token."""
    cursor.tokens.append(token)
    _add_to_bodies(cursor.bodies, token)
    word = VOCAB[token]
    spec = cursor.spec
    if word == EOS:
        cursor.phase = "done"
    elif word == BAR:
        # The bar after a pickup bar is the part's first (the pickup is outside the count).
        cursor.bar_in_part += 0 if cursor.pickup_bars and cursor.bars_total == 1 else 1
        cursor.bars_total += 1
        cursor.ticks_left = spec.meter.bar_ticks
        cursor.last_length = 0
        cursor.phase = "after_bar"
        given = spec.given_bar(cursor.bars_total - 1)
        # A part's opening bar stays as it was: the repeat is recognisably the same tune.
        rejoining = (spec.rejoins and given is not None and not cursor.given_now
                     and cursor.bar_in_part > 1)
        cursor.given_now = given is not None
        cursor.forced.extend(_soft_entry(cursor, given) if rejoining else given or ())
    elif word.startswith("COPY:"):
        cursor.phase = "bar_end"
    elif word.startswith("CHORD:"):
        if cursor.phase == "after_bar":
            cursor.chords_left = spec.chords_per_bar
        cursor.chords_left -= 1
        cursor.phase = "chord" if cursor.chords_left else "dur"
    elif word.startswith("DUR:"):
        bar_ticks = spec.meter.bar_ticks
        cursor.note_at = bar_ticks - cursor.ticks_left
        cursor.last_length = int(word[4:])
        cursor.ticks_left -= cursor.last_length
        last_chord = slot_tick(spec.chords_per_bar - 1, spec.chords_per_bar, bar_ticks)
        cursor.covers_cadence = cursor.note_at <= last_chord < bar_ticks - cursor.ticks_left
        cursor.phase = "pitch"
    elif word == REST or word.startswith("P:"):
        if word == REST and _may_open_with_pickup(cursor):
            cursor.pickup_bars = 1
        cursor.phase = "dur" if cursor.ticks_left else "bar_end"
    if cursor.phase == "bar_end":
        cursor.forced.extend(_next_bar_tokens(cursor))
        cursor.phase = "forced"


def _next_bar_tokens(cursor: _Cursor) -> list[int]:
    """After a complete bar: another BAR, or the next PART, or the end."""
    if cursor.bar_in_part < cursor.part_spec.bars:
        return [INDEX[BAR]]
    if cursor.part + 1 < len(cursor.spec.parts):
        cursor.part += 1
        cursor.bar_in_part = 0
        return [INDEX[f"PART:{PARTS[min(cursor.part, len(PARTS) - 1)]}"], INDEX[BAR]]
    return [INDEX[EOS]]


def _start(spec: TuneSpec) -> _Cursor:
    prefix = header_tokens(spec.style, spec.meter, spec.mode) + [f"PART:{PARTS[0]}", BAR]
    return _Cursor(spec=spec, forced=[INDEX[w] for w in prefix])


def bar_bodies(tokens: list[int]) -> list[tuple[int, ...]]:
    """The body of every bar of a sampled sequence (what follows its BAR), in order: the
    `given` of a later take that keeps some of these bars. A sampled sequence holds no
    COPY: the sampler writes a repeat out (_Loop.spell_copy)."""
    bodies: list[list[int]] = []
    for token in tokens:
        _add_to_bodies(bodies, token)
    return [tuple(body) for body in bodies]


def _add_to_bodies(bodies: list[list[int]], token: int) -> None:
    """One more token of a sequence into its bar bodies (see bar_bodies)."""
    word = VOCAB[token]
    if word == BAR:
        bodies.append([])
    elif bodies and word != EOS and not word.startswith("PART:"):
        bodies[-1].append(token)


def _top_p(probs: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Zero the tail of each row beyond its cumulative probability top_p (in place); a row
    at 1.0 keeps all of it."""
    cut = top_p < 1.0
    if not bool(cut.any()):
        return probs
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    drop = (sorted_probs.cumsum(dim=-1).sub_(sorted_probs) > top_p[:, None]) & cut[:, None]
    return probs.masked_fill_(torch.empty_like(drop).scatter_(-1, order, drop), 0.0)


def sample_tunes(model: TuneLSTM, specs: list[TuneSpec], options: SamplingOptions | None = None,
                 grammar: Grammar | None = None, max_steps: int = 4000) -> tuple[list[Tune], int]:
    """Sample one tune per spec in one batch. Returns the tunes and the LSTM steps taken."""
    sequences, steps = sample_tokens(model, specs, options, grammar, max_steps)
    return [as_tune(tokens, spec) for tokens, spec in zip(sequences, specs, strict=True)], steps


def as_tune(tokens: list[int], spec: TuneSpec) -> Tune:
    """A sampled sequence as a Tune (key-normalised: tonic C), without its pickup bar."""
    tune = decode(tokens, tonic=0, tune_id=f"sample-{spec.seed}")
    tune.style = spec.style
    if spec.pickup and tune.pickup_ticks:
        tune.parts[0] = tune.parts[0][1:]
        tune.pickup_ticks = 0
    return tune


def pickup_bars(tokens: list[int], spec: TuneSpec) -> int:
    """1 if the sampled sequence opens with a pickup bar (its first bar body), else 0."""
    return max(0, len(bar_bodies(tokens)) - sum(part.bars for part in spec.parts))


@torch.inference_mode()
def sample_tokens(model: TuneLSTM, specs: list[TuneSpec], options: SamplingOptions | None = None,
                  grammar: Grammar | None = None,
                  max_steps: int = 4000) -> tuple[list[list[int]], int]:
    """Sample one token sequence per spec in one batch; also the LSTM steps taken."""
    options = options or SamplingOptions()
    loop = _Loop(specs, options, grammar or Grammar())
    # Guided rows get a twin in the batch that reads the same tokens under a folk heading.
    strength = [options.style_guidance * get_style(spec.style).guidance
                if spec.style != GUIDANCE_CONTRAST else 0.0 for spec in specs]
    guided = [i for i, g in enumerate(strength) if g]
    guided_strength = torch.tensor([strength[i] for i in guided])[:, None]
    rows = len(specs) + len(guided)
    step = LeanStep(model, rows) if _stock(model) else _ReferenceStep(model)
    device = next(model.parameters()).device
    ids = [cursor.forced.pop(0) for cursor in loop.cursors]  # each sequence's first token
    for cursor, token in zip(loop.cursors, ids, strict=True):
        _advance(cursor, token)
    steps = 0
    while steps < max_steps and not loop.finished():
        fed = ids + [CONTRAST_ID if VOCAB[ids[i]].startswith("STYLE:") else ids[i]
                     for i in guided]
        logits = step(torch.tensor(fed, dtype=torch.long).to(device, non_blocking=True))
        steps += 1
        if device.type != "cpu":
            logits = logits.float().cpu()
        if guided:
            own = logits[guided]
            logits = logits[:len(specs)].index_add(
                0, torch.tensor(guided), own.sub(logits[len(specs):]).mul_(guided_strength))
        ids = loop.choose(logits)
    return [c.tokens for c in loop.cursors], steps


def _stock(model: TuneLSTM) -> bool:
    """A plain TuneLSTM (the lean step reproduces its forward); anything else (a subclass, a
    wrapped or instrumented forward) is stepped through its own forward."""
    return type(model) is TuneLSTM and "forward" not in vars(model)


class _ReferenceStep:
    """The model's own forward, one token a call: what LeanStep reproduces, faster."""

    def __init__(self, model: TuneLSTM) -> None:
        self.model, self.state = model, None

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        logits, self.state = self.model(ids[:, None], self.state)
        return logits[:, -1, :]


class _Loop:
    """Per step: each sequence's next token: forced, PAD when done, else sampled.

    The sampled rows are masked, softmaxed and top-p cut together; each row then takes its
    own uniform draw from its own generator (inverse CDF), so a row's result does not depend
    on which other rows share the batch. Masks live in one growing table (a row per grammar
    state), so a step gathers them with one index instead of stacking a tensor per row;
    draws come 64 at a time per generator (the same numbers as one at a time).
    """

    DRAWS = 64

    def __init__(self, specs: list[TuneSpec], options: SamplingOptions, grammar: Grammar) -> None:
        self.cursors = [_start(spec) for spec in specs]
        self.generators = [torch.Generator().manual_seed(spec.seed) for spec in specs]
        self.draws: list[list[float]] = [[] for _ in specs]
        self.options, self.grammar = options, grammar
        # The COPY nudge, each row at its style's share of it (x + 0.0 == x: the same numbers).
        shares = torch.tensor([options.copy_bias * get_style(spec.style).copying for spec in specs])
        self.bias = torch.zeros(len(specs), len(VOCAB))
        self.bias[:, COPY_IDS] = shares[:, None]
        self.rhythm_fusion = [get_style(spec.style).rhythm_fusion for spec in specs]
        self.fusing = any(self.rhythm_fusion)  # else no row needs a look at each step
        self.rows: dict[tuple, int] = {}
        self.masks = torch.empty((0, len(VOCAB)))  # 0 where allowed, -inf elsewhere
        self.pad = INDEX[PAD]

    def finished(self) -> bool:
        return all(c.phase == "done" for c in self.cursors)

    def _mask_row(self, key: tuple) -> int:
        row = self.rows.get(key)
        if row is None:
            mask = torch.zeros(len(VOCAB)).masked_fill_(~self.grammar.mask(key), float("-inf"))
            self.masks = torch.cat([self.masks, mask.unsqueeze(0)])
            row = self.rows[key] = len(self.rows)
        return row

    def _draw(self, i: int) -> float:
        if not self.draws[i]:
            self.draws[i] = torch.rand(self.DRAWS, generator=self.generators[i]).tolist()[::-1]
        return self.draws[i].pop()

    def _fuse_rhythm(self, logits: torch.Tensor, i: int) -> None:
        """At a note length, mix the style's own rhythm (composer.style_rhythm) into the
        network's logits (in place): log-linear, at the style's share of it."""
        share, cursor = self.rhythm_fusion[i], self.cursors[i]
        if not share or cursor.phase != "dur":
            return
        meter = cursor.spec.meter
        prior = style_rhythm(cursor.spec.style, meter.name, meter.bar_ticks - cursor.ticks_left,
                             cursor.last_length)
        if prior is not None:
            logits[DUR_IDS] = logits[DUR_IDS].mul_(1 - share).add_(prior, alpha=share)

    def choose(self, logits: torch.Tensor) -> list[int]:
        ids, free = [], []
        for i, cursor in enumerate(self.cursors):
            if cursor.phase == "done":
                ids.append(self.pad)
            elif cursor.forced and cursor.forced[0] != FREE:
                token = cursor.forced.pop(0)
                ids.append(token)
                _advance(cursor, token)
            else:
                if cursor.forced:
                    cursor.forced.pop(0)  # a FREE slot of a given bar: sampled like any other
                ids.append(self.pad)
                free.append(i)
        if not free:
            return ids
        rows = [self._mask_row(_state_key(self.cursors[i])) for i in free]
        every = len(free) == len(ids)
        scaled = logits if every else logits[free]
        bias = self.bias if every else self.bias[free]
        scaled = scaled.add(bias) if self.options.copy_bias else scaled.clone()
        for row, i in enumerate(free):
            if self.cursors[i].repeat_entry is not None:
                scaled[row, self.cursors[i].repeat_entry] += self.options.repeat_entry_bias
        if self.fusing:
            for row, i in enumerate(free):
                self._fuse_rhythm(scaled[row], i)
        if self.options.temperature != 1.0:
            scaled.div_(self.options.temperature)
        scaled.add_(self.masks[rows])
        top_p = torch.tensor([self.options.durations_top_p if self.cursors[i].phase == "dur"
                              else self.options.top_p for i in free])
        probs = _top_p(torch.softmax(scaled, dim=-1), top_p)
        cumulative = probs.cumsum(dim=-1)
        draws = torch.tensor([[self._draw(i)] for i in free]).mul_(cumulative[:, -1:])
        choices = torch.searchsorted(cumulative, draws).clamp_(max=probs.size(-1) - 1)
        picked = probs.gather(1, choices)[:, 0].tolist()
        for row, (i, choice, p) in enumerate(zip(free, choices[:, 0].tolist(), picked,
                                                 strict=True)):
            if p == 0:  # a draw of exactly 0 or 1: take the nearest allowed id
                allowed_ids = probs[row].nonzero()[:, 0]
                choice = int(allowed_ids[(allowed_ids - choice).abs().argmin()])
            cursor = self.cursors[i]
            if cursor.repeat_entry is not None:
                if choice != cursor.repeat_entry:  # the network goes on anew from its note
                    cursor.forced.clear()
                    cursor.given_now = False
                cursor.repeat_entry = None
            if choice in COPY_IDS:
                choice = self.spell_copy(cursor, choice)
            ids[i] = choice
            _advance(self.cursors[i], choice)
        return ids

    @staticmethod
    def spell_copy(cursor: _Cursor, copy: int) -> int:
        """A COPY the network chose, written out as the bar it repeats: its first token now,
        the rest forced, but for its first note (see _Loop.choose, repeat_entry_bias).

        The network reads the notes it repeats, so the bar after a repeat starts from where
        the melody really is: reading only COPY:k, it guessed (teacher forced on held-out
        folk songs, the bar after a COPY opened with a leap of a fourth down, a fifth down or
        a seventh up 8.8% of the time by the network's odds against 4.2% in the songs; after
        a written bar 3.0% against 3.3%)."""
        body = _soft_entry(cursor, tuple(cursor.bodies[-1 - int(VOCAB[copy][5:])]))
        cursor.forced[:0] = body[1:]
        return body[0]
