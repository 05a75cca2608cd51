"""Statistics of tunes, for comparing generated music with human music (MGEval/MusPy style).

Pure functions over `Tune`s and plain arrays: no model, no corpus, no files. Pitches are
read relative to each tune's tonic, so a generated tune (always written in C) and a human
tune in D compare note for note.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from composer.music import SCALES, Bar, Note, Tune
from composer.tokens import key_shift

INTERVAL_LIMIT = 12  # melodic intervals are clipped to -12..12 semitones
# Duration classes in ticks (12 per quarter): each duration counts at the nearest class
# (on a log scale), so the histogram is short enough to be a classifier feature.
DURATION_BINS = (2, 3, 4, 6, 8, 9, 12, 18, 24, 36, 48, 72)
CLASH_INTERVALS = (1, 6, 11)  # minor second, tritone, major seventh above the bass


# ---------------------------------------------------------------- per-tune histograms

def pitches(tune: Tune) -> list[int]:
    """The melody's sounding pitches, in order (rests left out)."""
    return [n.pitch for n in tune.melody() if n.pitch is not None]


def normalise(counts: np.ndarray) -> np.ndarray:
    """Counts -> a distribution (all zeros stays all zeros)."""
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def pitch_class_histogram(tune: Tune) -> np.ndarray:
    """(12,) share of notes on each pitch class, 0 = the tonic."""
    counts = np.zeros(12)
    for p in pitches(tune):
        counts[(p - tune.tonic) % 12] += 1
    return normalise(counts)


def intervals(tune: Tune) -> list[int]:
    """Melodic intervals between consecutive sounding notes (across rests and bar lines)."""
    ps = pitches(tune)
    return [b - a for a, b in zip(ps, ps[1:], strict=False)]


def interval_histogram(tune: Tune) -> np.ndarray:
    """(25,) share of intervals -12..12 (larger leaps counted at +-12)."""
    steps = np.clip(np.asarray(intervals(tune), dtype=int), -INTERVAL_LIMIT, INTERVAL_LIMIT)
    return normalise(np.bincount(steps + INTERVAL_LIMIT, minlength=2 * INTERVAL_LIMIT + 1)
                     .astype(float))


@lru_cache(maxsize=1024)  # called once per note over whole corpora: a table, in effect
def duration_class(ticks: int) -> int:
    """Index of the nearest DURATION_BINS value on a log scale."""
    return int(np.argmin(np.abs(np.log(np.array(DURATION_BINS)) - np.log(ticks))))


def duration_histogram(tune: Tune) -> np.ndarray:
    """(len(DURATION_BINS),) share of notes and rests in each duration class."""
    counts = np.zeros(len(DURATION_BINS))
    for note in tune.melody():
        counts[duration_class(note.ticks)] += 1
    return normalise(counts)


def mean_histogram(histograms: Sequence[np.ndarray]) -> np.ndarray:
    """The pooled distribution of a set of tunes (each tune weighs the same)."""
    return normalise(np.mean(np.array(histograms), axis=0)) if len(histograms) else np.zeros(0)


def histogram_overlap(p: np.ndarray, q: np.ndarray) -> float:
    """Histogram intersection sum(min(p, q)) of two distributions = 1 - total variation.

    1 = the same distribution, 0 = nothing in common.
    """
    return float(np.minimum(normalise(np.asarray(p, float)), normalise(np.asarray(q, float))).sum())


# ---------------------------------------------------------------- per-tune scalars

def scale_consistency(tune: Tune) -> float:
    """Largest share of the notes that fit one major or minor scale (any of the 24)."""
    ps = pitches(tune)
    if not ps:
        return 0.0
    pcs = np.bincount(np.array(ps) % 12, minlength=12)
    best = 0
    for steps in SCALES.values():
        for tonic in range(12):
            best = max(best, sum(pcs[(tonic + s) % 12] for s in steps))
    return best / len(ps)


def pitch_range(tune: Tune) -> int:
    """Highest minus lowest sounding pitch, in semitones."""
    ps = pitches(tune)
    return max(ps) - min(ps) if ps else 0


def mean_pitch(tune: Tune) -> float:
    """Average pitch, key-normalised as the tokens are (the register, moved to C)."""
    ps = pitches(tune)
    return float(np.mean(ps)) - key_shift(tune.tonic) if ps else 0.0


def bar_repetition(tune: Tune) -> float:
    """Share of bars whose melody equals an earlier bar of the same tune.

    Melody only (notes and durations): human chords come from the harmoniser, so chords
    would measure it, not the composer.
    """
    seen: set[tuple[Note, ...]] = set()
    repeats = 0
    for bar in tune.bars:
        key = tuple(bar.notes)
        repeats += key in seen
        seen.add(key)
    return repeats / len(tune.bars) if tune.bars else 0.0


def note_density(tune: Tune) -> float:
    """Sounding notes per felt beat (a jig's dotted quarter, a reel's quarter)."""
    beats = len(tune.bars) * tune.meter.beats
    return len(pitches(tune)) / beats if beats else 0.0


def rest_share(tune: Tune) -> float:
    """Share of the tune's time that is silent."""
    total = sum(n.ticks for n in tune.melody())
    silent = sum(n.ticks for n in tune.melody() if n.pitch is None)
    return silent / total if total else 0.0


def complete_bar_rate(tunes: Sequence[Tune]) -> float:
    """Share of bars whose durations add up to the meter."""
    bars = [(bar, t.meter.bar_ticks) for t in tunes for bar in t.bars]
    return sum(bar.ticks == ticks for bar, ticks in bars) / len(bars) if bars else 0.0


SCALAR_FEATURES = ("scale_consistency", "pitch_range", "mean_pitch", "bar_repetition",
                   "note_density", "rest_share")


def tune_scalars(tune: Tune) -> dict[str, float]:
    return {
        "scale_consistency": scale_consistency(tune),
        "pitch_range": float(pitch_range(tune)),
        "mean_pitch": mean_pitch(tune),
        "bar_repetition": bar_repetition(tune),
        "note_density": note_density(tune),
        "rest_share": rest_share(tune),
    }


def feature_names() -> list[str]:
    return ([f"pc_{i}" for i in range(12)]
            + [f"interval_{i}" for i in range(-INTERVAL_LIMIT, INTERVAL_LIMIT + 1)]
            + [f"duration_{d}" for d in DURATION_BINS] + list(SCALAR_FEATURES))


def tune_features(tune: Tune) -> np.ndarray:
    """One vector per tune: the three histograms and the scalars (see feature_names)."""
    scalars = tune_scalars(tune)
    return np.concatenate([pitch_class_histogram(tune), interval_histogram(tune),
                           duration_histogram(tune), [scalars[k] for k in SCALAR_FEATURES]])


def summarise(values: Sequence[float]) -> dict[str, float | None]:
    """Mean and standard deviation, rounded for a report (None when there are no values)."""
    arr = np.asarray(values, float)
    if not len(arr):
        return {"mean": None, "std": None}
    return {"mean": round(float(arr.mean()), 4), "std": round(float(arr.std()), 4)}


# ---------------------------------------------------------------- can a classifier tell?

def classifier_accuracy(generated: np.ndarray, human: np.ndarray, folds: int = 5,
                        seed: int = 0) -> dict:
    """Cross-validated accuracy of a logistic regression told to separate the two sets.

    0.5 means it cannot tell them apart. Also names the features it leans on most
    (largest standardised coefficients of a fit on everything; positive = "generated").
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([generated, human])
    y = np.array([1] * len(generated) + [0] * len(human))
    folds = min(folds, len(generated), len(human))
    if folds < 2:
        return {"accuracy": None, "std": None, "folds": folds, "top_features": []}
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(model, x, y, cv=splitter)
    model.fit(x, y)
    coef = model[-1].coef_[0]
    names = feature_names()
    top = [(names[i], round(float(coef[i]), 3)) for i in np.argsort(-np.abs(coef))[:5]]
    return {"accuracy": round(float(scores.mean()), 4), "std": round(float(scores.std()), 4),
            "folds": folds, "top_features": top}


# ---------------------------------------------------------------- copying

def figures(tune: Tune) -> list[tuple[int, int]]:
    """The melody as (interval from the previous note, duration) pairs: key-free, rests dropped.

    A run of k pairs is a figure of k notes (each note with the step that led to it).
    """
    notes = [n for n in tune.melody() if n.pitch is not None]
    return [(b.pitch - a.pitch, b.ticks) for a, b in zip(notes, notes[1:], strict=False)]


def ngram_hashes(sequence: Sequence[tuple[int, int]], n: int) -> np.ndarray:
    """One 64-bit hash per run of n consecutive (interval, duration) pairs.

    Each pair becomes one non-negative int first: Python hashes -1 and -2 alike, and
    tuples of non-negative ints hash the same in every process (no salt to agree on).
    """
    if len(sequence) < n:
        return np.zeros(0, dtype=np.int64)
    codes = tuple((step + 1024) << 16 | ticks for step, ticks in sequence)
    return np.array([hash(codes[i:i + n]) for i in range(len(codes) - n + 1)], dtype=np.int64)


def build_figure_index(tunes: Sequence[Tune], n: int) -> np.ndarray:
    """Sorted unique hashes of every n-note figure in these tunes (e.g. the training set)."""
    parts = [ngram_hashes(figures(t), n) for t in tunes]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def shares_figure(tune: Tune, index: np.ndarray, n: int) -> bool:
    """Whether any n-note figure of the tune occurs in the (sorted) index."""
    hashes = ngram_hashes(figures(tune), n)
    if not len(hashes) or not len(index):
        return False
    pos = np.minimum(np.searchsorted(index, hashes), len(index) - 1)  # binary search
    return bool((index[pos] == hashes).any())


def copy_rate(tunes: Sequence[Tune], index: np.ndarray, n: int) -> float:
    """Share of tunes with at least one n-note figure found in the index."""
    return sum(shares_figure(t, index, n) for t in tunes) / len(tunes) if tunes else 0.0


# ---------------------------------------------------------------- harmony

def _sounding_at(bar: Bar, tick: int) -> int | None:
    start = 0
    for note in bar.notes:
        if start <= tick < start + note.ticks:
            return note.pitch
        start += note.ticks
    return None


def bass_clash_rate(tunes: Sequence[Tune]) -> float:
    """Share of melody notes sounding on a beat that clash with the bass.

    The bass is taken as the root of the chord at that moment (absolute pitch class =
    tonic + root); a clash is a minor second, tritone or major seventh above it.
    """
    clashes = total = 0
    for tune in tunes:
        beats = range(0, tune.meter.bar_ticks, tune.meter.beat_ticks)
        for bar in tune.bars:
            for beat in beats:
                pitch, chord = _sounding_at(bar, beat), bar.chord_at(beat)
                if pitch is None or chord is None:
                    continue
                bass = (tune.tonic + chord.root) % 12
                clashes += (pitch - bass) % 12 in CLASH_INTERVALS
                total += 1
    return clashes / total if total else 0.0


# ---------------------------------------------------------------- melodic similarity

def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def melody_similarity(a: Sequence[Bar], b: Sequence[Bar]) -> float:
    """1 - normalised edit distance between two passages' (pitch, duration) sequences.

    1 = the same notes; about 0.1-0.2 for unrelated tunes in the same style.
    """
    x = [(n.pitch, n.ticks) for bar in a for n in bar.notes]
    y = [(n.pitch, n.ticks) for bar in b for n in bar.notes]
    if not x and not y:
        return 1.0
    return 1.0 - edit_distance(x, y) / max(len(x), len(y))
