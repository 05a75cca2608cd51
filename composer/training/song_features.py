"""Melody statistics of 16-bar windows, and the classifiers that judge them.

Pure functions over `Tune`s and arrays (no model, no files), used by
`composer.training.songs_eval`: cut tunes into windows, describe each window as one
feature vector, ask "human or generated?" and "which style?", and summarise a human
spread (10th-90th percentile) to hold our songs against.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from composer.music import SCALES, Bar, Meter, Note, Tune
from composer.training import metrics

WINDOW_BARS = 16
MIN_WINDOW_BARS = 8  # a shorter tune still gives one window if it has this many bars
# Coarse style groups: styles a listener (or a classifier) cannot be asked to tell apart.
STYLE_GROUPS: dict[str, tuple[str, ...]] = {
    "songs": ("folk", "ballad", "lullaby"), "jigs": ("jig", "slip-jig"),
    "reels": ("reel", "hornpipe", "strathspey"), "waltz": ("waltz",), "march": ("march",),
    "air": ("air",), "chorale": ("chorale",), "chinese-folk": ("chinese-folk",),
}
GROUP_OF = {style: group for group, styles in STYLE_GROUPS.items() for style in styles}
# 2/2 and 4/4 are one bar shape (the corpus writes reels both ways); the rest as written.
METER_CLASSES = ("2/4", "3/4", "4/4", "6/8", "9/8", "3/8", "12/8", "other")
POSITION_BINS = 12  # onset position inside the felt beat, in twelfths


def meter_class(meter: Meter) -> str:
    name = "4/4" if meter.name == "2/2" else meter.name
    return name if name in METER_CLASSES else "other"


# ---------------------------------------------------------------- windows

def played_bars(tune: Tune) -> list[Bar]:
    """A human tune's bars as musicians play them: every part twice (AABB).

    The corpus writes each part once (repeat signs dropped), while our songs carry their
    repeats; playing the human parts twice compares like with like. The padded pickup bar
    (a rest nobody plays, then the upbeat) is left out: our songs start on a full bar, and
    that unplayed rest would read as a tell (rests, a downbeat not struck) that is only
    notation. The upbeat's one or two notes go with it. For the same reason a part's last
    bar, written short and padded with a rest the length of the upbeat, is played into the
    next round with the upbeat in that rest (43% of the corpus's parts of tunes with a
    pickup end so); the tune's very last bar keeps its rest.
    """
    upbeat = _upbeat(tune)
    bars: list[Bar] = []
    for index, part in enumerate(tune.parts):
        if index == 0 and tune.pickup_ticks and len(part) > 1:
            part = part[1:]
        into_next_round = [*part[:-1], _led_in(part[-1], upbeat)] if part else part
        last = index == len(tune.parts) - 1  # its second time round ends the tune
        bars += into_next_round + (part if last else into_next_round)
    return bars


def _upbeat(tune: Tune) -> list[Note]:
    """The notes of a tune's pickup (after the rest that pads it to a bar), or none."""
    if not tune.pickup_ticks or not tune.parts or not tune.parts[0]:
        return []
    notes, tick = [], 0
    for note in tune.parts[0][0].notes:
        if tick >= tune.pickup_ticks:
            notes.append(note)
        tick += note.ticks
    return notes if any(n.pitch is not None for n in notes) else []


def _led_in(bar: Bar, upbeat: list[Note]) -> Bar:
    """A part's last bar with the rest that pads it (the upbeat's length) played as the
    upbeat; any other bar as it is."""
    sounding = [i for i, note in enumerate(bar.notes) if note.pitch is not None]
    if not upbeat or not sounding:
        return bar
    kept = bar.notes[:sounding[-1] + 1]
    if sum(n.ticks for n in bar.notes[len(kept):]) != sum(n.ticks for n in upbeat):
        return bar
    return replace(bar, notes=kept + upbeat)


def windows(tune: Tune, bars: Sequence[Bar] | None = None,
            size: int = WINDOW_BARS) -> list[Tune]:
    """Non-overlapping `size`-bar windows of the tune (of `bars` when given), as Tunes.

    A tune shorter than `size` bars gives one window when it has MIN_WINDOW_BARS.
    """
    bars = list(tune.bars if bars is None else bars)
    starts = list(range(0, len(bars) - size + 1, size))
    if not starts and len(bars) >= MIN_WINDOW_BARS:
        starts, size = [0], len(bars)
    return [Tune(f"{tune.id}#{i}", tune.title, tune.style, tune.meter, tune.tonic, tune.mode,
                 [bars[start:start + size]]) for i, start in enumerate(starts)]


# ---------------------------------------------------------------- features

def out_of_scale_share(tune: Tune) -> float:
    """Share of sounding notes outside the tune's own mode scale (its accidentals)."""
    scale = {(tune.tonic + step) % 12 for step in SCALES.get(tune.mode, SCALES["major"])}
    ps = metrics.pitches(tune)
    return sum(p % 12 not in scale for p in ps) / len(ps) if ps else 0.0


def sixteenth_share(tune: Tune) -> float:
    """Share of sounding notes a sixteenth or shorter (3 ticks or fewer)."""
    notes = [n for n in tune.melody() if n.pitch is not None]
    return sum(n.ticks <= 3 for n in notes) / len(notes) if notes else 0.0


def onsets(tune: Tune) -> list[tuple[int, int, int]]:
    """(bar index, tick in bar, ticks) of every sounding note."""
    out = []
    for index, bar in enumerate(tune.bars):
        tick = 0
        for note in bar.notes:
            if note.pitch is not None:
                out.append((index, tick, note.ticks))
            tick += note.ticks
    return out


def position_histogram(tune: Tune) -> np.ndarray:
    """(12,) share of onsets at each twelfth of the felt beat: 0 = on the beat, 3 = a
    sixteenth after in simple time, 4 and 8 = triplets, 2/6/10 = compound sixteenths."""
    beat = tune.meter.beat_ticks
    counts = np.zeros(POSITION_BINS)
    for _, tick, _ in onsets(tune):
        counts[round((tick % beat) * POSITION_BINS / beat) % POSITION_BINS] += 1
    return metrics.normalise(counts)


def pair_shares(tune: Tune) -> dict[str, float]:
    """Rhythm figures of two notes that start on a subdivision of their joint length:
    dotted (long-short 3:1, the hornpipe), snap (short-long 1:3, the strathspey),
    and long-short 2:1 (the jig's quarter-eighth), per note."""
    counts = {"dotted": 0, "snap": 0, "long_short": 0}
    notes = 0
    for bar in tune.bars:
        tick = 0
        for a, b in zip(bar.notes, bar.notes[1:], strict=False):
            if a.pitch is not None and b.pitch is not None and tick % (a.ticks + b.ticks) == 0:
                counts["dotted"] += a.ticks == 3 * b.ticks
                counts["snap"] += b.ticks == 3 * a.ticks
                counts["long_short"] += a.ticks == 2 * b.ticks
            tick += a.ticks
        notes += sum(n.pitch is not None for n in bar.notes)
    return {k: v / notes if notes else 0.0 for k, v in counts.items()}


def held_cadence_share(tune: Tune) -> float:
    """Share of two-bar phrases whose last note lasts a beat or more (the chorale's hold)."""
    bars = tune.bars
    ends = [bars[i] for i in range(1, len(bars), 2)]
    held = 0
    for bar in ends:
        sounding = [n for n in bar.notes if n.pitch is not None]
        held += bool(sounding) and sounding[-1].ticks >= tune.meter.beat_ticks
    return held / len(ends) if ends else 0.0


def downbeat_share(tune: Tune) -> float:
    """Share of bars with a note struck on the downbeat (not a rest or a held-over note)."""
    struck = {index for index, tick, _ in onsets(tune) if tick == 0}
    return len(struck) / len(tune.bars) if tune.bars else 0.0


def mode_colour(pc: np.ndarray) -> dict[str, float]:
    """Which third, sixth and seventh the melody uses: minor / (minor + major)."""
    def flat(low: int, high: int) -> float:
        total = pc[low] + pc[high]
        return float(pc[low] / total) if total else 0.5
    return {"minor_third": flat(3, 4), "minor_sixth": flat(8, 9), "flat_seventh": flat(10, 11)}


def melody_features(tune: Tune) -> dict[str, float]:
    """One window as named numbers: metrics' histograms and scalars, plus rhythm figures,
    onset positions, accidentals and mode colour."""
    pc = metrics.pitch_class_histogram(tune)
    values: dict[str, float] = {f"pc_{i}": float(v) for i, v in enumerate(pc)}
    values.update({f"interval_{i - metrics.INTERVAL_LIMIT}": float(v)
                   for i, v in enumerate(metrics.interval_histogram(tune))})
    values.update({f"duration_{d}": float(v)
                   for d, v in zip(metrics.DURATION_BINS, metrics.duration_histogram(tune),
                                   strict=True)})
    values.update({f"position_{i}": float(v) for i, v in enumerate(position_histogram(tune))})
    values.update(metrics.tune_scalars(tune))
    values.update(mode_colour(pc))
    values.update(pair_shares(tune))
    values.update({"out_of_scale": out_of_scale_share(tune), "sixteenths": sixteenth_share(tune),
                   "held_cadences": held_cadence_share(tune),
                   "downbeats_struck": downbeat_share(tune)})
    return values


def meter_features(tune: Tune) -> dict[str, float]:
    name = meter_class(tune.meter)
    return {f"meter_{m}": float(m == name) for m in METER_CLASSES}


def feature_matrix(tunes: Sequence[Tune], with_meter: bool = False) -> tuple[np.ndarray, list[str]]:
    """(windows x features) and the feature names, in a fixed order."""
    rows = []
    for tune in tunes:
        values = melody_features(tune)
        if with_meter:
            values.update(meter_features(tune))
        rows.append(values)
    if not rows:
        return np.zeros((0, 0)), []
    names = list(rows[0])
    return np.array([[row[n] for n in names] for row in rows]), names


# ---------------------------------------------------------------- classifiers

@dataclass
class Verdict:
    """Out-of-fold predictions of a "generated or human?" classifier, and what it leans on."""

    accuracy: float  # balanced accuracy: 0.5 = cannot tell
    predicted: np.ndarray  # out-of-fold label per window (1 = generated)
    top_features: list[tuple[str, float]]  # standardised coefficients, + = generated


def balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall of the classes present (0.5 = chance for two classes)."""
    recalls = [float(np.mean(predicted[y == c] == c)) for c in np.unique(y)]
    return float(np.mean(recalls)) if recalls else float("nan")


def _logistic(seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(
        C=0.5, max_iter=3000, class_weight="balanced", random_state=seed))


def tell_apart(x: np.ndarray, y: np.ndarray, groups: Sequence[str], names: list[str],
               folds: int = 5, seed: int = 0, top: int = 8) -> Verdict:
    """Cross-validated logistic regression, folds by song/tune (StratifiedGroupKFold), so
    windows of one song never sit in train and test at once; classes weighted equally."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    groups = np.asarray(groups)
    per_class = min(len(set(groups[y == c])) for c in (0, 1))
    folds = min(folds, per_class)
    if folds < 2:
        return Verdict(float("nan"), np.full(len(y), -1), [])
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(_logistic(seed), x, y, groups=groups, cv=splitter)
    model = _logistic(seed).fit(x, y)
    coef = model[-1].coef_[0]
    order = np.argsort(-np.abs(coef))[:top]
    return Verdict(balanced_accuracy(y, predicted), predicted,
                   [(names[i], round(float(coef[i]), 3)) for i in order])


def telltales(x: np.ndarray, y: np.ndarray, names: list[str], top: int = 8) -> list[dict]:
    """The features that alone tell the classes apart best (single-feature ROC AUC, 0.5 =
    no help): unlike the coefficients of correlated features, each one reads on its own."""
    from sklearn.metrics import roc_auc_score

    rows = []
    for i, name in enumerate(names):
        ours, theirs = x[y == 1, i], x[y == 0, i]
        if np.ptp(x[:, i]) == 0:
            continue
        auc = float(roc_auc_score(y, x[:, i]))
        rows.append({"feature": name, "auc": round(auc, 3), "generated": round(ours.mean(), 4),
                     "human": round(theirs.mean(), 4), "says": describe(name)})
    return sorted(rows, key=lambda r: -abs(r["auc"] - 0.5))[:top]


DEGREE_NAMES = ("tonic", "flat 2nd", "2nd", "minor 3rd", "major 3rd", "4th", "sharp 4th",
                "5th", "minor 6th", "major 6th", "flat 7th", "major 7th")
WORDS = {
    "scale_consistency": "share of notes fitting one diatonic scale",
    "pitch_range": "range in semitones", "mean_pitch": "register (mean pitch, key moved to C)",
    "bar_repetition": "bars repeating an earlier bar exactly",
    "note_density": "notes per beat", "rest_share": "time spent resting",
    "minor_third": "minor rather than major 3rd", "minor_sixth": "minor rather than major 6th",
    "flat_seventh": "flat rather than major 7th", "dotted": "dotted (long-short 3:1) pairs",
    "snap": "Scotch snaps (short-long 1:3)", "long_short": "long-short 2:1 pairs",
    "out_of_scale": "accidentals (notes outside the mode)",
    "sixteenths": "sixteenths and shorter", "held_cadences": "two-bar phrases ending held",
    "downbeats_struck": "bars with a note struck on the downbeat",
}


def describe(name: str) -> str:
    """A feature name in plain words."""
    kind, _, value = name.rpartition("_")
    if kind == "pc":
        return f"share of notes on the {DEGREE_NAMES[int(value)]}"
    if kind == "interval":
        return f"melodic steps of {value} semitones"
    if kind == "duration":
        return f"notes/rests {value} ticks long (12 = a quarter)"
    if kind == "position":
        return f"onsets {value}/12 of a beat after the beat"
    if kind == "meter":
        return f"in {value}"
    return WORDS.get(name, name)


def boosted_accuracy(x: np.ndarray, y: np.ndarray, groups: Sequence[str], folds: int = 5,
                     seed: int = 0) -> float:
    """The same question to gradient-boosted trees: a stronger, non-linear judge."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    groups = np.asarray(groups)
    folds = min(folds, *(len(set(groups[y == c])) for c in (0, 1)))
    if folds < 2:
        return float("nan")
    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1,
                                           class_weight="balanced", random_state=seed)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return balanced_accuracy(y, cross_val_predict(model, x, y, groups=groups, cv=splitter))


def style_classifier(x: np.ndarray, groups: Sequence[str], seed: int = 0):
    """Gradient-boosted trees over coarse style groups (meter one-hot among the features:
    trees can use it as "3/4 and dotted" where a linear model cannot)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                           class_weight="balanced", random_state=seed)
    return model.fit(x, np.asarray(groups))


def sample_windows(tunes: Sequence[Tune], n: int, rng: random.Random,
                   play=played_bars) -> list[Tune]:
    """About n windows spread over as many tunes as possible (one per tune first, round
    robin), so a few long tunes do not stand for the whole style."""
    pools = [windows(t, play(t)) for t in rng.sample(list(tunes), len(tunes))]
    picked: list[Tune] = []
    depth = 0
    while len(picked) < n and any(len(p) > depth for p in pools):
        picked += [p[depth] for p in pools if len(p) > depth][: n - len(picked)]
        depth += 1
    return picked


# ---------------------------------------------------------------- spreads

def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Mean and 10th-90th percentile, rounded for a report."""
    arr = np.asarray(values, float)
    if not len(arr):
        return {"mean": None, "p10": None, "p90": None}
    p10, p90 = np.percentile(arr, [10, 90])
    return {"mean": round(float(arr.mean()), 4), "p10": round(float(p10), 4),
            "p90": round(float(p90), 4)}


# A 10th-90th band holds at least this share of the human tunes; of our songs, as many.
BAND_SHARE = 0.8


def against(generated: Sequence[float], human_per_tune: Sequence[float]) -> dict:
    """Our mean beside the human spread (per human tune), with a flag: inside 10th-90th?

    Where the band has no width (most human tunes sit on one value, as a Chinese tune's
    accidentals sit on 0), a mean is the wrong summary: one song in twenty with an
    accidental moves it off the band that the human tunes' own mean is off too. There our
    songs are inside when at least BAND_SHARE of them sit on the band, as the human tunes do.
    """
    ours = float(np.mean(generated)) if len(generated) else float("nan")
    human = spread(human_per_tune)
    low, high = human["p10"], human["p90"]
    songs_on_band = float(np.mean([low <= round(v, 4) <= high for v in generated])) \
        if low is not None and len(generated) else 0.0
    return {"generated": round(ours, 4), "human": human,
            "inside": inside_band(ours, songs_on_band, human),
            "songs_on_band": round(songs_on_band, 4)}


def inside_band(ours: float, songs_on_band: float, human: dict) -> bool:
    """Our mean inside the human 10th-90th band; on a band of no width, BAND_SHARE of our
    songs on it (see `against`)."""
    low, high = human["p10"], human["p90"]
    if low is None or np.isnan(ours):
        return False
    return bool(songs_on_band >= BAND_SHARE if low == high else low <= ours <= high)
