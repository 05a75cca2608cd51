"""A style's rhythm counted from its tunes (composer.style_rhythm and its training), and the
sampler mixing it into the network's choice of note lengths."""

import json
from dataclasses import replace

import torch

from composer.data import STYLE_RHYTHMS_PATH
from composer.model import ModelConfig, TuneLSTM
from composer.music import Bar, Meter, Note, Tune
from composer.sampler import PartSpec, SamplingOptions, TuneSpec, as_tune, sample_tokens
from composer.style_rhythm import log_probs, probabilities
from composer.styles import STYLES
from composer.tokens import MAX_DURATION
from composer.training.style_rhythms import count, held_out_nats, notes_in_context

# A march bar: a dotted eighth, a sixteenth, two quarters, an eighth pair.
DOTTED_BAR = [Note(67, 9), Note(69, 3), Note(71, 12), Note(67, 12), Note(72, 6), Note(71, 6)]


def march(bars: int = 8, pickup: bool = False) -> Tune:
    body = [Bar(list(DOTTED_BAR)) for _ in range(bars)]
    if pickup:  # the padding rest, then the upbeat: no note of the tune's rhythm
        body.insert(0, Bar([Note(None, 42), Note(62, 6)]))
    return Tune("m", "", "march", Meter(4, 4), 7, "major", [body], pickup_ticks=42 if pickup else 0)


def test_notes_are_counted_in_their_place_in_the_bar_after_the_note_before() -> None:
    assert list(notes_in_context(march(1, pickup=True))) == [
        (0, 0, 9), (9, 9, 3), (12, 3, 12), (24, 12, 12), (36, 12, 6), (42, 6, 6)]
    table = count([march(), march(4, pickup=True)])["march 4/4"]
    assert table["tunes"] == 2 and table["lengths"] == {"9": 12, "3": 12, "12": 24, "6": 24}
    assert table["at"]["36"] == {"6": 12} and table["after"]["9 9"] == {"3": 12}


def test_a_context_says_what_comes_next_and_nothing_is_impossible() -> None:
    table = count([march()])["march 4/4"]
    after_dotted = probabilities(table, 9, 9)
    assert abs(sum(after_dotted) - 1) < 1e-9 and len(after_dotted) == MAX_DURATION
    assert after_dotted[3 - 1] > 0.7  # a sixteenth after the dotted eighth
    assert min(after_dotted) > 0
    unseen = probabilities(table, 9, 5)  # never after a 5: what happens at tick 9 anyway
    assert max(range(MAX_DURATION), key=unseen.__getitem__) == 3 - 1
    # Held out, the same rhythm costs far less in context than as bare lengths.
    nats = held_out_nats(count([march()]), [march(2)])["march"]
    assert nats["in_context"] < nats["lengths_alone"] / 3 and nats["notes"] == 12


def test_shipped_tables_hold_the_corpus_styles() -> None:
    data = json.loads(STYLE_RHYTHMS_PATH.read_text())
    assert data["tables"]["march 4/4"]["tunes"] >= 30
    for style, nats in data["held_out_nats_per_note"].items():
        assert nats["in_context"] < nats["lengths_alone"], style
    assert log_probs("march", "4/4", 0, 0) is not None
    assert log_probs("march", "9/8", 0, 0) is None  # no march in 9/8: the network alone
    assert STYLES["march"].rhythm_fusion > 0 and STYLES["reel"].rhythm_fusion == 0


def test_the_sampler_mixes_the_styles_rhythm_into_the_note_lengths(monkeypatch) -> None:
    """An untrained network picks lengths at random; with the march's rhythm mixed in
    fully, its 4/4 bars move in the corpus marches' lengths (quarters, eighths, dotted
    pairs), never in fives and sevens; a style without it, in the same batch, is sampled
    as before."""
    torch.manual_seed(0)
    model = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()
    parts = (PartSpec(4, "full"), PartSpec(4, "full"))
    specs = [TuneSpec(style, Meter(4, 4), "major", parts, 2, (55, 84), seed)
             for style in ("march", "reel") for seed in range(8)]
    options = SamplingOptions(copy_bias=0.0)
    monkeypatch.setitem(STYLES, "march", replace(STYLES["march"], rhythm_fusion=0.0))
    plain, _ = sample_tokens(model, specs, options)
    monkeypatch.setitem(STYLES, "march", replace(STYLES["march"], rhythm_fusion=1.0))
    fused, _ = sample_tokens(model, specs, options)

    assert fused[8:] == plain[8:]  # the reels beside them: the same tunes
    marches = specs[:8]

    def lengths(sequences: list[list[int]]) -> list[int]:
        return [note.ticks for tokens, spec in zip(sequences[:8], marches, strict=True)
                for note in as_tune(tokens, spec).melody()]

    common = {3, 6, 9, 12, 18, 24}
    assert sum(n in common for n in lengths(plain)) < 0.5 * len(lengths(plain))
    assert sum(n in common for n in lengths(fused)) > 0.9 * len(lengths(fused))
