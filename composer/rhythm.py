"""Notes in seconds -> notes on the beat grid: beat tracking, meter, quantisation, bars.

A singer's tempo wobbles, so the beat is tracked by dynamic programming (Ellis 2007: each
beat follows the best previous beat about one period back, which lets the period bend),
over an onset train made from the heard notes; onsets are then placed by their fraction
of the way between the beats either side, and snapped to halves and quarters of a beat
(or thirds and sixths when the tune swings in threes: 6/8, 9/8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.music import TICKS_PER_QUARTER, Bar, Meter, Note

RATE = 100  # onset-train frames per second
PREFERRED_BEAT_S = 0.6  # ~100 bpm: where sung tunes sit; the prior that settles the level
# How much more alike a tune must be to itself 3 beats later than 2 or 4 later to be in 3
# bars, and the other way round to undo a 3 (held-out corpus openings of 24 beats, the right
# bar: tunes in 3 0.71 -> 0.74, in 2 or 4 0.82 -> 0.89).
TRIPLE_BY_REPEAT, DUPLE_BY_REPEAT = 0.1, 0.3


@dataclass(frozen=True)
class Placed:
    pitch: int | None  # None: a rest
    start: int  # ticks from the first downbeat (negative: a pickup)
    ticks: int


def _onset_train(onsets: np.ndarray, weights: np.ndarray, length: int) -> np.ndarray:
    train = np.zeros(length)
    t = np.arange(length) / RATE
    for on, w in zip(onsets, weights, strict=True):
        lo, hi = max(0, int((on - 0.1) * RATE)), min(length, int((on + 0.1) * RATE) + 1)
        train[lo:hi] += w * np.exp(-0.5 * ((t[lo:hi] - on) / 0.025) ** 2)
    return train


def beat_period(train: np.ndarray) -> float:
    """Seconds per beat: the autocorrelation peak of the onset train, under a log-normal
    prior around PREFERRED_BEAT_S (half an octave wide)."""
    x = train - train.mean()
    acf = np.correlate(x, x, mode="full")[len(x) - 1:]
    lags = np.arange(len(acf)) / RATE
    ok = (lags >= 0.3) & (lags <= 1.5)
    prior = np.exp(-0.5 * (np.log2(np.maximum(lags, 1e-3) / PREFERRED_BEAT_S) / 0.6) ** 2)
    score = np.where(ok, acf * prior, -np.inf)
    return float(lags[int(np.argmax(score))])


def track_beats(train: np.ndarray, period: float, tightness: float = 60.0) -> np.ndarray:
    """Beat times (s) by Ellis' dynamic programme."""
    p = period * RATE
    n = len(train)
    score = train.copy()
    back = np.full(n, -1)
    offsets = np.arange(int(round(-2 * p)), -int(round(p / 2)) + 1)
    penalty = -tightness * np.log(-offsets / p) ** 2
    for i in range(n):
        prev = i + offsets
        ok = prev >= 0
        if not ok.any():
            continue
        cand = score[prev[ok]] + penalty[ok]
        k = int(np.argmax(cand))
        if cand[k] > 0:
            score[i] += cand[k]
            back[i] = prev[ok][k]
    # the last beat: the best score within one period of the end
    tail = np.arange(max(0, n - int(p) - 1), n)
    i = int(tail[np.argmax(score[tail])])
    beats = [i]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    return np.array(beats[::-1]) / RATE


def beat_positions(times: np.ndarray, beats: np.ndarray, period: float) -> np.ndarray:
    """Fractional beat index of each time; linear beyond the tracked beats."""
    if len(beats) < 2:
        return (times - (beats[0] if len(beats) else 0)) / period
    idx = np.arange(len(beats), dtype=float)
    pos = np.interp(times, beats, idx)
    first_p, last_p = beats[1] - beats[0], beats[-1] - beats[-2]
    pos = np.where(times < beats[0], (times - beats[0]) / first_p, pos)
    return np.where(times > beats[-1], idx[-1] + (times - beats[-1]) / last_p, pos)


def _snap(pos: np.ndarray, ternary: bool) -> np.ndarray:
    """Onsets to the grid: halves (or thirds) when close, quarters (or sixths) otherwise."""
    coarse, fine = (3, 6) if ternary else (2, 4)
    c = np.round(pos * coarse) / coarse
    f = np.round(pos * fine) / fine
    return np.where(np.abs(pos - c) < 0.3 / coarse, c, f)


def _grid_fit(pos: np.ndarray, division: int) -> float:
    """Share of off-beat onsets within a tolerance of the grid of 1/division beats."""
    frac = pos - np.round(pos)
    off = np.abs(frac) > 0.12
    if not off.any():
        return 1.0
    d = np.abs(frac[off] * division - np.round(frac[off] * division)) / division
    return float(np.mean(d < 0.07))


@dataclass(frozen=True)
class Grid:
    meter: Meter
    tempo_bpm: int
    placed: list[Placed]  # notes and rests, in order, starting at the first note


def quantise(pitches: list[int], onsets: list[float], offsets: list[float]) -> Grid:
    """Heard notes (seconds) -> notes and rests on the tick grid, with meter and tempo."""
    on, off = np.asarray(onsets), np.asarray(offsets)
    ioi = np.diff(np.append(on, off[-1]))
    length = int((off[-1] + 1.0) * RATE)
    train = _onset_train(on, np.log1p(np.minimum(ioi, 2.0) * 4), length)
    period = beat_period(train)
    beats = track_beats(train, period)
    pos = beat_positions(on, beats, period)
    end_pos = beat_positions(off, beats, period)
    ternary = _grid_fit(pos, 3) > _grid_fit(pos, 2) + 0.15
    # keep the beat at a sensible level for the notes: most notes a half to one beat
    step = np.median(np.diff(pos)) if len(pos) > 1 else 1.0
    scale = 1.0
    if not ternary and step >= 1.5:
        scale = 0.5  # the tracker found half notes... of eighths: halve
    elif not ternary and step < 0.3:
        scale = 2.0
    pos, end_pos = pos * scale, end_pos * scale
    beat_s = float(np.median(np.diff(beats))) / scale if len(beats) > 1 else period / scale
    beat_ticks = TICKS_PER_QUARTER * (3 if ternary else 2) // 2
    q = np.round(_snap(pos - pos[0], ternary) * beat_ticks).astype(int)
    for i in range(1, len(q)):  # two onsets on one grid point: push the later one on
        q[i] = max(q[i], q[i - 1] + beat_ticks // (3 if ternary else 4))
    ends = np.round(_snap(end_pos - pos[0], ternary) * beat_ticks).astype(int)
    per_bar = choose_bar(q, pitches, beat_ticks)
    meter = _meter(per_bar, ternary)
    phase = _downbeat_phase(q, beat_ticks, meter.bar_ticks)
    placed: list[Placed] = []
    for i, p in enumerate(pitches):
        start = int(q[i]) - phase
        if i + 1 < len(q):
            nxt = int(q[i + 1]) - phase
            sounding = max(int(ends[i]) - phase - start, beat_ticks // 2)
            # a gap of half a beat or more is a rest (a breath), else legato
            if nxt - start - sounding >= beat_ticks // 2:
                placed += [Placed(p, start, sounding), Placed(None, start + sounding,
                                                              nxt - start - sounding)]
            else:
                placed.append(Placed(p, start, nxt - start))
        else:
            last = max(int(ends[i]) - phase - start, beat_ticks)
            placed.append(Placed(p, start, last - last % (beat_ticks // 2)))
    tempo = 60.0 / beat_s * (1.5 if ternary else 1.0)
    return Grid(meter, int(round(np.clip(tempo, 30, 300))), placed)


def choose_bar(q: np.ndarray, pitches: list[int], beat_ticks: int) -> int:
    """Beats per bar (2, 3 or 4): the grouping whose downbeats carry the long notes."""
    dur = np.diff(np.append(q, q[-1] + beat_ticks))
    weight = np.log1p(dur / beat_ticks * 2)
    beat_idx = q // beat_ticks
    on_beat = q % beat_ticks == 0
    scores = {}
    for m in (2, 3, 4):
        best = -np.inf
        for phase in range(m):
            down = on_beat & ((beat_idx - phase) % m == 0)
            other = ~down
            if down.sum() == 0 or other.sum() == 0:
                continue
            # a note that starts off the downbeat and is held over the next one is
            # syncopation: rare in the tunes people sing, so it speaks against the grouping
            bar = m * beat_ticks
            start_in_bar = (q - phase * beat_ticks) % bar
            crossing = ~down & (start_in_bar + dur > bar)
            score = weight[down].mean() - weight[other].mean() - 0.5 * crossing.mean()
            best = max(best, score)
        scores[m] = best
    # 4 only when it says clearly more than 2 (a bar of 4 is two bars of 2 to the grid)
    if scores[4] > scores[2] + 0.1 and scores[4] >= scores[3]:
        per_bar = 4
    else:
        per_bar = 3 if scores[3] > scores[2] + 0.02 else 2
    # A tune comes back to its rhythm and contour a bar later: where that says 3 or not 3
    # clearly, it decides.
    repeats = {m: self_similarity(q, pitches, beat_ticks, m) for m in (2, 3, 4)}
    in_two = max(repeats[2], repeats[4])
    if repeats[3] > in_two + TRIPLE_BY_REPEAT:
        return 3
    if per_bar == 3 and in_two > repeats[3] + DUPLE_BY_REPEAT:
        return 2 if repeats[2] >= repeats[4] else 4
    return per_bar


def self_similarity(q: np.ndarray, pitches: list[int], beat_ticks: int, beats: int) -> float:
    """How alike the tune is to itself `beats` later: the correlation of its note lengths
    (log-weighted, at the onsets) plus that of its held pitch, on a grid of half-quarters."""
    step = TICKS_PER_QUARTER // 2
    lag = beats * beat_ticks // step
    size = int(q[-1] // step) + 1
    if size < lag + 4:
        return 0.0
    cells = (q // step).astype(int)
    lengths = np.zeros(size)
    lengths[cells] = np.log1p(np.diff(np.append(q, q[-1] + beat_ticks)) / beat_ticks * 2)
    sounding = np.searchsorted(cells, np.arange(size), side="right") - 1  # the last onset
    contour = np.asarray(pitches, dtype=float)[sounding]

    def correlation(x: np.ndarray) -> float:
        a, b = x[:-lag], x[lag:]
        return float(np.corrcoef(a, b)[0, 1]) if a.std() and b.std() else 0.0

    return correlation(lengths) + correlation(contour)


def _meter(per_bar: int, ternary: bool) -> Meter:
    if ternary:  # 12/8 is two bars of 6/8, and the corpus writes 6/8 (1,935 tunes against 6)
        return Meter(6 if per_bar == 4 else 3 * per_bar, 8)
    return Meter(per_bar, 4)


def _downbeat_phase(q: np.ndarray, beat_ticks: int, bar_ticks: int) -> int:
    """Ticks from the first note to the first downbeat (0 = it starts on one)."""
    dur = np.diff(np.append(q, q[-1] + beat_ticks))
    weight = np.log1p(dur / beat_ticks * 2)
    best, best_phase = -np.inf, 0
    for phase in range(0, bar_ticks, beat_ticks):
        down = (q - phase) % bar_ticks == 0
        score = weight[down].sum() + (0.5 if down[-1] else 0.0) - 0.05 * phase / beat_ticks
        if score > best:
            best, best_phase = score, phase
    return best_phase


def to_bars(placed: list[Placed], meter: Meter) -> tuple[list[Bar], int]:
    """Placed notes -> full bars (notes across a bar line split in two), and the pickup."""
    bar = meter.bar_ticks
    first = placed[0].start
    origin = (first // bar) * bar  # tick of the first bar line
    pickup = first - origin  # the rest that pads the anacrusis
    events: list[tuple[int, int, int | None]] = []
    if first - origin > 0:
        events.append((origin, first - origin, None))
    events += [(p.start, p.ticks, p.pitch) for p in placed]
    end = events[-1][0] + events[-1][1]
    total = -(-(end - origin) // bar) * bar
    if end - origin < total:
        events.append((end, origin + total - end, None))
    bars: list[Bar] = [Bar([]) for _ in range(total // bar)]
    for start, ticks, pitch in events:
        t = start - origin
        while ticks > 0:
            k = t // bar
            room = (k + 1) * bar - t
            piece = min(room, ticks)
            bars[k].notes.append(Note(pitch, piece))
            t += piece
            ticks -= piece
    return bars, pickup
