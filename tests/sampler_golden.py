"""The token sequences the sampler gave before it was made fast (the reference step:
nn.LSTM, one token per call), kept as a fixture so the lean path is held to the same
numbers. Regenerate only on purpose: `python -m tests.sampler_golden` (against a sampler
whose behaviour is meant to change).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import torch

from composer.model import ModelConfig, TuneLSTM
from composer.music import Meter
from composer.sampler import FREE, PartSpec, SamplingOptions, TuneSpec, bar_bodies, sample_tokens
from composer.tokens import ids_of

GOLDEN = Path(__file__).parent / "fixtures" / "sampler_golden.json"


def golden_model(size: str) -> TuneLSTM:
    """A seeded random network: the shipped size (3x384) or a tiny one."""
    torch.manual_seed(0)
    config = ModelConfig() if size == "shipped" else ModelConfig(n_embd=16, n_hidden=32, n_layer=1)
    model = TuneLSTM(config).eval()
    with torch.no_grad():  # random weights, scaled so the logits are peaked like a trained net's
        model.head.weight.mul_(8.0)
    return model


def golden_specs() -> list[TuneSpec]:
    """Songs, dance parts, a bridge, chorale phrase holds, modal cadences, a pickup bar."""
    plain = (PartSpec(4, "full"), PartSpec(4, "half", contrast=True), PartSpec(4, "full"))
    return [
        TuneSpec("jig", Meter(6, 8), "major", plain, 2, (55, 84), 1),
        TuneSpec("waltz", Meter(3, 4), "minor", plain, 1, (55, 84), 2),
        TuneSpec("reel", Meter(4, 4), "dorian", (PartSpec(8, "full"),), 2, (55, 84), 3),
        TuneSpec("reel", Meter(4, 4), "mixolydian", (PartSpec(8, "full"),), 2, (60, 79), 4),
        TuneSpec("chorale", Meter(4, 4), "minor",
                 (PartSpec(4, "half", phrase_bars=2), PartSpec(4, "full", phrase_bars=2)),
                 4, (55, 84), 5),
        TuneSpec("slip-jig", Meter(9, 8), "minor", plain, 3, (55, 84), 6),
        TuneSpec("hornpipe", Meter(2, 2), "major", plain, 2, (55, 84), 7, pickup=True),
    ]


def given_specs(specs: list[TuneSpec], firsts: list[list[int]]) -> list[TuneSpec]:
    """Later takes: some bars kept, others anew; a melody kept with FREE chord slots."""
    chords = set(ids_of("CHORD:"))
    out = []
    for spec, tokens in zip(specs, firsts, strict=True):
        bodies = bar_bodies(tokens)
        kept = tuple(b if i % 3 else None for i, b in enumerate(bodies))
        melody = tuple(tuple(FREE if t in chords else t for t in b) for b in bodies)
        out += [replace(spec, seed=spec.seed + 100, given=kept),
                replace(spec, seed=spec.seed + 200, given=melody)]
    return out


# "default": the sampler's defaults when the fixture was made (temperature 1.0, COPY +0.85).
OPTIONS = {"default": SamplingOptions(temperature=1.0, top_p=0.95, copy_bias=0.85),
           "hot": SamplingOptions(temperature=1.4, top_p=1.0, copy_bias=0.85),
           "cool": SamplingOptions(temperature=0.8, top_p=0.8, copy_bias=0.85)}


def run(sample=sample_tokens) -> dict:
    """Every case as {name: [token lists]}: a batch, each alone, the given-bars takes."""
    out: dict[str, list[list[int]]] = {}
    specs = golden_specs()
    for size in ("tiny", "shipped"):
        model = golden_model(size)
        for name, options in OPTIONS.items():
            if size == "shipped" and name != "default":
                continue  # the big model once: the options are the sampler's, not the net's
            firsts, _ = sample(model, specs, options)
            out[f"{size}/{name}/batch"] = firsts
            out[f"{size}/{name}/alone"] = [sample(model, [s], options)[0][0] for s in specs[:2]]
            out[f"{size}/{name}/given"] = sample(model, given_specs(specs, firsts), options)[0]
    return out


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(run(), separators=(",", ":")) + "\n")
    print(f"written {GOLDEN}")
