"""Windows, features and classifiers of the songs measure, on small synthetic tunes."""

from __future__ import annotations

import copy
import random
from dataclasses import replace

import mido
import numpy as np
import pytest

from composer.music import Bar, Meter, Note, Tune
from composer.training import song_features as sf
from composer.training.songs_eval import (
    _cut_into_bars,
    _seconds_to,
    human_recognition_cross_validated,
    over_seeds,
    song_requests,
    songs_markdown,
)

FOUR = Meter(4, 4)


def tune_from(bars: list[list[tuple[int | None, int]]], meter: Meter = FOUR, tid: str = "t",
              parts: int = 1, mode: str = "major", pickup: int = 0) -> Tune:
    made = [Bar([Note(p, t) for p, t in notes]) for notes in bars]
    size = len(made) // parts
    return Tune(tid, "", "folk", meter, 0, mode,
                [made[i * size:(i + 1) * size] for i in range(parts)], pickup)


def plain_tune(rng: random.Random, tid: str, n_bars: int = 16) -> Tune:
    """Quarter notes in C major, stepwise: one kind of music."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    index, bars = 3, []
    for _ in range(n_bars):
        notes = []
        for _ in range(4):
            index = min(7, max(0, index + rng.choice((-1, 1))))
            notes.append((scale[index], 12))
        bars.append(notes)
    return tune_from(bars, tid=tid)


def busy_tune(rng: random.Random, tid: str, n_bars: int = 16) -> Tune:
    """Sixteenths with leaps and accidentals: clearly another kind."""
    return tune_from([[(rng.randrange(55, 85), 3) for _ in range(16)] for _ in range(n_bars)],
                     tid=tid)


def test_bar_repetition_and_out_of_scale_of_a_known_window():
    a, b = [(60, 48)], [(62, 24), (64, 24)]
    window = tune_from([a, b, a, a, b, [(61, 48)], a, b])
    from composer.training import metrics

    assert metrics.bar_repetition(window) == pytest.approx(5 / 8)  # bars 3, 4, 5, 7, 8 repeat
    assert sf.out_of_scale_share(window) == pytest.approx(1 / 11)  # C# in C major
    assert sf.out_of_scale_share(tune_from([[(70, 48)]], mode="mixolydian")) == 0.0


def test_human_parts_are_played_twice_and_cut_into_16_bar_windows():
    bars = [[(60 + i, 48)] for i in range(16)]
    tune = tune_from(bars, parts=2)  # two 8-bar parts
    played = sf.played_bars(tune)
    assert [b.notes[0].pitch for b in played] == (
        [60 + i for i in range(8)] * 2 + [68 + i for i in range(8)] * 2)
    windows = sf.windows(tune, played)
    assert len(windows) == 2 and all(len(w.bars) == 16 for w in windows)
    assert [len(w.bars) for w in sf.windows(tune_from(bars[:10]))] == [10]  # short: one window
    assert sf.windows(tune_from(bars[:5])) == []
    # the padded pickup bar (an unplayed rest) is left out
    with_pickup = tune_from([[(None, 36), (59, 12)]] + bars[:8], parts=1, pickup=36)
    played = sf.played_bars(with_pickup)
    assert len(played) == 16 and played[0].notes[0].pitch == 60
    # a part's last bar, padded with a rest the upbeat's length, leads into the next round
    # with the upbeat; the tune's very last bar keeps its rest
    short_end = [[(None, 36), (59, 12)]] + bars[:7] + [[(67, 36), (None, 12)]]
    played = sf.played_bars(tune_from(short_end + bars[8:16] + [[(71, 36), (None, 12)]],
                                      parts=2, pickup=36))
    assert len(played) == 34
    ends = [[(n.pitch, n.ticks) for n in played[i].notes] for i in (7, 15, 24, 33)]
    assert ends == [[(67, 36), (59, 12)]] * 2 + [[(71, 36), (59, 12)], [(71, 36), (None, 12)]]


def test_rhythm_figures_and_positions():
    dotted = tune_from([[(60, 9), (62, 3)] * 4])
    snap = tune_from([[(60, 3), (62, 9)] * 4])
    assert sf.pair_shares(dotted)["dotted"] == pytest.approx(0.5)
    assert sf.pair_shares(snap)["snap"] == pytest.approx(0.5)
    positions = sf.position_histogram(dotted)
    assert positions[0] == pytest.approx(0.5) and positions[9] == pytest.approx(0.5)
    jig = tune_from([[(60, 12), (62, 6)] * 2], meter=Meter(6, 8))
    assert sf.pair_shares(jig)["long_short"] == pytest.approx(0.5)
    assert sf.meter_class(Meter(2, 2)) == "4/4" and sf.meter_class(Meter(5, 4)) == "other"


def test_classifier_separates_different_music_and_not_one_kind_from_itself():
    rng = random.Random(0)
    plain = [plain_tune(rng, f"p{i}") for i in range(30)]
    busy = [busy_tune(rng, f"b{i}") for i in range(30)]
    x, names = sf.feature_matrix(plain + busy)
    y = np.array([0] * 30 + [1] * 30)
    verdict = sf.tell_apart(x, y, [t.id for t in plain + busy], names)
    assert verdict.accuracy > 0.9
    assert verdict.top_features
    tells = {t["feature"]: t for t in sf.telltales(x, y, names, top=len(names))}
    assert tells["sixteenths"]["auc"] == 1.0  # busy (label 1) is all sixteenths
    assert tells["sixteenths"]["says"] == "sixteenths and shorter"
    assert abs(tells["pc_0"]["auc"] - 0.5) < abs(tells["sixteenths"]["auc"] - 0.5)
    more = [plain_tune(rng, f"q{i}") for i in range(60)]
    x2, _ = sf.feature_matrix(more)
    halves = np.array([i % 2 for i in range(60)])
    assert abs(sf.tell_apart(x2, halves, [t.id for t in more], names).accuracy - 0.5) < 0.2


def test_windows_of_one_tune_never_split_across_folds():
    rng = random.Random(1)
    # Each "tune" is four identical windows: if folds split a tune, memorising would win.
    tunes = [plain_tune(rng, f"t{i}", 16) for i in range(24)]
    rows = [w for t in tunes for w in [t] * 4]
    x, names = sf.feature_matrix(rows)
    groups = [w.id for w in rows]
    labels = np.array([int(w.id[1:]) % 2 for w in rows])  # a label unrelated to the music
    assert sf.tell_apart(x, labels, groups, names).accuracy < 0.75


def test_spread_and_inside_flag():
    result = sf.against([0.5, 0.6], list(np.linspace(0, 1, 11)))
    assert result["human"]["p10"] == pytest.approx(0.1) and result["inside"]
    assert not sf.against([0.99], list(np.linspace(0, 0.5, 11)))["inside"]


def test_a_band_of_no_width_asks_how_many_songs_sit_on_it():
    # 19 of 20 human tunes without an accidental: the band is 0-0 and their mean is off it.
    human = [0.0] * 19 + [0.006]
    assert not sf.against([sum(human) / 20], human)["inside"]  # the human mean as one song
    assert sf.against([0.0] * 11 + [0.006], human)["inside"]  # 11 of 12 songs on the band
    result = sf.against([0.0] * 9 + [0.006] * 3, human)  # 9 of 12: fewer than BAND_SHARE
    assert result["songs_on_band"] == 0.75 and not result["inside"]


def test_seeds_measure_songs_of_their_own():
    requests, first = song_requests(12, 0)
    assert len(requests) == len(first) == 12 * 13 and first == list(range(len(first)))
    assert [r.length_seconds for r in requests[:5]] == [None, 45, 90, 150, None]
    later = [song_requests(12, seed)[1] for seed in (1, 2, 3)]
    assert all(not set(first) & set(seeds) for seeds in later)  # no song measured twice


def test_midi_timeline_helpers():
    bars = _cut_into_bars([Note(60, 36), Note(62, 24), Note(None, 36)], 48, 96)
    assert [[(n.pitch, n.ticks) for n in b.notes] for b in bars] == [
        [(60, 36), (62, 12)], [(62, 12), (None, 36)]]
    # 480 ticks at 120 bpm, then 480 at 60 bpm: 0.5 s + 1 s
    assert _seconds_to(960, [(0, 500_000), (480, 1_000_000)], 480) == pytest.approx(1.5)
    assert mido  # the reader's dependency is installed


def test_markdown_of_a_minimal_result():
    spread = {"generated": 0.5, "human": {"mean": 0.3, "p10": 0.2, "p90": 0.4}, "inside": False}
    stats = {name: dict(spread) for name in ("bar_repetition", "out_of_scale", "sixteenths",
                                             "rhythm")}
    stats["bar_repetition"]["human_as_written"] = 0.2
    style = {"per_style": {"jig": 1.0}, "overall": 1.0, "confusion": {"jig": {"jigs": 2}},
             "per_group": {"jigs": 1.0},
             "per_style_meter": {"jig": {"6/8": [2, 2]}, "march": {"2/4": [0, 1], "4/4": [1, 1]}}}
    result = {
        "songs": 2, "windows": 6, "window_bars": 16, "command": "x", "seconds": 1.0,
        "human_vs_generated": {"accuracy": 0.8, "accuracy_boosted_trees": 0.9,
                               "human_vs_human": 0.5, "per_style": {"jig": 0.8},
                               "telltales": [{"feature": "bar_repetition", "says": "bars repeating",
                                               "generated": 0.6, "human": 0.3}]},
        "style": {"groups": list(sf.STYLE_GROUPS), "generated": style, "human_held_out": style},
        "statistics": {"jig": stats},
        "copying": {"stock_notes": 12, "copy_notes": 20, "stock_generated_vs_corpus": 0.0,
                    "stock_human_held_out_vs_train": 0.5, "copied_generated_vs_train": 0.0,
                    "per_style": {"jig": {"stock_generated": 0.0, "stock_human": 0.5,
                                          "copied_generated": 0.0}}},
        "form": {"per_style": {"jig": {"all_sections_marked": 1.0,
                                       "length_within_10_percent": 1.0}},
                 "all_sections_marked": 1.0, "length_within_10_percent": 1.0,
                 "same_seed_same_song": True, "single_equals_batched": True,
                 "midi_bars_as_composed": 1.0},
    }
    text = songs_markdown({"songs": result})
    assert "| jig | 2 | 0.80 |" in text and "0.50 (0.20-0.40) OUT" in text
    assert "Over" not in text

    # A second seed told our songs apart less often: the card gives the spread of both.
    other = copy.deepcopy(result)
    other["human_vs_generated"]["accuracy"] = 0.6
    other["human_vs_generated"]["per_style"]["jig"] = 0.5
    other["style"]["generated"] = {**style, "per_group": {"jigs": 0.5}, "overall": 0.5}
    other["statistics"] = {"jig": {**stats, "rhythm": {**spread, "inside": True}}}
    spread = over_seeds([result, other])
    assert spread["styles_inside"]["rhythm"] == {"mean": 0.5, "min": 0, "max": 1}
    assert spread["human_vs_generated"] == {"mean": 0.7, "min": 0.6, "max": 0.8}
    assert spread["per_group_recognised"]["jigs"]["ours"]["mean"] == 0.75
    assert spread["command"] == "x --seeds 2"
    text = songs_markdown({"songs": result, "songs_over_seeds": spread})
    assert "Over 2 seeds (2 songs each" in text and "0.70 (0.60-0.80) (logistic)" in text
    assert "jig 0.65 (0.50-0.80)" in text and "jigs 0.75 (0.50-1.00) against 1.00" in text
    # Both seeds' songs together: 0.5 and 0.5 against 0.2-0.4, outside; rhythm only too low
    assert spread["statistics_pooled"]["bar_repetition"] == {
        "styles_inside": 0, "styles": 1, "outside": ["jig"]}
    assert spread["statistics_pooled"]["rhythm"]["styles_inside"] == 1
    assert "together: bar repetition 0/1 (not jig), out of scale 0/1 (not jig), sixteenths " \
           "0/1 (not jig), rhythm 1/1; each seed on its own (min-max): bar repetition 0-0, " \
           "out of scale 0-0, sixteenths 0-0, rhythm 0-1." in text
    # Where a style is lost: recognised songs per meter, pooled over the seeds, for the
    # styles written in more than one meter.
    assert spread["per_style_meter_recognised"]["ours"]["march"] == {"2/4": [0, 2], "4/4": [2, 2]}
    assert "march 2/4 0/2 (0/2), 4/4 2/2 (2/2)" in text and "jig 6/8" not in text
    # With every corpus tune judged cross-validated beside the held-out ones.
    spread["human_cross_validated"] = {"per_group": {"jigs": 0.9},
                                       "per_style_meter": {"march": {"4/4": [3, 4]}}}
    text = songs_markdown({"songs": result, "songs_over_seeds": spread})
    assert "jigs 0.75 (0.50-1.00) against 1.00 (1.00-1.00) / 0.90" in text
    assert "march 2/4 0/2 (0/2; -), 4/4 2/2 (2/2; 3/4)" in text


def test_every_human_tune_is_judged_once_by_a_classifier_that_did_not_see_it():
    rng = random.Random(0)
    jigs = [replace(plain_tune(rng, f"j{i}"), style="jig") for i in range(30)]
    reels = [replace(busy_tune(rng, f"r{i}"), style="reel") for i in range(30)]
    cv = human_recognition_cross_validated(jigs + reels, folds=3)
    assert cv["folds"] == 3 and cv["tunes"] == {"jig": 30, "reel": 30}
    assert cv["per_style_meter"] == {"jig": {"4/4": [30, 30]}, "reel": {"4/4": [30, 30]}}
    assert cv["per_group"] == {"jigs": 1.0, "reels": 1.0}
    # one kind of music under two names cannot be told apart: about half
    mixed = [replace(t, style="reel") if i % 2 else t
             for i, t in enumerate(replace(plain_tune(rng, f"p{i}"), style="jig")
                                   for i in range(60))]
    assert 0.2 < human_recognition_cross_validated(mixed, folds=3)["overall"] < 0.8
