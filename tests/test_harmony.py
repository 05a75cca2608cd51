"""The harmoniser: chorale chord labels, Viterbi chords for folk tunes, chord-tone rate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from composer.data import TINY_CORPUS_PATH
from composer.music import Bar, Chord, Meter, Note, Tune
from composer.training.corpus import load_corpus
from composer.training.harmony import (
    HARMONY_PATH,
    HarmonyModel,
    chord_tone_rate,
    chords_per_bar_for,
    harmonize,
    label_sonority,
    learn,
    slots_per_bar,
)


@pytest.fixture(scope="module")
def tunes() -> list[Tune]:
    return load_corpus(TINY_CORPUS_PATH)


@pytest.fixture(scope="module")
def model(tunes) -> HarmonyModel:
    """The model learned from all chorales by the cache build; the fixture's if absent."""
    if HARMONY_PATH.exists():
        return HarmonyModel.load(HARMONY_PATH)
    return learn([t for t in tunes if t.style == "chorale"])


def test_label_sonority():
    assert label_sonority([48, 52, 55, 60], tonic=0) == Chord(0, "maj")
    assert label_sonority([43, 59, 62, 65], tonic=0) == Chord(7, "dom7")  # G7 in C
    assert label_sonority([45, 60, 64, 69], tonic=0) == Chord(9, "min")  # vi
    assert label_sonority([47, 62, 65], tonic=0) == Chord(11, "dim")
    assert label_sonority([50, 65, 69, 72], tonic=2) == Chord(0, "min")  # i in D minor
    assert label_sonority([60, 72], tonic=0) is None  # an octave is no chord


def test_chords_per_bar_follows_the_meter():
    def rhythm(style: str, meter: str) -> int:
        return slots_per_bar(style, Meter.parse(meter))

    assert rhythm("folk", "3/4") == 1
    assert rhythm("folk", "4/4") == 2
    assert rhythm("jig", "6/8") == 2
    assert rhythm("slip-jig", "9/8") == 3
    assert rhythm("chorale", "4/4") == 4
    assert rhythm("chorale", "3/4") == 3


def test_model_shape(model):
    for mode, tonic in (("major", "0maj"), ("minor", "0min")):
        m = model.modes[mode]
        assert tonic in m.chords
        n = len(m.chords)
        assert m.transition.shape == (n, n) and m.emission.shape == (n, 12)
        assert 5 <= n <= 40


def test_harmoniser_agrees_with_a_chorale(tunes, model):
    """Harmonising a chorale's soprano gives back many of Bach's own (music21) chords."""
    chorales = [t for t in tunes if t.style == "chorale"]
    agree = total = 0
    for chorale in chorales:
        ours = harmonize(chorale, model, chords_per_bar_for(chorale))
        for bach_bar, our_bar in zip(chorale.bars, ours.bars, strict=True):
            assert [o for o, _ in our_bar.chords] == [o for o, _ in bach_bar.chords]
            for (_, theirs), (_, mine) in zip(bach_bar.chords, our_bar.chords, strict=True):
                agree += theirs.root == mine.root
                total += 1
    assert agree / total > 0.4


def test_scale_ends_on_the_tonic(model):
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60]
    bars = [Bar([Note(p, 12) for p in scale[i:i + 4]]) for i in range(0, len(scale), 4)]
    tune = Tune("test/scale", "C major scale", "folk", Meter(4, 4), 0, "major", [bars])
    done = harmonize(tune, model, 2)
    assert all([o for o, _ in bar.chords] == [0, 24] for bar in done.bars)
    assert done.bars[-1].chords[-1][1] == Chord(0, "maj")
    assert done.bars[0].chords[0][1] == Chord(0, "maj")
    assert tune.bars[0].chords == []  # the input is left alone


def test_chord_tone_rate_is_sane(tunes, model):
    folk = [t for t in tunes if t.style != "chorale"]
    stripped = [replace(t, parts=[[Bar(b.notes) for b in p] for p in t.parts]) for t in folk]
    done = [harmonize(t, model, chords_per_bar_for(t)) for t in stripped]
    rate = chord_tone_rate(done)
    assert 0.75 < rate <= 1.0
    assert 0.8 < chord_tone_rate([t for t in tunes if t.style == "chorale"]) <= 1.0
