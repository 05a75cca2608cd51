"""From a SongRequest to a Song: plan the form, let the RNN write each distinct
section once (all of them in one sequence, so later parts follow from earlier ones),
then lay the sections out as the form says, varying the repeats.

`plan_song` and `assemble_song` are pure; the network runs in between, so a worker
can sample many plans in one batch (`compose_many`).
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from functools import lru_cache

import torch

from composer.form import FormPlan, PlannedSection, plan_form
from composer.harmony import slots_per_bar
from composer.instruments import get_instrument
from composer.model import DEFAULT_WEIGHTS, TuneLSTM, load_model, read_metadata
from composer.music import SCALES, Bar, Meter, Note, Tune
from composer.request import SongRequest, tonic_pitch_class
from composer.sampler import Grammar, PartSpec, SamplingOptions, TuneSpec, sample_tunes
from composer.song import Section, Song
from composer.styles import get_style
from composer.tokens import key_shift

# Keys folk players reach for, per mode; a seeded pick when the request names none.
COMMON_KEYS = {"major": ("G", "D", "C", "F", "A", "Bb"), "minor": ("A", "E", "D", "G", "B")}
MATERIAL_ORDER = ("A", "B", "C", "D")


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
    spec: TuneSpec
    materials: tuple[str, ...]  # material letter of each sampled part, in order


def plan_song(request: SongRequest, seed: int | None = None) -> SongPlan:
    """Everything about the song that is decided before the network runs."""
    style = get_style(request.style)
    if seed is None:
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    mode = request.mode or style.default_mode
    key_name = request.key or rng.choice(COMMON_KEYS[mode])
    tonic = tonic_pitch_class(key_name)
    meter = Meter.parse(style.meters[0])
    tempo = request.tempo_bpm or style.default_tempo
    instrument = request.instrument or style.melody_instrument
    form = plan_form(style, meter, tempo, request.length_seconds)

    materials = tuple(m for m in MATERIAL_ORDER if m in form.materials)
    parts = tuple(_part_spec(form, m) for m in materials)
    melody_instrument = get_instrument(instrument)
    low, high = melody_instrument.low, melody_instrument.high
    offset = key_shift(tonic)
    # The melody must fit the instrument, and stay in a singable two octaves or so.
    pitch_range = (max(low - offset, 55), min(high - offset, 86))
    spec = TuneSpec(style.id, meter, mode, parts, slots_per_bar(style.id, meter), pitch_range, seed)
    return SongPlan(request, seed, key_name, tonic, mode, meter, tempo, instrument, form,
                    spec, materials)


def _part_spec(form: FormPlan, material: str) -> PartSpec:
    first = next(s for s in form.sections if s.material == material)
    cadence = "full" if material == _ending_material(form) else first.cadence
    return PartSpec(bars=form.materials[material], cadence=cadence,
                    contrast=first.kind == "Bridge")


def _ending_material(form: FormPlan) -> str:
    """The material the song ends with (directly, or quoted by the coda): it must cadence."""
    last = form.sections[-1]
    return last.source or last.material if last.material not in form.materials else last.material


def assemble_song(plan: SongPlan, tune: Tune) -> Song:
    """Lay the sampled materials out along the form, in the real key."""
    offset = key_shift(plan.tonic) + _octave_shift(tune, plan)
    material_bars = {m: [transpose_bar(b, offset) for b in part]
                     for m, part in zip(plan.materials, tune.parts, strict=False)}
    rng = random.Random(plan.seed)
    sections = [
        Section(kind=s.kind, name=s.name, material=s.material,
                bars=_section_bars(s, material_bars, plan, rng),
                loudness=s.loudness, ritardando=s.ritardando)
        for s in plan.form.sections
    ]
    style_name = plan.spec.style.replace("-", " ").title()
    title = f"{style_name} in {plan.key_name} {plan.mode}"
    return Song(request=plan.request, title=title, style=plan.spec.style, meter=plan.meter,
                tonic=plan.tonic, key_name=plan.key_name, mode=plan.mode,
                tempo_bpm=plan.tempo_bpm, instrument=plan.instrument, seed=plan.seed,
                sections=sections)


def _octave_shift(tune: Tune, plan: SongPlan, centre: int = 67) -> int:
    """0 or +-12: put the melody's middle near G4, where it reads on the staff and sings,
    if the whole melody still fits the instrument."""
    pitches = sorted(n.pitch for n in tune.melody() if n.pitch is not None)
    if not pitches:
        return 0
    base = key_shift(plan.tonic)
    instrument = get_instrument(plan.instrument)
    low, high = pitches[0] + base, pitches[-1] + base
    fitting = [o for o in (0, 12, -12) if instrument.low <= low + o and high + o <= instrument.high]
    median = pitches[len(pitches) // 2] + base
    return min(fitting or [0], key=lambda o: abs(median + o - centre))


def _section_bars(section: PlannedSection, material_bars: dict[str, list[Bar]],
                  plan: SongPlan, rng: random.Random) -> list[Bar]:
    if section.material in material_bars:
        bars = material_bars[section.material][: section.bars]
        if section.variation:
            bars = vary_melody(bars, plan.mode, plan.tonic, rng, amount=0.2 * section.variation)
        return bars
    # Intro and coda quote the end of the material the form names (the chorus, say).
    fallback = "B" if "B" in material_bars else plan.materials[0]
    source = material_bars.get(section.source or fallback, material_bars[fallback])
    bars = [_copy_bar(b) for b in source[-section.bars:]]
    if section.kind == "Coda":
        bars[-1] = _held_final(bars[-1])
    return bars


def transpose_bar(bar: Bar, semitones: int) -> Bar:
    notes = [Note(None if n.pitch is None else n.pitch + semitones, n.ticks) for n in bar.notes]
    return Bar(notes=notes, chords=list(bar.chords))


def _copy_bar(bar: Bar) -> Bar:
    return Bar(notes=list(bar.notes), chords=list(bar.chords))


def _held_final(bar: Bar) -> Bar:
    """End on one long note: the last pitch of the bar, held for the whole bar."""
    pitches = [n.pitch for n in bar.notes if n.pitch is not None]
    if not pitches:
        return bar
    return Bar(notes=[Note(pitches[-1], bar.ticks)], chords=[bar.chords[-1]] if bar.chords else [])


def vary_melody(bars: list[Bar], mode: str, tonic: int, rng: random.Random,
                amount: float = 0.2) -> list[Bar]:
    """A later verse: same chords and rhythm skeleton, a few notes ornamented.

    In a share of the bars (never the last two: the cadence stays), one long note is
    split into the note and a step towards the next note, as singers do on a second
    verse. The result is recognisably the same tune.
    """
    scale = {(tonic + step) % 12 for step in SCALES[mode]}
    varied = [_copy_bar(b) for b in bars]
    for index in range(max(0, len(varied) - 2)):
        if rng.random() < amount:
            varied[index] = _ornament(varied[index], scale, rng)
    return varied


def _ornament(bar: Bar, scale: set[int], rng: random.Random) -> Bar:
    candidates = [i for i, n in enumerate(bar.notes)
                  if n.pitch is not None and n.ticks >= 12 and n.ticks % 2 == 0]
    if not candidates:
        return bar
    i = rng.choice(candidates)
    note = bar.notes[i]
    direction = rng.choice((-1, 1))
    step = note.pitch + direction
    while step % 12 not in scale:
        step += direction
    half = note.ticks // 2
    notes = bar.notes[:i] + [Note(note.pitch, half), Note(step, half)] + bar.notes[i + 1:]
    return Bar(notes=notes, chords=list(bar.chords))


@lru_cache(maxsize=1)
def default_model() -> tuple[TuneLSTM, Grammar]:
    """The shipped model and the grammar of what it saw in training, loaded once."""
    # One sampling step is a few small matrix-vector products: on a CPU one thread is as
    # fast as two, and two fight badly with FluidSynth and with other processes.
    torch.set_num_threads(int(os.environ.get("ISADEI_TORCH_THREADS") or 1))
    model = load_model(DEFAULT_WEIGHTS)
    counts = read_metadata(DEFAULT_WEIGHTS).get("token_counts", {})
    return model, grammar_from_counts(counts)


def grammar_from_counts(counts: dict[str, int], min_count: int = 5) -> Grammar:
    """Only offer durations and chords the training data used often enough."""
    durations = {int(w[4:]) for w, n in counts.items() if w.startswith("DUR:") and n >= min_count}
    chords = {w[6:] for w, n in counts.items() if w.startswith("CHORD:") and n >= min_count}
    return Grammar(durations or None, chords or None)


def compose_many(requests: list[SongRequest], seeds: list[int | None] | None = None,
                 options: SamplingOptions | None = None) -> list[Song]:
    """Compose several songs with one batched sampling run."""
    seeds = seeds or [None] * len(requests)
    started = time.perf_counter()
    plans = [plan_song(r, s) for r, s in zip(requests, seeds, strict=True)]
    model, grammar = default_model()
    loaded = time.perf_counter()
    tunes, _ = sample_tunes(model, [p.spec for p in plans], options, grammar)
    generated = time.perf_counter()
    songs = [assemble_song(p, t) for p, t in zip(plans, tunes, strict=True)]
    for song in songs:
        song.timings.update({"plan_and_load": loaded - started, "generate": generated - loaded,
                             "assemble": time.perf_counter() - generated})
    return songs


def compose(request: SongRequest, seed: int | None = None,
            options: SamplingOptions | None = None) -> Song:
    """One song for one request; the same request and seed give the same song."""
    return compose_many([request], [seed], options)[0]
