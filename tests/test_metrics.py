"""Tune statistics on small hand-made tunes whose answers are known."""

import random

import numpy as np
import pytest

from composer.music import Bar, Chord, Meter, Note, Tune
from composer.training import metrics

TONIC, DOMINANT = Chord(0, "maj"), Chord(7, "maj")
FOUR_FOUR = Meter(4, 4)


def tune_of(bars: list[list[tuple[int | None, int]]], tonic: int = 0,
            chords: list[Chord] | None = None, meter: Meter = FOUR_FOUR) -> Tune:
    """A one-part tune from (pitch, ticks) bars; one chord per bar when given."""
    made = []
    for i, notes in enumerate(bars):
        bar_chords = [(0, chords[i])] if chords else []
        made.append(Bar([Note(p, t) for p, t in notes], bar_chords))
    return Tune("t", "", "folk", meter, tonic, "major", [made])


def scale_tune(tonic: int = 0) -> Tune:
    """C major (or transposed) scale up, quarter notes, two bars."""
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    notes = [(60 + tonic + s, 12) for s in steps]
    return tune_of([notes[:4], notes[4:]], tonic=tonic)


def random_tune(seed: int, n_bars: int = 8) -> Tune:
    rng = random.Random(seed)
    return tune_of([[(rng.randrange(55, 80), 12) for _ in range(4)] for _ in range(n_bars)])


def test_overlap_of_identical_distributions_is_one_and_disjoint_is_zero():
    p = metrics.pitch_class_histogram(scale_tune())
    assert metrics.histogram_overlap(p, p) == pytest.approx(1.0)
    assert metrics.histogram_overlap([1, 0, 0], [0, 2, 2]) == 0.0
    assert metrics.histogram_overlap([1, 1, 0, 0], [0, 1, 1, 0]) == pytest.approx(0.5)


def test_histograms_are_key_free_distributions():
    in_c, in_d = scale_tune(0), scale_tune(2)
    for fn in (metrics.pitch_class_histogram, metrics.interval_histogram,
               metrics.duration_histogram):
        assert fn(in_c).sum() == pytest.approx(1.0)
        assert np.allclose(fn(in_c), fn(in_d))
    pcs = metrics.pitch_class_histogram(in_c)
    assert pcs[0] == pytest.approx(2 / 8)  # C twice
    assert pcs[1] == 0.0
    intervals = metrics.interval_histogram(in_c)
    assert intervals[metrics.INTERVAL_LIMIT + 2] == pytest.approx(5 / 7)  # whole steps
    assert intervals[metrics.INTERVAL_LIMIT + 1] == pytest.approx(2 / 7)  # half steps
    leap = tune_of([[(60, 24), (84, 24)]])  # two octaves: clipped to +12
    assert metrics.interval_histogram(leap)[-1] == 1.0


def test_scale_consistency_range_and_density():
    assert metrics.scale_consistency(scale_tune(5)) == 1.0
    chromatic = tune_of([[(60 + i, 12) for i in range(4)] for _ in range(3)])
    assert metrics.scale_consistency(chromatic) < 1.0
    assert metrics.pitch_range(scale_tune()) == 12
    assert metrics.note_density(scale_tune()) == 1.0  # a quarter note per beat in 4/4
    with_rest = tune_of([[(60, 24), (None, 24)]])
    assert metrics.note_density(with_rest) == 0.25
    assert metrics.rest_share(with_rest) == 0.5


def test_bar_repetition_counts_bars_equal_to_an_earlier_bar():
    a, b, c = [(60, 48)], [(62, 48)], [(64, 24), (65, 24)]
    assert metrics.bar_repetition(tune_of([a, b, a, c, a, b])) == pytest.approx(3 / 6)
    assert metrics.bar_repetition(tune_of([a, b, c])) == 0.0
    # the same pitches in another rhythm are not a repeat
    assert metrics.bar_repetition(tune_of([a, [(60, 24), (60, 24)]])) == 0.0


def test_complete_bars():
    ok = tune_of([[(60, 48)], [(60, 24), (62, 24)]])
    short = tune_of([[(60, 48)], [(60, 24)]])
    assert metrics.complete_bar_rate([ok]) == 1.0
    assert metrics.complete_bar_rate([short]) == 0.5


def test_copying_finds_an_inserted_20_note_quote_and_not_a_random_tune():
    training = [random_tune(seed, n_bars=12) for seed in range(20)]
    index = metrics.build_figure_index(training, 20)
    # a new tune: its own notes, then 21 notes (20 steps) of training tune 7, transposed
    source = training[7].melody()[10:31]
    quote = [(n.pitch + 5, n.ticks) for n in source]
    own = [(n.pitch, n.ticks) for n in random_tune(99).melody()[:8]]
    notes = own + quote + own
    copier = tune_of([notes[i:i + 4] for i in range(0, len(notes) - len(notes) % 4, 4)])
    assert metrics.shares_figure(copier, index, 20)
    assert not metrics.shares_figure(random_tune(1234), index, 20)
    assert metrics.copy_rate([copier, random_tune(1234)], index, 20) == 0.5
    # a 19-note quote is not a 20-note one
    short = own + quote[:19] + own
    shorter = tune_of([short[i:i + 4] for i in range(0, len(short) - len(short) % 4, 4)])
    assert not metrics.shares_figure(shorter, index, 20)


def test_figures_tell_a_half_step_from_a_whole_step():
    down_half = tune_of([[(60, 12), (59, 12)] * 2])
    down_whole = tune_of([[(60, 12), (58, 12)] * 2])
    index = metrics.build_figure_index([down_half], 2)
    assert metrics.shares_figure(down_half, index, 2)
    assert not metrics.shares_figure(down_whole, index, 2)


def test_bass_clashes_and_chord_tones():
    # C over a C chord: consonant; C over a G chord with root G: a fourth, consonant;
    # F# over C: tritone; B over C: major seventh; Db over C: minor second.
    consonant = tune_of([[(60, 48)], [(60, 48)]], chords=[TONIC, DOMINANT])
    assert metrics.bass_clash_rate([consonant]) == 0.0
    clashing = tune_of([[(66, 12), (71, 12), (61, 12), (64, 12)]], chords=[TONIC])
    assert metrics.bass_clash_rate([clashing]) == pytest.approx(3 / 4)
    # in D (tonic 2) the chord roots move with the key
    in_d = tune_of([[(62, 48)], [(69, 48)]], tonic=2, chords=[TONIC, DOMINANT])
    assert metrics.bass_clash_rate([in_d]) == 0.0


def test_melody_similarity():
    a = tune_of([[(60, 12), (62, 12), (64, 12), (65, 12)]]).bars
    b = tune_of([[(60, 12), (62, 12), (64, 12), (67, 12)]]).bars
    assert metrics.melody_similarity(a, a) == 1.0
    assert metrics.melody_similarity(a, b) == pytest.approx(0.75)
    assert metrics.edit_distance("kitten", "sitting") == 3


def test_classifier_cannot_tell_a_set_from_itself_but_can_tell_apart_different_sets():
    rng = np.random.default_rng(0)
    n_features = len(metrics.feature_names())
    same = rng.normal(size=(200, n_features))
    half = metrics.classifier_accuracy(same[:100], same[100:])["accuracy"]
    assert 0.3 <= half <= 0.7
    shifted = same[100:] + 3.0
    assert metrics.classifier_accuracy(same[:100], shifted)["accuracy"] > 0.95


def test_tune_features_match_their_names():
    assert len(metrics.tune_features(scale_tune())) == len(metrics.feature_names())


def test_evaluate_writes_numbers_and_a_model_card_table(tmp_path):
    """The whole `isadei eval` on the fixture corpus with a small untrained network."""
    import json

    import torch

    from composer.data import TINY_CORPUS_PATH
    from composer.model import ModelConfig, TuneLSTM, save_model
    from composer.tokens import VOCAB
    from composer.training.evaluate import evaluate

    if not TINY_CORPUS_PATH.exists():
        pytest.skip("no fixture corpus yet")
    torch.manual_seed(0)
    weights = tmp_path / "tiny.safetensors"
    counts = {word: 10 for word in VOCAB}
    save_model(TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)), weights,
               {"token_counts": counts})
    out = tmp_path / "metrics.json"
    result = evaluate(n_samples=6, out=out, songs_per_style=1, weights=weights,
                      corpus=TINY_CORPUS_PATH, quick=True)
    assert json.loads(out.read_text())["tunes"]["n"] == result["tunes"]["n"] > 0
    assert result["likelihood"]["lstm"]["bits_per_token"] > 0
    assert result["tunes"]["complete_bars"]["generated"] == 1.0
    markdown = (tmp_path / "metrics.md").read_text()
    assert "| test bits/token (LSTM vs n-gram) |" in markdown
    assert "evaluate(" in markdown  # how to reproduce the numbers
