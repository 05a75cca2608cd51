"""Count each style's rhythm in the corpus: composer/data/style_rhythms.json.

For every style and meter, how often each note length (rests too) follows each context: its
place in the bar and the length of the note before it in the bar (composer.style_rhythm
reads the table). Counted on the training split; the held-out tunes' note lengths are
scored under it, against the style's lengths counted without context.

    python -m composer.training.style_rhythms   # corpus cache -> composer/data/style_rhythms.json

The corpus build (composer.training.corpus) writes the same file.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from composer.data import CACHE_PATH, STYLE_RHYTHMS_PATH
from composer.music import Tune
from composer.style_rhythm import context_key, probabilities, table_key


def notes_in_context(tune: Tune) -> Iterator[tuple[int, int, int]]:
    """(place in the bar, previous length in the bar, length) of each note and rest in the
    tune's full bars; a pickup bar's padding is no note of the tune."""
    bar_ticks = tune.meter.bar_ticks
    bars = tune.bars[1:] if tune.pickup_ticks else tune.bars
    for bar in bars:
        if sum(note.ticks for note in bar.notes) != bar_ticks:
            continue
        position, previous = 0, 0
        for note in bar.notes:
            yield position, previous, note.ticks
            position, previous = position + note.ticks, note.ticks


def count(tunes: Sequence[Tune]) -> dict[str, dict]:
    """{"<style> <meter>": {"tunes", "lengths", "at", "after"}}: lengths counted anywhere,
    at each place in the bar, and at each place after each previous length."""
    tables: dict[str, dict] = {}
    for tune in tunes:
        table = tables.setdefault(table_key(tune.style, tune.meter.name), {
            "tunes": 0, "lengths": Counter(), "at": defaultdict(Counter),
            "after": defaultdict(Counter)})
        table["tunes"] += 1
        for position, previous, length in notes_in_context(tune):
            table["lengths"][str(length)] += 1
            table["at"][str(position)][str(length)] += 1
            table["after"][context_key(position, previous)][str(length)] += 1
    return {name: {"tunes": t["tunes"], "lengths": dict(t["lengths"]),
                   "at": {k: dict(v) for k, v in t["at"].items()},
                   "after": {k: dict(v) for k, v in t["after"].items()}}
            for name, t in sorted(tables.items())}


def held_out_nats(tables: dict[str, dict], held_out: Sequence[Tune]) -> dict[str, dict]:
    """Per style: nats per held-out note length under its tables in context, and under the
    lengths alone (the same tables, no place in the bar, no previous note)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for tune in held_out:
        table = tables.get(table_key(tune.style, tune.meter.name))
        if table is None:
            continue
        plain = {"lengths": table["lengths"], "at": {}, "after": {}}
        row = sums[tune.style]
        for position, previous, length in notes_in_context(tune):
            row[0] -= math.log(probabilities(table, position, previous)[length - 1])
            row[1] -= math.log(probabilities(plain, position, previous)[length - 1])
            row[2] += 1
    return {style: {"in_context": round(c / n, 4), "lengths_alone": round(a / n, 4), "notes": n}
            for style, (c, a, n) in sorted(sums.items()) if n}


def write(tunes: Sequence[Tune], path: Path = STYLE_RHYTHMS_PATH) -> dict:
    """Count the training split, score the held-out tunes, write `path`: of the tunes their
    own words name the style of (corpus.named)."""
    from composer.training.corpus import named, split_of

    tunes = named(list(tunes))
    tables = count([t for t in tunes if split_of(t.id) == "train"])
    held_out = [t for t in tunes if split_of(t.id) != "train"]
    result = {"held_out_nats_per_note": held_out_nats(tables, held_out), "tables": tables}
    path.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CACHE_PATH)
    parser.add_argument("--out", type=Path, default=STYLE_RHYTHMS_PATH)
    args = parser.parse_args(argv)
    from composer.training.corpus import load_corpus

    result = write(load_corpus(args.corpus), args.out)
    print(f"{len(result['tables'])} style-and-meter tables -> {args.out}")
    for style, nats in result["held_out_nats_per_note"].items():
        print(f"  {style:14} held out {nats['notes']:6} notes: {nats['in_context']:.3f} nats a "
              f"length in context, {nats['lengths_alone']:.3f} alone")


if __name__ == "__main__":
    main()
