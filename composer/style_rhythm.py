"""A style's rhythm as its corpus tunes hold it: how long the next note is, given where in
the bar it starts and how long the note before it in the bar was.

The network learned the rare styles from a hundred-odd tunes each and blurs their rhythm
towards the common folk idiom: its 4/4 marches ran in eighth notes (0.44 of their notes
against 0.30 in the corpus's marches), where a march steps in quarters and dotted pairs.
Counted from the style's own training tunes, this small model knows the style's rhythm
and nothing else; the sampler mixes it into the network's choice of each note length
(`Style.rhythm_fusion`), and the network still writes every pitch, chord and repeat.

Written by composer.training.style_rhythms into composer/data/style_rhythms.json.
"""

from __future__ import annotations

import json
from functools import lru_cache

import torch

from composer.data import STYLE_RHYTHMS_PATH
from composer.tokens import MAX_DURATION

# Pseudo-counts a context borrows from the coarser one below it (after the previous note ->
# at this place in the bar -> anywhere in the bar), so a context seen a few times leans on
# what is known and an unseen length keeps a little probability.
SMOOTHING = 2.0


def table_key(style: str, meter: str) -> str:
    """The table's name for a style in a meter: "march 4/4"."""
    return f"{style} {meter}"


def context_key(position: int, previous: int) -> str:
    """A context's name: the note's place in the bar (ticks) and the length of the note
    before it in the bar (0 when it opens the bar)."""
    return f"{position} {previous}"


@lru_cache(maxsize=1)
def _tables() -> dict[str, dict]:
    if not STYLE_RHYTHMS_PATH.exists():
        return {}
    return json.loads(STYLE_RHYTHMS_PATH.read_text())["tables"]


def _smoothed(counts: dict[str, int], below: list[float]) -> list[float]:
    total = sum(counts.values())
    return [(counts.get(str(length), 0) + SMOOTHING * p) / (total + SMOOTHING)
            for length, p in enumerate(below, start=1)]


def probabilities(table: dict, position: int, previous: int) -> list[float]:
    """P(length) for lengths 1..MAX_DURATION ticks under one style-and-meter table."""
    everywhere = table["lengths"]
    total = sum(everywhere.values())
    anywhere = [(everywhere.get(str(n), 0) + 0.5) / (total + 0.5 * MAX_DURATION)
                for n in range(1, MAX_DURATION + 1)]
    at = _smoothed(table["at"].get(str(position), {}), anywhere)
    return _smoothed(table["after"].get(context_key(position, previous), {}), at)


@lru_cache(maxsize=8192)
def log_probs(style: str, meter: str, position: int, previous: int) -> torch.Tensor | None:
    """log P(length) for lengths 1..MAX_DURATION ticks, or None where the corpus holds no
    tune of the style in the meter."""
    table = _tables().get(table_key(style, meter))
    if table is None:
        return None
    return torch.tensor(probabilities(table, position, previous)).log_()
