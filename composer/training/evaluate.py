"""`isadei eval`: how good is the model, in numbers, in one command.

1. Held-out likelihood: the LSTM's bits per token and per note on the test split, beside
   an interpolated Kneser-Ney n-gram fitted on the same training tokens.
2. Sampled tunes against held-out human tunes: each sample is asked for the style, meter,
   mode, parts and bars of one human test tune, then both sets are compared on pitch,
   interval and rhythm histograms, per-tune statistics, a classifier that tries to tell
   them apart, copying from the training set, chord tones and clashes with the bass.
3. Whole songs from the composer: section markers, repeated sections alike and different
   ones not, chord tones, clashes, length against the request.

Writes the numbers to a JSON file and a markdown table (for the model card) beside it.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from composer.form import ritardando_bars
from composer.model import DEFAULT_WEIGHTS, WEIGHTS_DIR, TuneLSTM, load_model, read_metadata
from composer.music import Tune
from composer.sampler import Grammar, PartSpec, TuneSpec, sample_tunes
from composer.tokens import TokenError, encode, ids_of
from composer.training import metrics
from composer.training.corpus import CACHE_PATH, load_corpus, split_of
from composer.training.harmony import chord_tone_rate, chords_per_bar_for
from composer.training.laps import Laps
from composer.training.ngram import choose_order
from composer.training.songs_eval import SONG_LENGTHS, song_requests
from composer.training.train import batches, evaluate_loss

DEFAULT_OUT = WEIGHTS_DIR / "metrics.json"
# Key-normalised (moved to C, composer.tokens.key_shift) range offered to samples: it holds
# 99.9% of the human tunes whole; the sampler's narrower default (55, 84) would cut off a
# sixth of them, and the classifier would learn the register instead of the music.
SAMPLE_RANGE = (48, 91)
SAMPLE_BATCH = 100  # tunes per sample_tunes call (sorted by length, so little is wasted)
FIGURE_NOTES = (12, 20)  # copying: shared runs of this many notes with the training set
SONG_KINDS = ("Intro", "Verse", "Chorus", "Bridge", "Coda", "Part")


@dataclass
class Data:
    """The corpus cut by split: tunes, and their tokens where the vocabulary holds them."""

    tunes: dict[str, list[Tune]]
    tokens: dict[str, list[list[int]]]


def load_data(corpus: Path | None) -> Data:
    path = Path(corpus) if corpus else CACHE_PATH
    if not path.exists():
        raise ValueError(f"no corpus at {path}: build it with `isadei corpus`")
    tunes: dict[str, list[Tune]] = {"train": [], "valid": [], "test": []}
    tokens: dict[str, list[list[int]]] = {"train": [], "valid": [], "test": []}
    for tune in load_corpus(path):
        split = split_of(tune.id)
        try:
            ids = encode(tune)
        except TokenError:
            continue  # the model never saw it either
        tunes[split].append(tune)
        tokens[split].append(ids)
    return Data(tunes, tokens)


# ---------------------------------------------------------------- 1. likelihood

def lstm_bits(model: TuneLSTM, sequences: list[list[int]]) -> tuple[float, int]:
    """Total bits of every token after BOS, whole tunes (no cut at the training max_len)."""
    longest = max(len(s) for s in sequences)
    data = batches(sequences, 16, longest, random.Random(0), shuffle=False)
    nats = evaluate_loss(model, data, torch.device("cpu"))
    model.eval()  # evaluate_loss leaves the model in training mode (dropout on)
    count = sum(len(s) - 1 for s in sequences)
    return nats * count / np.log(2), count


def likelihood(model: TuneLSTM, data: Data, quick: bool = False) -> dict:
    test = data.tokens["test"][:50] if quick else data.tokens["test"]
    orders = (2, 3) if quick else (2, 3, 4, 5, 6)
    # A note is a DUR + pitch (or REST) pair; a COPY bar costs one token and writes none.
    durations = set(ids_of("DUR:"))
    notes = sum(1 for seq in test for t in seq if t in durations)
    lstm_total, count = lstm_bits(model, test)
    ngram, order, valid_scores = choose_order(data.tokens["train"], data.tokens["valid"], orders)
    ngram_total, ngram_count = ngram.bits(test, order)
    assert ngram_count == count  # the same tokens, so the numbers compare
    return {
        "test_tunes": len(test), "test_tokens": count, "test_notes": notes,
        "lstm": {"bits_per_token": lstm_total / count, "bits_per_note": lstm_total / notes},
        "ngram": {"order": order, "bits_per_token": ngram_total / count,
                  "bits_per_note": ngram_total / notes,
                  "valid_bits_per_token": {str(k): v for k, v in valid_scores.items()}},
    }


# ---------------------------------------------------------------- 2. tunes

def pick_proportional(tunes: list[Tune], n: int, rng: random.Random) -> list[Tune]:
    """n tunes with the styles in the same proportions as in `tunes` (largest remainder)."""
    if n >= len(tunes):
        return list(tunes)
    by_style: dict[str, list[Tune]] = defaultdict(list)
    for tune in sorted(tunes, key=lambda t: t.id):
        by_style[tune.style].append(tune)
    exact = {s: n * len(ts) / len(tunes) for s, ts in by_style.items()}
    quota = {s: int(q) for s, q in exact.items()}
    for s in sorted(exact, key=lambda s: quota[s] - exact[s])[: n - sum(quota.values())]:
        quota[s] += 1
    return [t for s, ts in sorted(by_style.items()) for t in rng.sample(ts, quota[s])]


def spec_like(tune: Tune, seed: int) -> TuneSpec:
    """Ask for what this human tune is: style, meter, mode, parts and their bars."""
    parts = tuple(PartSpec(bars=len(part)) for part in tune.parts)
    return TuneSpec(tune.style, tune.meter, tune.mode, parts, chords_per_bar_for(tune),
                    SAMPLE_RANGE, seed)


def sample_like(model: TuneLSTM, grammar: Grammar, humans: list[Tune],
                seed: int) -> list[Tune]:
    """One generated tune per human tune, in a few batched sample_tunes calls."""
    specs = [spec_like(t, seed + i) for i, t in enumerate(humans)]
    order = sorted(range(len(specs)), key=lambda i: len(humans[i].bars))
    generated: list[Tune | None] = [None] * len(specs)
    for start in range(0, len(order), SAMPLE_BATCH):
        chunk = order[start:start + SAMPLE_BATCH]
        tunes, _ = sample_tunes(model, [specs[i] for i in chunk], grammar=grammar)
        for i, tune in zip(chunk, tunes, strict=True):
            generated[i] = tune
    return generated


def histogram_report(generated: list[Tune], humans: list[Tune]) -> dict:
    report = {}
    for name, fn in (("pitch_class", metrics.pitch_class_histogram),
                     ("interval", metrics.interval_histogram),
                     ("duration", metrics.duration_histogram)):
        gen = metrics.mean_histogram([fn(t) for t in generated])
        hum = metrics.mean_histogram([fn(t) for t in humans])
        report[name] = {"overlap": round(metrics.histogram_overlap(gen, hum), 4),
                        "generated": np.round(gen, 4).tolist(),
                        "human": np.round(hum, 4).tolist()}
    return report


def tune_metrics(generated: list[Tune], humans: list[Tune], train: list[Tune],
                 chorales: list[Tune], seed: int = 0) -> dict:
    scalars = {}
    for name in metrics.SCALAR_FEATURES:
        scalars[name] = {
            "generated": metrics.summarise([metrics.tune_scalars(t)[name] for t in generated]),
            "human": metrics.summarise([metrics.tune_scalars(t)[name] for t in humans]),
        }
    copying = {}
    for n in FIGURE_NOTES:
        index = metrics.build_figure_index(train, n)
        copying[f"{n}_notes"] = {"generated": round(metrics.copy_rate(generated, index, n), 4),
                                 "human_test": round(metrics.copy_rate(humans, index, n), 4)}
    gen_x = np.array([metrics.tune_features(t) for t in generated])
    hum_x = np.array([metrics.tune_features(t) for t in humans])
    return {
        "n": len(generated),
        "styles": dict(sorted(Counter(t.style for t in humans).items())),
        "histograms": histogram_report(generated, humans),
        "scalars": scalars,
        "classifier": metrics.classifier_accuracy(gen_x, hum_x, seed=seed),
        "copying": copying,
        "chord_tones_on_strong_beats": {"generated": round(chord_tone_rate(generated), 4),
                                        "human_harmonised": round(chord_tone_rate(humans), 4),
                                        "chorales": round(chord_tone_rate(chorales), 4)},
        "bass_clash_rate": {"generated": round(metrics.bass_clash_rate(generated), 4),
                            "human_harmonised": round(metrics.bass_clash_rate(humans), 4),
                            "chorales": round(metrics.bass_clash_rate(chorales), 4)},
        "complete_bars": {"generated": round(metrics.complete_bar_rate(generated), 4),
                          "human": round(metrics.complete_bar_rate(humans), 4)},
    }


# ---------------------------------------------------------------- 3. songs

def compose_songs(model: TuneLSTM, grammar: Grammar, weights: Path, per_style: int,
                  seed: int, lengths: tuple[int | None, ...] = SONG_LENGTHS) -> tuple[list, list]:
    """(plans, songs): per_style songs of every style, sampled in one batch.

    With the shipped weights this is exactly compose_many; with other weights the same
    steps (plan, write takes and repeats, assemble) run on the model under test.
    """
    from composer.compose import compose_many, plan_song, write_songs

    requests, seeds = song_requests(per_style, seed, lengths)
    plans = [plan_song(r, s) for r, s in zip(requests, seeds, strict=True)]
    started = time.perf_counter()
    if Path(weights).resolve() == DEFAULT_WEIGHTS.resolve():
        songs = compose_many(requests, seeds)
    else:
        songs = write_songs(model, grammar, plans, own_networks=False)
    for song in songs:
        song.timings["batch"] = time.perf_counter() - started
    return plans, songs


def mean_or_none(values: list[float]) -> float | None:
    """A rounded mean; None (JSON null, not NaN) when there is nothing to average."""
    return round(float(np.mean(values)), 4) if values else None


def song_as_tune(song) -> Tune:
    return Tune(song.title, song.title, song.style, song.meter, song.tonic, song.mode,
                [section.bars for section in song.sections])


def song_seconds(song) -> float:
    """How long the song plays, its closing slowdown included."""
    bars = sum(bar.ticks for bar in song.bars) / song.meter.bar_ticks
    bars += ritardando_bars(song.meter, len(song.sections[-1].bars))
    return bars * song.meter.beats * 60 / song.tempo_bpm


def marker_rate(songs: list) -> tuple[float, str]:
    """Share of section starts that carry a marker naming the section's kind.

    Read from the arrangement (the markers the MIDI file gets) when the arranger runs,
    else from the section names those markers would carry.
    """
    hits = total = 0
    source = "arrangement markers"
    for song in songs:
        starts, tick = [], 0
        for section in song.sections:
            starts.append(tick)
            tick += section.ticks
        try:
            from composer.arrange import arrange

            arrangement = arrange(song, song.seed)
            scale = arrangement.music_end // max(tick, 1)  # MIDI ticks per composer tick
            markers = dict(arrangement.markers)
        except Exception:  # the arranger is not ready
            source, scale = "section names", 1
            markers = {start: s.name for start, s in zip(starts, song.sections, strict=True)}
        for start, section in zip(starts, song.sections, strict=True):
            text = markers.get(start * scale, "")
            hits += section.kind in SONG_KINDS and text.startswith(section.kind)
            total += 1
    return (hits / total if total else 0.0), source


def section_similarity(songs: list) -> dict[str, float]:
    """Mean melody similarity of section pairs in one song: same material vs different.

    Intro and coda are left out (they quote the chorus' cadence by design).
    """
    same, different = [], []
    for song in songs:
        body = [s for s in song.sections if s.kind not in ("Intro", "Coda")]
        for i, a in enumerate(body):
            for b in body[i + 1:]:
                value = metrics.melody_similarity(a.bars, b.bars)
                (same if a.material == b.material else different).append(value)
    return {"same_material": mean_or_none(same), "different_material": mean_or_none(different),
            "pairs": [len(same), len(different)]}


def song_metrics(plans: list, songs: list, humans: list[Tune]) -> dict:
    tunes = [song_as_tune(s) for s in songs]
    errors = [abs(song_seconds(s) - p.form.target_seconds) / p.form.target_seconds
              for p, s in zip(plans, songs, strict=True)]
    markers, marker_source = marker_rate(songs)
    human_parts = [metrics.melody_similarity(t.parts[0], t.parts[1])
                   for t in humans if len(t.parts) > 1]
    return {
        "n": len(songs),
        "section_markers": round(markers, 4),
        "section_markers_from": marker_source,
        "section_similarity": section_similarity(songs),
        "human_part_a_vs_b_similarity": mean_or_none(human_parts),
        "chord_tones_on_strong_beats": round(chord_tone_rate(tunes), 4),
        "bass_clash_rate": round(metrics.bass_clash_rate(tunes), 4),
        "complete_bars": round(metrics.complete_bar_rate(tunes), 4),
        "length_error": {"mean": round(float(np.mean(errors)), 4),
                         "within_10_percent": round(float(np.mean(np.array(errors) <= 0.1)), 4)},
        "seconds_for_the_batch": round(songs[0].timings["batch"], 2) if songs else None,
    }


# ---------------------------------------------------------------- the command

def evaluate(n_samples: int = 300, out: Path = DEFAULT_OUT, songs_per_style: int = 20,
             weights: Path | None = None, corpus: Path | None = None, quick: bool = False,
             seed: int = 0) -> dict:
    """Measure the model; print a table, write `out` (JSON) and metrics.md beside it."""
    started = time.perf_counter()
    laps = Laps()

    weights = Path(weights or DEFAULT_WEIGHTS)
    model = load_model(weights)
    meta = read_metadata(weights)
    from composer.compose import grammar_from_counts

    grammar = grammar_from_counts(meta.get("token_counts", {}))
    data = load_data(corpus)
    if not data.tokens["test"] or not data.tokens["train"]:
        raise ValueError(f"the corpus {corpus or 'cache'} has no train or test tunes")
    laps.lap("load")

    result: dict = {
        "command": reproduce_command(n_samples, out, songs_per_style, weights, corpus, quick,
                                     seed),
        "model": {"weights": str(weights), "parameters": model.num_parameters(),
                  "config": meta.get("config"), "training": meta.get("training")},
        "corpus": {"path": str(corpus or "composer/data/corpus.jsonl.gz"),
                   "tunes": {k: len(v) for k, v in data.tunes.items()}},
    }
    result["likelihood"] = likelihood(model, data, quick)
    laps.lap("likelihood")

    pool = data.tunes["test"]
    if quick:  # a smoke test: short tunes sample fast
        pool = [t for t in pool if len(t.bars) <= 16] or pool
    humans = pick_proportional(pool, n_samples, random.Random(seed))
    generated = sample_like(model, grammar, humans, seed)
    laps.lap("sampling tunes")
    chorales = [t for ts in data.tunes.values() for t in ts if t.style == "chorale"]
    result["tunes"] = tune_metrics(generated, humans, data.tunes["train"], chorales, seed)
    laps.lap("tune metrics")

    try:
        lengths = (20,) if quick else SONG_LENGTHS  # quick: short songs, a smoke test
        plans, songs = compose_songs(model, grammar, weights, songs_per_style, seed, lengths)
        result["song_form"] = song_metrics(plans, songs, humans)
    except Exception as error:  # the composer is work in progress: tune metrics still count
        result["song_form"] = {"skipped": f"{type(error).__name__}: {error}"}
    laps.lap("songs")

    result["seconds"] = {**laps.seconds, "total": round(time.perf_counter() - started, 1)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # keep the songs-as-delivered measure (`isadei eval songs`)
        kept = json.loads(out.read_text())
        for key in ("songs", "songs_over_seeds"):
            if kept.get(key):
                result.setdefault(key, kept[key])
    out.write_text(json.dumps(result, indent=2) + "\n")
    markdown = to_markdown(result)
    (out.parent / "metrics.md").write_text(markdown)
    print(summary_table(result))
    print(f"wrote {out} and {out.parent / 'metrics.md'} in {result['seconds']['total']:.0f} s")
    if weights == DEFAULT_WEIGHTS and out.parent.resolve() == DEFAULT_WEIGHTS.parent.resolve():
        from composer.training.card import write_model_card

        print(f"wrote {write_model_card(weights)}")
    return result


def reproduce_command(n: int, out: Path, songs: int, weights: Path, corpus: Path | None,
                      quick: bool, seed: int) -> str:
    if weights.resolve() == DEFAULT_WEIGHTS.resolve() and corpus is None and not quick and not seed:
        return f"isadei eval --n {n} --songs {songs} --out {out}"
    return ("python -c \"from pathlib import Path; "
            "from composer.training.evaluate import evaluate; "
            f"evaluate({n}, Path('{out}'), {songs}, weights=Path('{weights}'), "
            f"corpus={f'Path({str(corpus)!r})' if corpus else None}, quick={quick}, seed={seed})\"")


# ---------------------------------------------------------------- reports

def num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _rows(result: dict) -> list[tuple[str, str, str]]:
    """(metric, model / generated, baseline / human) rows shared by the table and markdown."""
    like, tunes, songs = result["likelihood"], result["tunes"], result["song_form"]
    lstm, ngram = like["lstm"], like["ngram"]
    rows = [
        ("test bits/token (LSTM vs n-gram)", num(lstm["bits_per_token"]),
         f"{num(ngram['bits_per_token'])} ({ngram['order']}-gram)"),
        ("test bits/note (LSTM vs n-gram)", num(lstm["bits_per_note"], 2),
         num(ngram["bits_per_note"], 2)),
    ]
    for name, h in tunes["histograms"].items():
        rows.append((f"{name.replace('_', '-')} histogram overlap", num(h["overlap"]), "1.000"))
    for name, s in tunes["scalars"].items():
        g, h = s["generated"], s["human"]
        rows.append((name.replace("_", " ") + " (mean ± sd)", f"{num(g['mean'])} ± {num(g['std'])}",
                     f"{num(h['mean'])} ± {num(h['std'])}"))
    rows.append(("classifier accuracy (0.5 = can't tell)",
                 num(tunes["classifier"]["accuracy"]), "0.500"))
    for key, c in tunes["copying"].items():
        rows.append((f"shares a {key.split('_')[0]}-note run with training",
                     num(c["generated"]), f"{num(c['human_test'])} (held-out human)"))
    ct, clash = tunes["chord_tones_on_strong_beats"], tunes["bass_clash_rate"]
    rows.append(("chord tones on strong beats", num(ct["generated"]),
                 f"{num(ct['human_harmonised'])} (chorales {num(ct['chorales'])})"))
    rows.append(("melody/bass clashes on beats", num(clash["generated"]),
                 f"{num(clash['human_harmonised'])} (chorales {num(clash['chorales'])})"))
    rows.append(("bars that add up to the meter", num(tunes["complete_bars"]["generated"]),
                 num(tunes["complete_bars"]["human"])))
    if "skipped" in songs:
        rows.append(("songs", "skipped", songs["skipped"][:60]))
        return rows
    sim = songs["section_similarity"]
    rows += [
        ("songs: section markers", num(songs["section_markers"]), "1.000"),
        ("songs: similarity, same material", num(sim["same_material"]), "high"),
        ("songs: similarity, different material", num(sim["different_material"]),
         f"{num(songs['human_part_a_vs_b_similarity'])} (human part A vs B)"),
        ("songs: chord tones on strong beats", num(songs["chord_tones_on_strong_beats"]),
         num(ct["human_harmonised"])),
        ("songs: melody/bass clashes on beats", num(songs["bass_clash_rate"]),
         num(clash["human_harmonised"])),
        ("songs: bars that add up to the meter", num(songs["complete_bars"]), "1.000"),
        ("songs: length within 10% of request",
         num(songs["length_error"]["within_10_percent"]), "1.000"),
    ]
    return rows


def summary_table(result: dict) -> str:
    rows = [("metric", "model", "reference")] + _rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_markdown(result: dict) -> str:
    like, tunes = result["likelihood"], result["tunes"]
    clf = tunes["classifier"]
    lines = [
        "## Evaluation",
        "",
        f"Weights `{result['model']['weights']}` ({result['model']['parameters']:,} parameters); "
        f"test split: {like['test_tunes']} tunes, {like['test_tokens']:,} tokens, "
        f"{like['test_notes']:,} notes. {tunes['n']} sampled tunes, each asked for the style, "
        "meter, mode, parts and bars of one held-out human tune, compared with those tunes. "
        "Reference = the n-gram baseline for likelihood, the held-out human tunes otherwise.",
        "",
        "| metric | model | reference |",
        "|---|---|---|",
    ]
    lines += [f"| {m} | {a} | {b} |" for m, a, b in _rows(result)]
    lines += [
        "",
        f"The classifier (logistic regression, {clf['folds']}-fold cross-validation) leans most "
        "on: " + ", ".join(f"{name} ({coef:+.2f})" for name, coef in clf["top_features"])
        + " (positive = more in generated tunes).",
        "",
        f"Reproduce: `{result['command']}` ({result['seconds']['total']:.0f} s on this machine).",
        "",
    ]
    return "\n".join(lines)
