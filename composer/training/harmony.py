"""Chord labels for melodies that have none, learned from the Bach chorales.

An HMM per mode: the hidden states are chords (relative to the tonic), one per
harmonic-rhythm slot; the observations are the melody's pitch classes in the slot,
weighted by how long they sound, with extra weight on the note sounding at the slot's
start and on the meter's strong beats (those are the notes a listener hears against the
chord). `learn` counts it all from chorale Tunes that carry their own chords, with
add-k smoothing; `harmonize` runs Viterbi with the last chord forced to the tonic.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from composer.data import HARMONY_PATH
from composer.music import PARENT_MODE, Bar, Chord, Tune
from composer.styles import slots_per_bar

COVERAGE = 0.99  # keep the most common chords that cover this share of the chorale beats
SMOOTHING = 0.5  # add-k
SLOT_START_WEIGHT = 1.0  # extra weight of the note sounding when the chord starts
STRONG_BEAT_WEIGHT = 0.5  # extra weight of a note sounding on a strong beat inside the slot
FIRST_TONIC_BONUS = math.log(3.0)  # "preferably start on I"


# ---------------------------------------------------------------- labelling sonorities

@lru_cache(maxsize=20000)
def _label_pitch_set(bass: int, upper: tuple[int, ...]) -> tuple[int, str] | None:
    """(root pitch class, quality) of a sonority by music21, or None when it has no triad."""
    from music21 import chord as m21chord

    pitches = [bass + 48] + [pc + 60 for pc in upper]
    sonority = m21chord.Chord(pitches)
    root = sonority.root().pitchClass
    if sonority.isDominantSeventh():
        return root, "dom7"
    if sonority.isDiminishedSeventh() or sonority.isHalfDiminishedSeventh():
        return root, "dim"
    # Sevenths other than the dominant (ii7, IVmaj7) fall back to their triad.
    quality = {"major": "maj", "minor": "min", "diminished": "dim", "augmented": "maj"}
    label = quality.get(sonority.quality)
    return (root, label) if label else None


def label_sonority(midis: list[int], tonic: int) -> Chord | None:
    """The chord of simultaneous MIDI pitches, relative to `tonic`; None if unlabelable."""
    pcs = {m % 12 for m in midis}
    if len(pcs) < 2:
        return None
    bass = min(midis) % 12
    found = _label_pitch_set(bass, tuple(sorted(pcs)))
    if found is None:
        return None
    root, quality = found
    return Chord((root - tonic) % 12, quality)


# ---------------------------------------------------------------- slots and weights

def chords_per_bar_for(tune: Tune, wanted: int | None = None) -> int:
    """slots_per_bar for a tune's own style and meter."""
    return slots_per_bar(tune.style, tune.meter, wanted)


def _slot_bounds(bar_ticks: int, slots: int) -> list[tuple[int, int]]:
    step = bar_ticks // slots
    return [(k * step, (k + 1) * step) for k in range(slots)]


def _slot_weights(bar: Bar, start: int, end: int, strong: list[int]) -> np.ndarray:
    """How much each relative-to-nothing pitch class (0..11 absolute) counts in one slot."""
    weights = np.zeros(12)
    tick = 0
    for note in bar.notes:
        n_start, n_end = tick, tick + note.ticks
        tick = n_end
        if note.pitch is None or n_end <= start or n_start >= end:
            continue
        w = (min(n_end, end) - max(n_start, start)) / (end - start)
        if n_start <= start < n_end:
            w += SLOT_START_WEIGHT
        w += STRONG_BEAT_WEIGHT * sum(1 for s in strong if start < s < end and n_start <= s < n_end)
        weights[note.pitch % 12] += w
    return weights


def _tune_slots(tune: Tune, slots_per_bar: int) -> np.ndarray:
    """(slots, 12) melody weights with pitch classes relative to the tonic."""
    rows = []
    strong = tune.meter.strong_beats()
    for bar in tune.bars:
        for start, end in _slot_bounds(tune.meter.bar_ticks, slots_per_bar):
            rows.append(np.roll(_slot_weights(bar, start, end, strong), -tune.tonic))
    return np.array(rows).reshape(-1, 12)


# ---------------------------------------------------------------- the model

@dataclass
class ModeModel:
    chords: list[str]  # vocabulary, chord names like "0maj", "7dom7"
    initial: np.ndarray  # (n,) log P(first chord)
    transition: np.ndarray  # (n, n) log P(next | previous)
    emission: np.ndarray  # (n, 12) log P(melody pitch class relative to the tonic | chord)

    def to_json(self) -> dict:
        def rounded(a: np.ndarray):
            return np.round(a, 4).tolist()

        return {"chords": self.chords, "initial": rounded(self.initial),
                "transition": rounded(self.transition), "emission": rounded(self.emission)}

    @staticmethod
    def from_json(obj: dict) -> ModeModel:
        return ModeModel(obj["chords"], np.array(obj["initial"]),
                         np.array(obj["transition"]), np.array(obj["emission"]))


@dataclass
class HarmonyModel:
    modes: dict[str, ModeModel]  # "major" | "minor"

    def save(self, path: Path | None = None) -> None:
        path = Path(path) if path else HARMONY_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {mode: m.to_json() for mode, m in self.modes.items()}
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")

    @staticmethod
    def load(path: Path | None = None) -> HarmonyModel:
        data = json.loads((Path(path) if path else HARMONY_PATH).read_text())
        return HarmonyModel({mode: ModeModel.from_json(m) for mode, m in data.items()})


def _tonic_name(mode: str) -> str:
    return "0maj" if mode == "major" else "0min"


def _bar_slot_chords(bar: Bar, bar_ticks: int) -> list[tuple[int, int, Chord]]:
    """(start, end, chord) of each chord labelled in the bar."""
    offsets = [offset for offset, _ in bar.chords] + [bar_ticks]
    return [(offsets[i], offsets[i + 1], chord) for i, (_, chord) in enumerate(bar.chords)]


def learn(chorales: list[Tune], k: float = SMOOTHING) -> HarmonyModel:
    """Chord vocabulary, initial, transition and emission probabilities per mode."""
    modes = {}
    for mode in ("major", "minor"):
        tunes = [t for t in chorales if t.mode == mode] or chorales
        counts = Counter(c.name for t in tunes for b in t.bars for _, c in b.chords)
        vocab, covered, total = [], 0, sum(counts.values())
        for name, count in counts.most_common():
            if covered >= COVERAGE * total:
                break
            vocab.append(name)
            covered += count
        if _tonic_name(mode) not in vocab:
            vocab.append(_tonic_name(mode))
        index = {name: i for i, name in enumerate(vocab)}
        n = len(vocab)
        initial, transition, emission = np.full(n, k), np.full((n, n), k), np.full((n, 12), k)
        for tune in tunes:
            strong = tune.meter.strong_beats()
            previous = None
            for bar in tune.bars:
                for start, end, chord in _bar_slot_chords(bar, tune.meter.bar_ticks):
                    i = index.get(chord.name)
                    if i is not None:
                        weights = _slot_weights(bar, start, end, strong)
                        emission[i] += np.roll(weights, -tune.tonic)
                        if previous is None:
                            initial[i] += 1
                        else:
                            transition[previous, i] += 1
                    previous = i
        modes[mode] = ModeModel(
            vocab,
            np.log(initial / initial.sum()),
            np.log(transition / transition.sum(axis=1, keepdims=True)),
            np.log(emission / emission.sum(axis=1, keepdims=True)),
        )
    return HarmonyModel(modes)


def viterbi(model: ModeModel, observations: np.ndarray, final: str) -> list[str]:
    """The most likely chord per slot; the last one is forced to `final`."""
    n = len(model.chords)
    scores = observations @ model.emission.T  # (slots, n): weighted log-likelihoods
    first = model.initial + scores[0]
    tonic = model.chords.index(final)
    first[tonic] += FIRST_TONIC_BONUS
    back = np.zeros((len(scores), n), dtype=int)
    current = first
    for t in range(1, len(scores)):
        candidates = current[:, None] + model.transition  # (previous, next)
        back[t] = candidates.argmax(axis=0)
        current = candidates.max(axis=0) + scores[t]
    state = tonic  # the tune ends on I
    path = [state]
    for t in range(len(scores) - 1, 0, -1):
        state = back[t, state]
        path.append(state)
    return [model.chords[i] for i in reversed(path)]


def harmonize(tune: Tune, model: HarmonyModel, chords_per_bar: int) -> Tune:
    """A copy of the tune with one chord per slot (chords_per_bar per bar) in Bar.chords."""
    mode = model.modes[PARENT_MODE[tune.mode]]
    observations = _tune_slots(tune, chords_per_bar)
    names = viterbi(mode, observations, _tonic_name(PARENT_MODE[tune.mode]))
    bounds = _slot_bounds(tune.meter.bar_ticks, chords_per_bar)
    names_iter = iter(names)
    parts = []
    for part in tune.parts:
        new_part = []
        for bar in part:
            chords = [(start, Chord.parse(next(names_iter))) for start, _ in bounds]
            new_part.append(Bar(list(bar.notes), chords))
        parts.append(new_part)
    return replace(tune, parts=parts)


def chord_tone_rate(tunes: list[Tune]) -> float:
    """Share of melody notes sounding on strong beats that belong to the chord there."""
    hits = total = 0
    for tune in tunes:
        strong = tune.meter.strong_beats()
        for bar in tune.bars:
            tick, sounding = 0, []
            for note in bar.notes:
                sounding.append((tick, tick + note.ticks, note.pitch))
                tick += note.ticks
            for beat in strong:
                pitch = next((p for s, e, p in sounding if s <= beat < e), None)
                chord = bar.chord_at(beat)
                if pitch is None or chord is None:
                    continue
                total += 1
                hits += (pitch % 12) in chord.pitch_classes(tune.tonic)
    return hits / total if total else 0.0
