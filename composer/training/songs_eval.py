"""Songs as delivered, measured against human tunes of the style they asked for.

    python -m composer.training.songs_eval --per-style 12

1. Compose `per_style` songs of every style through the product path (SongRequest ->
   compose_many -> arrange -> write_midi) and read the Melody track back from the .mid,
   snapped to the beat grid: what a user gets, not what the sampler returned.
2. Hold them against held-out human tunes (valid + test split) of the same style, in
   16-bar windows: a human-vs-generated classifier, a style classifier trained on
   training-split human tunes only, bar repetition, accidentals, modes, rhythm, stock
   phrases vs copying, and the form (markers, length, same seed -> same song).

Writes a "songs" key into weights/metrics.json (other keys kept), weights/songs_metrics.md,
and prints a table. `songs_markdown(result)` gives the same summary for the model card.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from composer.model import DEFAULT_WEIGHTS, WEIGHTS_DIR
from composer.music import (
    SIGNATURE_MAJOR_STEP,
    TICKS_PER_QUARTER,
    Bar,
    Note,
    Tune,
    tonic_pitch_class,
)
from composer.sampler import SamplingOptions
from composer.training import metrics
from composer.training import song_features as sf
from composer.training.corpus import load_corpus, split_of
from composer.training.laps import Laps

DEFAULT_OUT = WEIGHTS_DIR / "metrics.json"
SONG_LENGTHS = (None, 45, 90, 150)  # seconds asked for, in turn (None = the style default)
STOCK_NOTES, COPY_NOTES = 12, 20  # a shared run this long is idiom; this long is copying
LENGTH_TOLERANCE = 0.10
STYLE_TRAIN_WINDOWS = 1200  # per coarse group: enough for the trees, quick to featurise


# ---------------------------------------------------------------- songs as delivered

@dataclass
class Delivered:
    """One composed song and what its MIDI file says."""

    song: object  # composer.song.Song
    target_seconds: float  # what the form planner aimed at (the request, or the default)
    tune: Tune  # the Melody track read back, on the grid, parts = sections by marker
    markers: list[tuple[int, str]]  # (composer tick, marker text)
    seconds: float  # from the first beat to the end of the music, tempo map included
    digest: str  # sha1 of the MIDI file
    windows: list[Tune] = field(default_factory=list)


def melody_from_midi(path: Path, song) -> tuple[Tune, list[tuple[int, str]], float]:
    """The .mid's Melody track as a Tune on the composer grid, its markers, its seconds.

    Onsets snap to the nearest composer tick (humanised timing is a few ms); a note lasts
    to the next onset unless its sounding length, undone by the track's legato (the median
    sounding/inter-onset ratio), ends 2+ ticks earlier: then a rest fills the gap.
    Where the key signature changes (a set's next tune, a march's trio), the notes are
    moved back into the opening key, the shorter way: each tune is judged in its own key,
    as a human tune of the corpus is.
    """
    mid = mido.MidiFile(path)
    scale = mid.ticks_per_beat / TICKS_PER_QUARTER
    markers: list[tuple[int, str]] = []
    tempos: list[tuple[int, int]] = []
    keys: list[tuple[int, int]] = []  # (MIDI tick, tonic pitch class of the key signature)
    notes: list[tuple[int, int, int]] = []  # (MIDI start, MIDI length, pitch)
    for track in mid.tracks:
        name = next((m.name for m in track if m.type == "track_name"), "")
        now, sounding = 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "marker":
                markers.append((round(now / scale), msg.text))
            elif msg.type == "key_signature":
                keys.append((now, _tonic_of_signature(msg.key, song.mode)))
            elif msg.type == "set_tempo":
                tempos.append((now, msg.tempo))
            elif name == "Melody" and msg.type == "note_on" and msg.velocity > 0:
                sounding[msg.note] = now
            elif name == "Melody" and msg.type in ("note_on", "note_off") and msg.note in sounding:
                start = sounding.pop(msg.note)
                notes.append((start, now - start, msg.note))
    notes = [(start, length, pitch - _key_move(keys, start)) for start, length, pitch in notes]
    total = sum(bar.ticks for bar in song.bars)
    bar_ticks = song.meter.bar_ticks
    by_onset: dict[int, tuple[int, int]] = {}
    for start, length, pitch in sorted(notes):
        onset = round(start / scale)  # the highest of notes struck together is the melody
        if onset < total and pitch >= by_onset.get(onset, (0, -1))[1]:
            by_onset[onset] = (length, pitch)
    starts = sorted(by_onset)
    gaps = [by_onset[a][0] / ((b - a) * scale) for a, b in zip(starts, starts[1:], strict=False)]
    legato = float(np.clip(np.median(gaps), 0.5, 1.0)) if gaps else 1.0
    timeline: list[Note] = []
    tick = 0
    for index, onset in enumerate(starts):
        if onset > tick:
            timeline.append(Note(None, onset - tick))
        length, pitch = by_onset[onset]
        following = starts[index + 1] if index + 1 < len(starts) else total
        end = onset + max(1, round(length / legato / scale))
        end = following if end > following - 2 else end
        timeline.append(Note(pitch, end - onset))
        tick = end
    if tick < total:
        timeline.append(Note(None, total - tick))
    bars = _cut_into_bars(timeline, bar_ticks, total)
    starts_at = sorted({min(t // bar_ticks, len(bars)) for t, _ in markers} | {0, len(bars)})
    parts = [bars[a:b] for a, b in zip(starts_at, starts_at[1:], strict=False) if b > a]
    tune = Tune(f"song-{song.style}-{song.seed}", song.title, song.style, song.meter,
                song.tonic, song.mode, parts)
    return tune, markers, _seconds_to(total * scale, tempos, mid.ticks_per_beat)


def _tonic_of_signature(key: str, mode: str) -> int:
    """The tonic a MIDI key signature stands for in the song's mode ("C" in D dorian is D)."""
    if key.endswith("m"):
        return tonic_pitch_class(key[:-1])
    return (tonic_pitch_class(key) - SIGNATURE_MAJOR_STEP.get(mode, 0)) % 12


def _register_move(tonic: int, opening: int) -> int:
    """Semitones a melody in `tonic` lies above where it would in the opening key, the
    shorter way: a lifted chorus goes up two, and a set's later tune is centred on C5 as
    the first one is (composer.compose._octave_shift), so neither lies further than a
    tritone from its place in the opening key."""
    return (tonic - opening + 6) % 12 - 6


def _key_move(keys: list[tuple[int, int]], tick: int) -> int:
    """_register_move of the key signature in force at `tick`."""
    now = [tonic for at, tonic in keys if at <= tick]  # the conductor's, in time order
    return _register_move(now[-1], keys[0][1]) if now else 0


def _cut_into_bars(timeline: list[Note], bar_ticks: int, total: int) -> list[Bar]:
    """Notes into bars; a note across a bar line is split (a tie) so every bar is full."""
    bars: list[Bar] = [Bar([]) for _ in range(total // bar_ticks)]
    tick = 0
    for note in timeline:
        left = note.ticks
        while left > 0 and tick // bar_ticks < len(bars):
            room = bar_ticks - tick % bar_ticks
            piece = min(left, room)
            bars[tick // bar_ticks].notes.append(Note(note.pitch, piece))
            tick, left = tick + piece, left - piece
    return bars


def _seconds_to(end: float, tempos: list[tuple[int, int]], ppq: int) -> float:
    """Seconds from tick 0 to `end` (MIDI ticks) under the tempo map."""
    tempos = sorted(tempos) or [(0, 500_000)]
    seconds = 0.0
    for (tick, us), (following, _) in zip(tempos, tempos[1:] + [(end, 0)], strict=True):
        span = min(following, end) - tick
        if span > 0:
            seconds += span * us / ppq / 1e6
    return seconds


def compose_delivered(per_style: int, seed: int, lengths=SONG_LENGTHS,
                      workdir: Path | None = None, options=None) -> list[Delivered]:
    """per_style songs of every style in one batch, each written to MIDI and read back."""
    from composer.compose import compose_many, plan_song
    from composer.request import SongRequest
    from composer.styles import STYLES

    requests, seeds = [], []
    for style in STYLES:
        for k in range(per_style):
            requests.append(SongRequest(style=style, length_seconds=lengths[k % len(lengths)]))
            seeds.append(seed + len(seeds))
    songs = compose_many(requests, seeds, options)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        return [deliver(song, plan_song(r, s).form.target_seconds, Path(tmp))
                for song, r, s in zip(songs, requests, seeds, strict=True)]


def deliver(song, target_seconds: float, folder: Path) -> Delivered:
    from composer.arrange import arrange
    from composer.midi import write_midi

    path = folder / f"{song.style}-{song.seed}.mid"
    write_midi(arrange(song, song.seed), path)
    tune, markers, seconds = melody_from_midi(path, song)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    return Delivered(song, target_seconds, tune, markers, seconds, digest, sf.windows(tune))


# ---------------------------------------------------------------- the measures

def human_vs_generated(delivered: list[Delivered], held_out: dict[str, list[Tune]],
                       rng: random.Random, seed: int) -> dict:
    """Per style as many held-out human windows as we have generated ones; one classifier
    over all, read out per style from its out-of-fold predictions."""
    gen = [w for d in delivered for w in d.windows]
    gen_groups = [d.tune.id for d in delivered for _ in d.windows]
    need = Counter(w.style for w in gen)
    human = [w for style, n in sorted(need.items())
             for w in sf.sample_windows(held_out.get(style, []), n, rng)]
    human_groups = [w.id.split("#")[0] for w in human]
    x, names = sf.feature_matrix(gen + human)
    y = np.array([1] * len(gen) + [0] * len(human))
    verdict = sf.tell_apart(x, y, gen_groups + human_groups, names, seed=seed)
    styles = np.array([w.style for w in gen + human])
    per_style = {s: round(sf.balanced_accuracy(y[styles == s], verdict.predicted[styles == s]), 4)
                 for s in sorted(need)}
    # The control: two halves of held-out human tunes should give ~0.5. Tunes alternate
    # between the halves within each style, so the halves hold the same style mix.
    control = [w for style, n in sorted(need.items())
               for w in sf.sample_windows(held_out.get(style, []), 2 * n, rng)]
    ids = [w.id.split("#")[0] for w in control]
    half_of: dict[str, int] = {}
    for style in sorted(need):
        tunes = sorted({i for i, w in zip(ids, control, strict=True) if w.style == style},
                       key=lambda i: hashlib.sha1(i.encode()).hexdigest())
        half_of.update({t: k % 2 for k, t in enumerate(tunes)})
    halves = np.array([half_of[i] for i in ids])
    cx, _ = sf.feature_matrix(control)
    control_verdict = sf.tell_apart(cx, halves, ids, names, seed=seed)
    return {"accuracy": round(verdict.accuracy, 4),
            "accuracy_boosted_trees": round(sf.boosted_accuracy(x, y, gen_groups + human_groups,
                                                                seed=seed), 4),
            "human_vs_human": round(control_verdict.accuracy, 4),
            "windows": {"generated": len(gen), "human": len(human)},
            "per_style": per_style, "telltales": sf.telltales(x, y, names),
            "per_style_telltales": {s: sf.telltales(x[styles == s], y[styles == s], names, 3)
                                    for s in sorted(need)},
            "coefficients": verdict.top_features}


def style_recognition(delivered: list[Delivered], train: list[Tune],
                      held_out: dict[str, list[Tune]], rng: random.Random, seed: int) -> dict:
    """A coarse-group classifier trained on training-split human windows only, asked about
    our songs and about held-out human tunes (per song/tune: mean probability of its windows)."""
    by_group: dict[str, list[Tune]] = defaultdict(list)
    for tune in train:
        if tune.style in sf.GROUP_OF:
            by_group[sf.GROUP_OF[tune.style]].append(tune)
    fit_windows = [w for g in sorted(by_group)
                   for w in sf.sample_windows(by_group[g], STYLE_TRAIN_WINDOWS, rng)]
    x, _ = sf.feature_matrix(fit_windows, with_meter=True)
    model = sf.style_classifier(x, [sf.GROUP_OF[w.style] for w in fit_windows], seed)

    def judge(items: list[tuple[str, str, list[Tune]]]) -> dict:
        """items: (id, style, windows) -> recognition per style and group, and confusion."""
        items = [i for i in items if i[2]]
        wx, _ = sf.feature_matrix([w for _, _, ws in items for w in ws], with_meter=True)
        proba = model.predict_proba(wx)
        confusion: dict[str, Counter] = defaultdict(Counter)
        hits: dict[str, list[bool]] = defaultdict(list)
        window_hits: dict[str, list[bool]] = defaultdict(list)
        row = 0
        for _, style, ws in items:
            p = proba[row:row + len(ws)]
            row += len(ws)
            guess = str(model.classes_[p.mean(axis=0).argmax()])
            confusion[style][guess] += 1
            hits[style].append(guess == sf.GROUP_OF[style])
            window_hits[style] += [str(model.classes_[k]) == sf.GROUP_OF[style]
                                   for k in p.argmax(axis=1)]
        groups: dict[str, list[bool]] = defaultdict(list)
        for style, h in hits.items():
            groups[sf.GROUP_OF[style]] += h
        share = {s: round(float(np.mean(h)), 4) for s, h in sorted(hits.items())}
        return {"per_style": share,
                "per_style_windows": {s: round(float(np.mean(h)), 4)
                                      for s, h in sorted(window_hits.items())},
                "per_group": {g: round(float(np.mean(h)), 4) for g, h in sorted(groups.items())},
                "overall": round(float(np.mean([v for h in hits.values() for v in h])), 4),
                "confusion": {s: dict(sorted(c.items())) for s, c in sorted(confusion.items())}}

    ours = judge([(d.tune.id, d.song.style, d.windows) for d in delivered])
    humans = judge([(t.id, t.style, sf.windows(t, sf.played_bars(t)))
                    for ts in held_out.values() for t in ts])
    return {"trained_on_windows": len(fit_windows), "groups": list(sf.STYLE_GROUPS),
            "generated": ours, "human_held_out": humans}


def statistics(delivered: list[Delivered], held_out: dict[str, list[Tune]]) -> dict:
    """Per style: our per-song means beside the human per-tune spread, with inside flags."""
    measures: dict[str, Callable[[Tune], float]] = {
        "bar_repetition": metrics.bar_repetition, "out_of_scale": sf.out_of_scale_share,
        "sixteenths": sf.sixteenth_share, "minor_third": lambda t: sf.mode_colour(
            metrics.pitch_class_histogram(t))["minor_third"],
        "flat_seventh": lambda t: sf.mode_colour(
            metrics.pitch_class_histogram(t))["flat_seventh"]}
    out: dict[str, dict] = {}
    for style in sorted({d.song.style for d in delivered}):
        songs = [d for d in delivered if d.song.style == style and d.windows]
        humans = [(t, sf.windows(t, sf.played_bars(t))) for t in held_out.get(style, [])]
        humans = [(t, ws) for t, ws in humans if ws]
        row: dict[str, object] = {}
        for name, fn in measures.items():
            ours = [float(np.mean([fn(w) for w in d.windows])) for d in songs]
            theirs = [float(np.mean([fn(w) for w in ws])) for _, ws in humans]
            row[name] = sf.against(ours, theirs)
        row["bar_repetition"]["human_as_written"] = round(float(np.mean(
            [metrics.bar_repetition(w) for t, _ in humans for w in sf.windows(t)] or [0])), 4)
        # Rhythm: how close each song's duration histogram is to the style's human mean.
        mean_hist = metrics.mean_histogram([metrics.duration_histogram(w)
                                            for _, ws in humans for w in ws])
        def closeness(ws: list[Tune], ref: np.ndarray = mean_hist) -> float:
            return float(np.mean([metrics.histogram_overlap(metrics.duration_histogram(w), ref)
                                  for w in ws]))
        rhythm = sf.against([closeness(d.windows) for d in songs],
                            [closeness(ws) for _, ws in humans])
        rhythm["inside"] = bool(rhythm["human"]["p10"] is not None
                                and rhythm["generated"] >= rhythm["human"]["p10"])
        ours_hist = metrics.mean_histogram([metrics.duration_histogram(w)
                                            for d in songs for w in d.windows])
        rhythm["histogram"] = {"bins": list(metrics.DURATION_BINS),
                               "generated": np.round(ours_hist, 3).tolist(),
                               "human": np.round(mean_hist, 3).tolist()}
        row["rhythm"] = rhythm
        row["modes"] = {"generated": _shares(d.song.mode for d in songs),
                        "human": _shares(t.mode for t, _ in humans)}
        out[style] = row
    return out


def overall_statistics(stats: dict) -> dict:
    """Each style weighs the same: mean of the per-style numbers, and how many are inside."""
    out = {}
    for name in ("bar_repetition", "out_of_scale", "sixteenths", "rhythm"):
        rows = [row[name] for row in stats.values()]
        out[name] = {"generated": round(float(np.mean([r["generated"] for r in rows])), 4),
                     "human": round(float(np.mean([r["human"]["mean"] for r in rows
                                                   if r["human"]["mean"] is not None])), 4),
                     "styles_inside": sum(r["inside"] for r in rows), "styles": len(rows)}
    out["bar_repetition"]["human_as_written"] = round(float(np.mean(
        [row["bar_repetition"]["human_as_written"] for row in stats.values()])), 4)
    return out


def _shares(values) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values())
    return {k: round(v / total, 3) for k, v in sorted(counts.items())} if total else {}


def copying(delivered: list[Delivered], corpus: list[Tune], train: list[Tune],
            held_out: list[Tune]) -> dict:
    """Stock phrases (a 12-note run shared with some corpus tune: human tunes do this) vs
    copying (a 20-note run shared with a training tune: should be ~never)."""
    songs = [d.tune for d in delivered]
    everything = metrics.build_figure_index(corpus, STOCK_NOTES)
    train_stock = metrics.build_figure_index(train, STOCK_NOTES)
    train_copy = metrics.build_figure_index(train, COPY_NOTES)
    per_style = {}
    for style in sorted({t.style for t in songs}):
        ours = [t for t in songs if t.style == style]
        theirs = [t for t in held_out if t.style == style]
        per_style[style] = {
            "stock_generated": round(metrics.copy_rate(ours, everything, STOCK_NOTES), 4),
            "stock_human": round(metrics.copy_rate(theirs, train_stock, STOCK_NOTES), 4),
            "copied_generated": round(metrics.copy_rate(ours, train_copy, COPY_NOTES), 4)}
    return {"stock_notes": STOCK_NOTES, "copy_notes": COPY_NOTES,
            "stock_generated_vs_corpus": round(metrics.copy_rate(songs, everything,
                                                                 STOCK_NOTES), 4),
            "stock_generated_vs_train": round(metrics.copy_rate(songs, train_stock,
                                                                STOCK_NOTES), 4),
            "stock_human_held_out_vs_train": round(metrics.copy_rate(held_out, train_stock,
                                                                     STOCK_NOTES), 4),
            "copied_generated_vs_train": round(metrics.copy_rate(songs, train_copy,
                                                                 COPY_NOTES), 4),
            "copied_human_held_out_vs_train": round(metrics.copy_rate(held_out, train_copy,
                                                                      COPY_NOTES), 4),
            "per_style": per_style}


def _in_opening_key(song) -> list[Bar]:
    """The composed bars, each section moved into the song's opening key as
    melody_from_midi reads them back."""
    def move(section) -> int:
        return _register_move((song.tonic + section.key_step) % 12, song.tonic)
    return [Bar([Note(n.pitch if n.pitch is None else n.pitch - move(s), n.ticks)
                 for n in bar.notes], bar.chords)
            for s in song.sections for bar in s.bars]


def _merged(notes: list[Note]) -> list[Note]:
    """Consecutive rests as one: a MIDI file cannot tell them apart."""
    out: list[Note] = []
    for note in notes:
        if out and note.pitch is None and out[-1].pitch is None:
            out[-1] = Note(None, out[-1].ticks + note.ticks)
        else:
            out.append(note)
    return out


def form_checks(delivered: list[Delivered], workdir: Path | None = None, options=None) -> dict:
    """Markers at every section start, length near the request, same seed -> same song
    (composed again with the same sampling `options`)."""
    from composer.compose import compose

    per_style: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for d in delivered:
        starts, tick = [], 0
        for section in d.song.sections:
            starts.append((tick, section.name))
            tick += section.ticks
        marked = set(d.markers)
        error = abs(d.seconds - d.target_seconds) / d.target_seconds
        exact = [_merged(a.notes) == _merged(b.notes)
                 for a, b in zip(_in_opening_key(d.song), d.tune.bars, strict=False)]
        row = per_style[d.song.style]
        row["all_sections_marked"].append(all(s in marked for s in starts))
        row["length_within_10_percent"].append(error <= LENGTH_TOLERANCE)
        row["length_error"].append(error)
        row["midi_bars_as_composed"].append(float(np.mean(exact)) if exact else 0.0)
    first = delivered[0]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        again = [deliver(compose(first.song.request, first.song.seed, options),
                         first.target_seconds, Path(tmp) / str(k)) for k in range(2)]
    summary = {s: {k: round(float(np.mean(v)), 4) for k, v in row.items()}
               for s, row in sorted(per_style.items())}
    overall = {k: round(float(np.mean([v for row in per_style.values() for v in row[k]])), 4)
               for k in ("all_sections_marked", "length_within_10_percent", "length_error",
                         "midi_bars_as_composed")}
    return {"per_style": summary, **overall,
            "same_seed_same_song": again[0].digest == again[1].digest,
            "single_equals_batched": again[0].digest == first.digest}


# ---------------------------------------------------------------- the command

def measure_songs(per_style: int = 12, seed: int = 0, lengths=SONG_LENGTHS,
                  options=None) -> dict:
    """Compose, read back and measure one seed's songs (the "songs" result)."""
    started = time.perf_counter()
    laps = Laps()

    delivered = compose_delivered(per_style, seed, lengths, options=options)
    laps.lap("compose and read back")
    corpus = load_corpus()
    train = [t for t in corpus if split_of(t.id) == "train"]
    held_out: dict[str, list[Tune]] = defaultdict(list)
    for tune in corpus:
        if split_of(tune.id) != "train":
            held_out[tune.style].append(tune)
    laps.lap("corpus")
    rng = random.Random(seed)
    result: dict = {
        "command": f"python -m composer.training.songs_eval --per-style {per_style}"
                   + (f" --seed {seed}" if seed else ""),
        "weights": str(DEFAULT_WEIGHTS), "training": _training_of(DEFAULT_WEIGHTS),
        "sampling": dataclasses.asdict(options or SamplingOptions()),
        "songs": len(delivered),
        "windows": sum(len(d.windows) for d in delivered), "window_bars": sf.WINDOW_BARS,
        "human_held_out_tunes": {s: len(ts) for s, ts in sorted(held_out.items())},
    }
    result["human_vs_generated"] = human_vs_generated(delivered, held_out, rng, seed)
    laps.lap("human vs generated")
    result["style"] = style_recognition(delivered, train, held_out, rng, seed)
    laps.lap("style classifier")
    result["statistics"] = statistics(delivered, held_out)
    result["statistics_overall"] = overall_statistics(result["statistics"])
    all_held_out = [t for ts in held_out.values() for t in ts]
    result["copying"] = copying(delivered, corpus, train, all_held_out)
    laps.lap("statistics and copying")
    result["form"] = form_checks(delivered, options=options)
    laps.lap("form")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _spread(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 4), "min": min(values), "max": max(values)}


def over_seeds(results: list[dict]) -> dict:
    """What several seeds' songs measure, as mean, min and max: one seed's 12 songs a style
    move human-vs-generated by +-0.02 and a style's recognition by +-0.1 (a song or two)."""
    def each(get: Callable[[dict], float]) -> dict:
        return _spread([get(r) for r in results])

    first = results[0]
    return {
        "seeds": len(results),
        "songs_per_seed": first["songs"],
        "human_vs_generated": each(lambda r: r["human_vs_generated"]["accuracy"]),
        "boosted_trees": each(lambda r: r["human_vs_generated"]["accuracy_boosted_trees"]),
        "style_recognised": each(lambda r: r["style"]["generated"]["overall"]),
        "per_style_human_vs_generated": {
            s: each(lambda r, s=s: r["human_vs_generated"]["per_style"][s])
            for s in first["human_vs_generated"]["per_style"]},
        "per_group_recognised": {
            g: {"ours": each(lambda r, g=g: r["style"]["generated"]["per_group"][g]),
                "human": each(lambda r, g=g: r["style"]["human_held_out"]["per_group"][g])}
            for g in first["style"]["generated"]["per_group"]},
        "command": first["command"].split(" --seed")[0] + f" --seeds {len(results)}",
    }


def evaluate_songs(per_style: int = 12, seed: int = 0, out: Path = DEFAULT_OUT,
                   lengths=SONG_LENGTHS, options=None, seeds: int = 1) -> dict:
    """Measure `seeds` seeds from `seed` on; write the first one's result as out["songs"],
    and with several the spread over them as out["songs_over_seeds"]; songs_metrics.md;
    print the table. options: composer.sampler.SamplingOptions to try."""
    results = [measure_songs(per_style, seed + k, lengths, options) for k in range(seeds)]
    result = results[0]
    out = Path(out)
    data = json.loads(out.read_text()) if out.exists() else {}
    data["songs"] = result
    data.pop("songs_over_seeds", None)  # an earlier run's spread is not this one's
    if seeds > 1:
        data["songs_over_seeds"] = over_seeds(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    (out.parent / "songs_metrics.md").write_text(songs_markdown(data))
    print(songs_table(result))
    if seeds > 1:
        print("\n".join(over_seeds_lines(data["songs_over_seeds"])))
    print(f"wrote {out} ['songs'] and {out.parent / 'songs_metrics.md'} "
          f"in {sum(r['seconds'] for r in results):.0f} s")
    return result


def _training_of(weights: Path) -> dict:
    """Which model this was: its training steps and best validation loss."""
    from composer.model import read_metadata

    training = read_metadata(weights).get("training") or {}
    return {k: training.get(k) for k in ("steps", "best_valid_loss")}


# ---------------------------------------------------------------- reports

def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _versus(measure: dict) -> str:
    """'0.66 (0.21-0.45) ✗': ours, the human 10th-90th percentile, inside or not."""
    h = measure["human"]
    return (f"{_num(measure['generated'])} ({_num(h['p10'])}-{_num(h['p90'])})"
            f" {'ok' if measure['inside'] else 'OUT'}")


STYLE_COLUMNS = ("style", "songs", "h/g acc", "style ours", "style human", "bar repeat",
                 "out of scale", "sixteenths", "rhythm fit", "stock 12", "copy 20",
                 "marked", "length ok")


def style_rows(result: dict) -> list[tuple[str, ...]]:
    """One row per style: the numbers of the table and the markdown."""
    hvg, style, stats = result["human_vs_generated"], result["style"], result["statistics"]
    copy, form = result["copying"]["per_style"], result["form"]["per_style"]
    rows = []
    for s, row in stats.items():
        count = sum(style["generated"]["confusion"].get(s, {}).values())
        rows.append((s, str(count), _num(hvg["per_style"].get(s)),
                     _num(style["generated"]["per_style"].get(s)),
                     _num(style["human_held_out"]["per_style"].get(s)),
                     _versus(row["bar_repetition"]), _versus(row["out_of_scale"]),
                     _versus(row["sixteenths"]), _versus(row["rhythm"]),
                     f"{_num(copy[s]['stock_generated'])} / {_num(copy[s]['stock_human'])}",
                     _num(copy[s]["copied_generated"]),
                     _num(form[s]["all_sections_marked"]),
                     _num(form[s]["length_within_10_percent"])))
    return rows


def _summary_lines(result: dict) -> list[str]:
    hvg, style, copy, form = (result["human_vs_generated"], result["style"], result["copying"],
                              result["form"])
    stats = result.get("statistics_overall", {})
    inside = ", ".join(f"{k.replace('_', ' ')} {v['generated']:.3f} vs human {v['human']:.3f} "
                       f"({v['styles_inside']}/{v['styles']} styles inside)"
                       for k, v in stats.items())
    written = stats.get("bar_repetition", {}).get("human_as_written")
    top = "; ".join(f"{t['says']} (ours {t['generated']:.3f}, human {t['human']:.3f})"
                    for t in hvg["telltales"][:6])
    return [
        f"Human vs generated, 16-bar windows: accuracy {_num(hvg['accuracy'])} (logistic), "
        f"{_num(hvg['accuracy_boosted_trees'])} (boosted trees); human vs human "
        f"{_num(hvg['human_vs_human'])}; 0.5 = cannot tell. Gives us away: {top}.",
        f"Style means (each style weighs the same): {inside}; human bar repetition as "
        f"written, without the AABB repeats: {_num(written, 3)}.",
        f"Style recognised (coarse group, per song): ours {_num(style['generated']['overall'])}, "
        f"held-out human {_num(style['human_held_out']['overall'])}.",
        f"Stock phrases ({copy['stock_notes']}-note run shared with the corpus): ours "
        f"{_num(copy['stock_generated_vs_corpus'])}, held-out human vs training "
        f"{_num(copy['stock_human_held_out_vs_train'])}; copied ({copy['copy_notes']}+ notes "
        f"from a training tune): ours {_num(copy['copied_generated_vs_train'])}.",
        f"Form: all sections marked {_num(form['all_sections_marked'])}, length within 10% "
        f"{_num(form['length_within_10_percent'])}, same seed same song "
        f"{form['same_seed_same_song']}, alone = batched {form['single_equals_batched']}, "
        f"MIDI bars equal to the composed bars {_num(form['midi_bars_as_composed'])}.",
    ]


def songs_table(result: dict) -> str:
    rows = [STYLE_COLUMNS, *style_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(STYLE_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + [""] + _summary_lines(result))


def over_seeds_lines(spread: dict) -> list[str]:
    """The spread over seeds in a few lines: mean (min-max)."""
    def show(m: dict) -> str:
        return f"{_num(m['mean'])} ({_num(m['min'])}-{_num(m['max'])})"

    styles = ", ".join(f"{s} {show(m)}" for s, m in spread["per_style_human_vs_generated"].items())
    groups = ", ".join(f"{g} {show(m['ours'])} against {show(m['human'])}"
                       for g, m in spread["per_group_recognised"].items())
    return [
        f"Over {spread['seeds']} seeds ({spread['songs_per_seed']} songs each; mean (min-max)): "
        f"human vs generated {show(spread['human_vs_generated'])} (logistic), "
        f"{show(spread['boosted_trees'])} (boosted trees); style recognised "
        f"{show(spread['style_recognised'])}.",
        f"Human vs generated per style: {styles}.",
        f"Style recognised per group, ours against held-out human: {groups}.",
        f"Reproduce: `{spread['command']}`.",
    ]


def songs_markdown(result: dict) -> str:
    """The songs section of the model card (takes metrics.json's "songs", or all of it: then
    with the spread over seeds where it was measured)."""
    spread = result.get("songs_over_seeds")
    if "human_vs_generated" not in result and "songs" in result:
        result = result["songs"]
    style = result["style"]
    lines = ["## Songs as delivered", "",
             f"{result['songs']} songs ({result['windows']} windows of {result['window_bars']} "
             "bars), the Melody track read back from the MIDI file, against held-out human "
             "tunes of the style (each part played twice, AABB). Style columns: share of songs "
             "(tunes) whose coarse group a classifier trained on training-split human tunes "
             "names. Spreads: our mean (human 10th-90th percentile per tune). Stock 12: ours vs "
             "corpus / held-out human vs training.", "",
             "| " + " | ".join(STYLE_COLUMNS) + " |",
             "|" + "---|" * len(STYLE_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in style_rows(result)]
    lines += ["", *_summary_lines(result), "",
              "Requested style -> predicted group (our songs):", "",
              "| style | " + " | ".join(style["groups"]) + " |",
              "|" + "---|" * (len(style["groups"]) + 1)]
    for s, row in style["generated"]["confusion"].items():
        lines.append(f"| {s} | " + " | ".join(str(row.get(g, 0)) for g in style["groups"]) + " |")
    lines += ["", f"Reproduce: `{result['command']}` ({result['seconds']:.0f} s).", ""]
    if spread:
        lines += ["### Over seeds", "", *(f"- {line}" for line in over_seeds_lines(spread)), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-style", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="measure this many seeds from --seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--temperature", type=float, default=None, help="try another sampling")
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--style-guidance", type=float, default=None)
    args = parser.parse_args(argv)
    options = SamplingOptions.trying(temperature=args.temperature, top_p=args.top_p,
                                     style_guidance=args.style_guidance)
    evaluate_songs(args.per_style, args.seed, args.out, options=options, seeds=args.seeds)


if __name__ == "__main__":
    main()
