"""From a SongRequest to a Song: plan the form, let the RNN write each distinct
section once (a song's verse, chorus and bridge in one sequence, so later parts follow
from earlier ones; each tune of a dance set on its own, in its own key), then let it
write the varied repeats (most bars kept, some written anew: second endings, changed
turns), and lay the sections out as the form says.

`plan_song` and `assemble_song` are pure; the network runs in between (`write_songs`),
so a worker can sample many plans in one batch (`compose_many`).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import torch

from composer import naming
from composer.data import STATS_PATH
from composer.form import FormPlan, PlannedSection, plan_form
from composer.heard import Heard
from composer.instruments import Instrument, get_instrument
from composer.model import (
    DEFAULT_WEIGHTS,
    TuneLSTM,
    load_model,
    own_network_path,
    read_metadata,
)
from composer.music import (
    SCALES,
    TICKS_PER_QUARTER,
    Bar,
    Chord,
    Meter,
    Note,
    Tune,
    key_label,
    tonic_pitch_class,
)
from composer.request import SongRequest
from composer.sampler import (
    FREE,
    Grammar,
    PartSpec,
    SamplingOptions,
    TuneSpec,
    as_tune,
    bar_bodies,
    pickup_bars,
    sample_tokens,
)
from composer.song import Section, Song
from composer.styles import STYLES, Style, get_style, slots_per_bar, tempo_in_meter
from composer.tokens import INDEX, bar_tokens, key_shift

# Keys folk players reach for, per mode; a seeded pick when the request names none.
COMMON_KEYS = {"major": ("G", "D", "C", "F", "A", "Bb"), "minor": ("A", "E", "D", "G", "B"),
               "dorian": ("D", "A", "E", "G", "B"), "mixolydian": ("D", "A", "G", "E")}
# Where a human tune's melody lies, key moved to C: the corpus's median 5th-95th percentile.
TUNE_REGISTER = (66, 80)
MATERIALS_PER_TUNE = 2  # a dance tune has an A and a B part; the next tune in a set, C and D
# The key of each further tune in a dance set, in semitones above the first tune: players
# change key between tunes (G -> D, D -> G) or stay; a march's trio is in the subdominant.
SET_KEY_STEPS = (0, 7, 5)
TRIO_STEP = 5
MAX_TUNE_BARS = 32  # a user's tune longer than this is cut (a hummed minute is ~25 bars)
TEMPO_SPREAD = 0.08  # a song's tempo is drawn within this fraction of the style's default
# How players vary a repeat: now and then a second ending (the last two bars anew), and a
# few other bars changed; the more often the part comes back, the more. Held against human
# tunes played AABB (about half the bars of a 16-bar window repeat an earlier bar): at
# 0.35 and (0.1, 0.18, 0.25) our jigs, slip jigs and hornpipes repeated less than 9 in 10
# human ones (`isadei eval songs`). A dance part comes back as it was the first time round
# (see styles.DANCE_COPYING).
SECOND_ENDING = 0.2
# Share of the other bars written anew, by repeat level, per form: a verse or a chorale's
# line comes back varied; a dance part as it was.
VARIED_REPEATS = (0.05, 0.1, 0.15)
REPEAT_SHARE = {"dance": (0.0, 0.05, 0.1), "song": VARIED_REPEATS, "chorale": VARIED_REPEATS}
# A song's last chorus, after a bridge or sung again, goes up a whole step this often (in
# the styles that do it: Style.lifts_last_chorus), and stays there to the end.
LIFT_STEP = 2
LIFT_CHANCE = 0.35


@dataclass(frozen=True)
class Take:
    """One tune the network writes for a song: all materials of a song, or one tune of a
    dance set, in its own key (semitones above the song's tonic)."""

    spec: TuneSpec
    materials: tuple[str, ...]  # material letter of each sampled part, in order
    key_step: int = 0


@dataclass(frozen=True)
class SongPlan:
    request: SongRequest
    seed: int
    key_name: str
    tonic: int
    mode: str
    meter: Meter
    tempo_bpm: int
    instrument: str
    form: FormPlan
    takes: tuple[Take, ...]
    heard: Heard | None = None  # the user's tune the song is built around
    lift_from: int | None = None  # the section (the last chorus) from which the song is lifted

    @property
    def spec(self) -> TuneSpec:
        """The first take's spec (what a benchmark of raw sampling runs)."""
        return self.takes[0].spec

    @property
    def repeat_levels(self) -> int:
        """How many varied versions of the material the form plays: one per later repeat
        (capped), and one more for the intro and coda, so they quote without copying."""
        repeats = max((s.variation for s in self.form.sections), default=0)
        framed = any(s.material in ("intro", "coda") for s in self.form.sections)
        return repeats + framed


def _weighted(rng: random.Random, values: tuple[str, ...], weights: tuple[int, ...]) -> str:
    return rng.choices(values, weights=weights)[0] if len(values) > 1 else values[0]


def plan_song(request: SongRequest, seed: int | None = None,
              heard: Heard | None = None) -> SongPlan:
    """Everything about the song that is decided before the network runs. With `heard`
    (a user's tune), the tune is the first main section: its meter, key, mode and tempo
    are the song's, and the network harmonises it and writes the rest."""
    style = get_style(request.style)
    if seed is None:
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    # Meter and mode as the style's real tunes have them, unless the request says.
    wanted_meter = heard.meter.name if heard else request.meter
    meter = Meter.parse(wanted_meter or _weighted(rng, style.meters, style.meter_weights))
    # A user's tune keeps its key and mode unless the request asks for others ("make it
    # sad", "in D", the Key and Mood buttons): then their melody moves there.
    mode = request.mode or (heard.mode if heard else None) or _weighted(rng, style.modes,
                                                                         style.mode_weights)
    instrument = request.instrument or style.melody_instrument
    key_name = request.key or (heard.key if heard else None) or drawn_key(
        style, mode, get_instrument(instrument), rng)
    tonic = tonic_pitch_class(key_name)
    low, high = style.tempo_range
    drawn = round(style.default_tempo * (1 + rng.uniform(-TEMPO_SPREAD, TEMPO_SPREAD)))
    if heard:  # the user's own pace, in the meter's felt beats
        drawn = round(heard.tempo_bpm * TICKS_PER_QUARTER / meter.beat_ticks)
    tempo = request.tempo_bpm or min(high, max(low, drawn))
    if not heard:  # the style's tempo is in its first meter's beats
        tempo = tempo_in_meter(style, meter, tempo)
    given = _given_melody(heard, mode, slots_per_bar(style.id, meter)) if heard else ()
    form = plan_form(style, meter, tempo, request.length_seconds, len(given) or None)

    letters = sorted(form.materials)
    if style.form == "dance":  # a set: each tune its own take, A+B, C+D, ...
        groups = [tuple(letters[i:i + MATERIALS_PER_TUNE])
                  for i in range(0, len(letters), MATERIALS_PER_TUNE)]
    else:  # a song's verse, chorus and bridge (a chorale's lines) follow one another
        groups = [tuple(letters)]
    takes = []
    for index, group in enumerate(groups):
        step = 0 if index == 0 else TRIO_STEP if style.id == "march" else rng.choice(SET_KEY_STEPS)
        parts = tuple(_part_spec(form, m, style.phrase_bars) for m in group)
        if index == 0 and given:  # the user's tune: cadence where their melody does
            parts = (replace(parts[0], cadence=_cadence_of(heard, style.final_tones),
                             phrase_bars=0),
                     *parts[1:])
        melody_instrument = get_instrument(instrument)
        offset = key_shift((tonic + step) % 12)
        # The melody must fit the instrument, and stay in a singable two octaves or so.
        pitch_range = (max(melody_instrument.low - offset, 55),
                       min(melody_instrument.high - offset, 86))
        theirs = given if index == 0 else ()
        spec = TuneSpec(style.id, meter, mode, parts, slots_per_bar(style.id, meter),
                        pitch_range, seed + 1000 * index, theirs, pickup=not theirs)
        takes.append(Take(spec, group, step))
    return SongPlan(request, seed, key_name, tonic, mode, meter, tempo, instrument, form,
                    tuple(takes), heard, _lifted_chorus(form, style, rng))


def _lifted_chorus(form: FormPlan, style: Style, rng: random.Random) -> int | None:
    """The last chorus's index, if this song lifts it: the third chorus or later (after a
    bridge, or sung again), LIFT_CHANCE of the time, in the styles that lift."""
    choruses = [i for i, s in enumerate(form.sections) if s.kind == "Chorus"]
    if not style.lifts_last_chorus or len(choruses) < 3 or rng.random() >= LIFT_CHANCE:
        return None
    return choruses[-1]


def playable_keys(mode: str, instrument: Instrument) -> tuple[str, ...]:
    """The common keys of the mode in which the instrument plays a tune's usual register
    where it is written: players pick their keys so (brass in flat keys, fiddles in D and
    A). Elsewhere the melody would have to drop an octave below the style's register."""
    low, high = TUNE_REGISTER
    keys = tuple(k for k in COMMON_KEYS[mode]
                 if instrument.low <= low + key_shift(tonic_pitch_class(k))
                 and high + key_shift(tonic_pitch_class(k)) <= instrument.high)
    return keys or COMMON_KEYS[mode]


@cache
def _corpus_keys() -> dict[str, dict[str, int]]:
    """{style: {"D major": tunes}}: the keys of the corpus's tunes (corpus_stats.json)."""
    return json.loads(STATS_PATH.read_text()).get("per_style_key", {}) \
        if STATS_PATH.exists() else {}


def drawn_key(style: Style, mode: str, instrument: Instrument, rng: random.Random) -> str:
    """A key among those the instrument plays the style's tunes in, as often as the style's
    corpus tunes are in it (plus one, so every playable key stays possible): reels and
    marches mostly in D and G, folk songs in G and F. The key sets where the melody lies
    against its tonic: drawn evenly, our reels sat 5 semitones above human ones, key moved
    to C (`isadei eval songs`: the reel's strongest telltale)."""
    keys = playable_keys(mode, instrument)
    counts = _corpus_keys().get(style.id, {})
    return _weighted(rng, keys, tuple(counts.get(key_label(key, mode), 0) + 1 for key in keys))


def _given_melody(heard: Heard, mode: str, chords_per_bar: int) -> tuple[tuple[int, ...], ...]:
    """The user's bars as the network's tokens (key-normalised to their own tonic, so the
    song's key is free), melody only: each bar opens with FREE chord slots the network
    fills. Re-moded when the song's mode differs (the third, sixth and seventh follow);
    moved by octaves into the range the model knows."""
    tonic = tonic_pitch_class(heard.key)
    bars = heard.tune.bars[:MAX_TUNE_BARS]
    relative = sorted(n.pitch - key_shift(tonic) for b in bars for n in b.notes if n.pitch)
    octave = 12 * round((67 - relative[len(relative) // 2]) / 12) if relative else 0
    bodies = []
    for bar in bars:
        moved = Bar([Note(None if n.pitch is None
                          else _in_mode(n.pitch, tonic, heard.mode, mode) + octave, n.ticks)
                     for n in bar.notes])
        bodies.append((FREE,) * chords_per_bar + tuple(INDEX[w] for w in bar_tokens(moved, tonic)))
    return tuple(bodies)


def _in_mode(pitch: int, tonic: int, mode: str, wanted: str) -> int:
    """The same scale degree in another mode (E in C major -> Eb in C minor); notes
    outside the scale stay as they are."""
    degree = (pitch - tonic) % 12
    if mode == wanted or degree not in SCALES[mode]:
        return pitch
    return pitch + SCALES[wanted][SCALES[mode].index(degree)] - degree


def _cadence_of(heard: Heard, final_tones: tuple[int, ...]) -> str:
    """A full cadence under a tune that ends on a final tone of the style (the root or the
    third: Style.final_tones), else a half."""
    tonic = tonic_pitch_class(heard.key)
    last = next((n.pitch for n in reversed(heard.tune.melody()) if n.pitch is not None), tonic)
    return "full" if (last - tonic) % 12 in final_tones else "half"


def _part_spec(form: FormPlan, material: str, phrase_bars: int) -> PartSpec:
    first = next(s for s in form.sections if s.material == material)
    cadence = "full" if material == _ending_material(form) else first.cadence
    return PartSpec(bars=form.materials[material], cadence=cadence,
                    contrast=first.kind == "Bridge", phrase_bars=phrase_bars)


def _ending_material(form: FormPlan) -> str:
    """The material the song ends with (directly, or quoted by the coda): it must cadence."""
    last = form.sections[-1]
    return last.source or last.material if last.material not in form.materials else last.material


def repeat_spec(spec: TuneSpec, tokens: list[int], level: int, seed: int) -> TuneSpec:
    """The spec of a varied repeat: the take's own bars, except some the network writes
    anew, as players vary a tune the second time round: a second ending (the last two bars
    of a part) now and then, and a share of the other bars; the first bar of every part
    stays, so the repeat is recognisably the same tune."""
    rng = random.Random(seed * 31 + level)
    bodies = bar_bodies(tokens)
    given: list[tuple[int, ...] | None] = list(bodies)
    shares = REPEAT_SHARE[get_style(spec.style).form]
    share = shares[min(level, len(shares)) - 1]
    start = pickup_bars(tokens, spec)  # a pickup bar comes back as it was
    for part in spec.parts:
        ending = rng.random() < SECOND_ENDING
        for j in range(1, part.bars):
            last_two = j >= part.bars - 2
            users = spec.given_bar(start + j) is not None  # a user's bar stays theirs
            if not users and ((last_two and ending) or (not last_two and rng.random() < share)):
                given[start + j] = None
        start += part.bars
    return replace(spec, seed=spec.seed + 7919 * level, given=tuple(given), rejoins=True)


def assemble_song(plan: SongPlan, takes: list[list[Tune]]) -> Song:
    """Lay the sampled materials out along the form, in the real key. takes[k][v] is take
    k in its version v: 0 the first statement, 1.. the varied repeats."""
    versions: dict[str, list[list[Bar]]] = {}
    for take, tunes in zip(plan.takes, takes, strict=True):
        offset = key_shift((plan.tonic + take.key_step) % 12) + _octave_shift(tunes, plan, take)
        for version in tunes:
            for m, part in zip(take.materials, version.parts, strict=False):
                bars = [transpose_bar(b, offset, take.key_step) for b in part]
                versions.setdefault(m, []).append(bars)
    key_steps = {m: take.key_step for take in plan.takes for m in take.materials}
    sections = [
        Section(kind=s.kind, name=s.name, material=s.material,
                bars=_section_bars(s, versions, plan),
                loudness=s.loudness, ritardando=s.ritardando,
                key_step=key_steps[_played_material(s, versions)])
        for s in plan.form.sections
    ]
    instrument = get_instrument(plan.instrument)
    if plan.lift_from is not None:
        _lift(sections[plan.lift_from:], instrument)
    last = sections[-1]
    last.bars[-1] = _final_bar(last.bars[-1], plan.tonic, last.kind == "Coda", instrument,
                               get_style(plan.request.style).final_tones)
    title = naming.title(plan.request.style, plan.key_name, plan.mode, plan.request.lang)
    tune, heard = None, plan.heard
    if heard:
        tune = {**heard.to_dict(), "source": heard.source,
                "sections": [s.name for s in sections if s.material == "A"]}
    return Song(request=plan.request, title=title, style=plan.request.style, meter=plan.meter,
                tonic=plan.tonic, key_name=plan.key_name, mode=plan.mode,
                tempo_bpm=plan.tempo_bpm, instrument=plan.instrument, seed=plan.seed,
                sections=sections, tune=tune)


def _octave_shift(versions: list[Tune], plan: SongPlan, take: Take) -> int:
    """0 or +-12: put the melody's middle where the style's own tunes have theirs
    (Style.register), if the melody still fits the instrument, every version of it (a
    repeat's new bars too: one note out of range and the arranger would move the whole melody
    an octave). It was C5 for every style; the corpus's folk songs and waltzes sit around
    A4, its Irish and Scottish dance tunes around C#5."""
    pitches = sorted(n.pitch for tune in versions for n in tune.melody() if n.pitch is not None)
    if not pitches:
        return 0
    base = key_shift((plan.tonic + take.key_step) % 12)
    instrument = get_instrument(plan.instrument)
    low, high = pitches[0] + base, pitches[-1] + base
    fitting = [o for o in (0, 12, -12) if instrument.low <= low + o and high + o <= instrument.high]
    median, register = pitches[len(pitches) // 2] + base, get_style(plan.request.style).register
    return min(fitting or [0], key=lambda o: abs(median + o - register))


def _lift(sections: list[Section], instrument: Instrument) -> None:
    """Move these sections (the last chorus and what follows) up LIFT_STEP semitones, into
    their own key, if the melody still fits the instrument there."""
    top = max((n.pitch for s in sections for b in s.bars for n in b.notes
               if n.pitch is not None), default=0)
    if top + LIFT_STEP > instrument.high:
        return
    for section in sections:
        section.bars = [transpose_bar(b, LIFT_STEP, LIFT_STEP) for b in section.bars]
        section.key_step += LIFT_STEP


def _played_material(section: PlannedSection, versions: dict[str, list[list[Bar]]]) -> str:
    """The written material a section plays: its own, or for an intro or coda the one it
    quotes (the one the form names, else the chorus or B part)."""
    if section.material in versions:
        return section.material
    fallback = "B" if "B" in versions else min(versions)
    return section.source if section.source in versions else fallback


def _section_bars(section: PlannedSection, versions: dict[str, list[list[Bar]]],
                  plan: SongPlan) -> list[Bar]:
    takes = versions[_played_material(section, versions)]
    if section.material in versions:
        return [_copy_bar(b) for b in takes[min(section.variation, len(takes) - 1)]]
    # Intro and coda quote the end of their material in a version of their own: the last
    # one written.
    return [_copy_bar(b) for b in takes[-1][-section.bars:]]


def transpose_bar(bar: Bar, semitones: int, chord_steps: int = 0) -> Bar:
    """The bar moved by `semitones`; its chords (relative to the song's tonic) moved by
    `chord_steps` when the bar is in another key than the song's (a later tune of a set)."""
    notes = [Note(None if n.pitch is None else n.pitch + semitones, n.ticks) for n in bar.notes]
    chords = [(at, Chord((c.root + chord_steps) % 12, c.quality)) for at, c in bar.chords]
    return Bar(notes=notes, chords=chords)


def _copy_bar(bar: Bar) -> Bar:
    return Bar(notes=list(bar.notes), chords=list(bar.chords))


def _final_bar(bar: Bar, tonic: int, coda: bool, instrument: Instrument,
               final_tones: tuple[int, ...]) -> Bar:
    """The song's last bar arrives on its cadence note (see _cadence_at) and holds it to the
    end, without the notes that would lead into a repeat that does not come; a coda holds
    that one note for the whole bar. The last note is one of the style's final tones above
    the final chord's root (Style.final_tones), else the root: a part may cadence on the
    fifth, but most songs ending there sound unfinished."""
    at = _cadence_at(bar)
    if at is None:
        return bar
    root = (tonic + bar.chords[-1][1].root) % 12 if bar.chords else tonic
    pitch = bar.notes[at].pitch
    roots = [p for p in range(pitch - 6, pitch + 7)
             if p % 12 == root and instrument.low <= p <= instrument.high]
    if (pitch - root) % 12 not in final_tones and roots:
        pitch = min(roots, key=lambda p: (abs(p - pitch), p))
    if coda:
        return Bar(notes=[Note(pitch, bar.ticks)], chords=bar.chords[-1:])
    held = bar.ticks - sum(n.ticks for n in bar.notes[:at])
    return Bar(notes=[*bar.notes[:at], Note(pitch, held)], chords=list(bar.chords))


def _cadence_at(bar: Bar) -> int | None:
    """The index of the note sounding as the bar's last chord begins (where the sampler
    puts a part's cadence), or None if a rest sounds there."""
    chord_at = bar.chords[-1][0] if bar.chords else 0
    tick = 0
    for index, note in enumerate(bar.notes):
        if tick <= chord_at < tick + note.ticks:
            return index if note.pitch is not None else None
        tick += note.ticks
    return None


def set_torch_threads() -> None:
    """The one place that decides torch's CPU threads (ISADEI_TORCH_THREADS, default 1).
    One sampling step is a few small matrix-vector products: on a CPU one thread is as fast
    as two, and two fight badly with FluidSynth and with other processes."""
    torch.set_num_threads(int(os.environ.get("ISADEI_TORCH_THREADS") or 1))


@lru_cache(maxsize=1)
def default_model() -> tuple[TuneLSTM, Grammar]:
    """The shipped model and the grammar of what it saw in training, loaded once."""
    set_torch_threads()
    model = load_model(DEFAULT_WEIGHTS)
    counts = read_metadata(DEFAULT_WEIGHTS).get("token_counts", {})
    return model, grammar_from_counts(counts)


@cache
def own_network(style_id: str) -> TuneLSTM | None:
    """The style's own network, loaded once; None where the shared one writes the style (and
    where other shared weights, ISADEI_WEIGHTS, come without one beside them)."""
    path = own_network_path(style_id)
    if not get_style(style_id).own_network or not path.exists():
        return None
    return load_model(path)


def networks() -> list[TuneLSTM]:
    """The shared network and every style's own, loaded: what a worker warms and moves to
    its device."""
    own = [network for style in STYLES if (network := own_network(style)) is not None]
    return [default_model()[0], *own]


def grammar_from_counts(counts: dict[str, int], min_count: int = 5) -> Grammar:
    """Only offer durations and chords the training data used often enough."""
    durations = {int(w[4:]) for w, n in counts.items() if w.startswith("DUR:") and n >= min_count}
    chords = {w[6:] for w, n in counts.items() if w.startswith("CHORD:") and n >= min_count}
    return Grammar(durations or None, chords or None)


def write_songs(model: TuneLSTM, grammar: Grammar, plans: list[SongPlan],
                options: SamplingOptions | None = None, own_networks: bool = True) -> list[Song]:
    """The network writes every take of every plan in one batch, then every varied repeat
    in a second batch (a repeat keeps most of its take's bars, so it needs them first).
    A style with a network of its own is written by it (own_networks), in a batch of its own."""
    def sample(specs: list[TuneSpec]) -> list[list[int]]:
        writers = [(own_networks and own_network(spec.style)) or model for spec in specs]
        tokens: list[list[int]] = [[] for _ in specs]
        for network in {id(n): n for n in writers}.values():  # rows do not depend on the batch
            rows = [i for i, n in enumerate(writers) if n is network]
            sampled, _ = sample_tokens(network, [specs[i] for i in rows], options, grammar)
            for i, row_tokens in zip(rows, sampled, strict=True):
                tokens[i] = row_tokens
        return tokens

    firsts = [take.spec for plan in plans for take in plan.takes]
    tokens = sample(firsts)
    repeats: list[TuneSpec] = []
    i = 0
    for plan in plans:
        for take in plan.takes:
            repeats += [repeat_spec(take.spec, tokens[i], level, plan.seed)
                        for level in range(1, plan.repeat_levels + 1)]
            i += 1
    repeat_tokens = sample(repeats) if repeats else []
    first_tunes = iter([as_tune(s, spec) for s, spec in zip(tokens, firsts, strict=True)])
    repeat_tunes = iter([as_tune(s, spec) for s, spec in zip(repeat_tokens, repeats, strict=True)])
    songs = []
    for plan in plans:
        takes = [[next(first_tunes)] + [next(repeat_tunes) for _ in range(plan.repeat_levels)]
                 for _ in plan.takes]
        songs.append(assemble_song(plan, takes))
    return songs


def compose_many(requests: list[SongRequest], seeds: list[int | None] | None = None,
                 options: SamplingOptions | None = None,
                 heards: list[Heard | None] | None = None) -> list[Song]:
    """Compose several songs with batched sampling runs (each around a user's tune when
    `heards` gives one)."""
    seeds = seeds or [None] * len(requests)
    heards = [h or _heard_of(r) for h, r in zip(heards or [None] * len(requests), requests,
                                                strict=True)]
    started = time.perf_counter()
    plans = [plan_song(r, s, h) for r, s, h in zip(requests, seeds, heards, strict=True)]
    model, grammar = default_model()
    loaded = time.perf_counter()
    songs = write_songs(model, grammar, plans, options)
    done = time.perf_counter()
    for song in songs:
        song.timings.update({"plan_and_load": loaded - started, "generate": done - loaded})
    return songs


def _heard_of(request: SongRequest) -> Heard | None:
    """The user's tune a request carries (see SongRequest.tune), if any."""
    if not request.tune:
        return None
    from composer.listen import heard_from_json

    return heard_from_json(request.tune)


def compose(request: SongRequest, seed: int | None = None,
            options: SamplingOptions | None = None, heard: Heard | None = None) -> Song:
    """One song for one request (around a user's tune when `heard` gives one); the same
    request, seed and tune give the same song."""
    return compose_many([request], [seed], options, [heard])[0]
