"""A song built around a user's tune: their melody is the first main section, untouched
but for octave placement; the network harmonises it and writes the rest."""

from __future__ import annotations

import pytest
import torch

import composer.compose
from composer.compose import compose
from composer.listen import heard_from_json, listen_abc
from composer.model import ModelConfig, TuneLSTM
from composer.request import SongRequest
from composer.sampler import Grammar

JIG = """X:1
T:A jig to build on
M:6/8
L:1/8
K:G
D|GAG GBd|edB dBA|GAG GBd|edB A2D|
GAG GBd|edB dBA|BAB dBA|AGF G2|]
"""


@pytest.fixture()
def tiny_model(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()
    monkeypatch.setattr(composer.compose, "default_model", lambda: (model, Grammar()))


def _intervals(bars) -> list[int]:
    pitches = [n.pitch for b in bars for n in b.notes if n.pitch is not None]
    return [b - a for a, b in zip(pitches, pitches[1:], strict=False)]


@pytest.mark.parametrize("style", ["jig", "folk", "waltz"])
def test_the_users_tune_is_the_first_main_section(tiny_model, style: str) -> None:
    heard = listen_abc(JIG)
    song = compose(SongRequest(style=style, length_seconds=60), seed=3, heard=heard)
    theirs = [s for s in song.sections if s.material == "A"]
    assert theirs and theirs[0].kind in ("Verse", "Part")
    for section in theirs:  # every statement: their rhythm and intervals exactly
        assert [n.ticks for b in section.bars for n in b.notes] == \
            [n.ticks for b in heard.tune.bars for n in b.notes]
        assert _intervals(section.bars) == _intervals(heard.tune.bars)
        assert all(bar.chords for bar in section.bars)  # harmonised bar by bar
    assert song.meter == heard.meter and song.key_name == "G" and song.mode == "major"
    assert song.tune is not None and song.tune["sections"] == [s.name for s in theirs]
    others = [s for s in song.sections if s.material not in ("A", "intro", "coda")]
    assert others and all(s.bars != theirs[0].bars for s in others)  # the rest is new


def test_a_tune_travels_with_the_request(tiny_model) -> None:
    heard = listen_abc(JIG)
    assert heard_from_json(heard.to_dict()).tune.bars == heard.tune.bars
    direct = compose(SongRequest(style="jig", length_seconds=45), seed=5, heard=heard)
    carried = compose(SongRequest(style="jig", length_seconds=45, tune=heard.to_dict()), seed=5)
    assert [s.bars for s in direct.sections] == [s.bars for s in carried.sections]


def test_the_style_a_tune_suggests() -> None:
    assert listen_abc(JIG).style() == "jig"
    waltz = JIG.replace("M:6/8", "M:3/4").replace("D|GAG GBd|", "GA G2 Bd|")
    assert listen_abc(waltz.split("edB A2D")[0] + "|]\n").style() in ("waltz", "folk")


def test_a_key_or_mood_asked_for_moves_the_users_tune(tiny_model) -> None:
    heard = listen_abc(JIG)  # G major
    theirs = compose(SongRequest(style="jig", length_seconds=45), seed=5, heard=heard)
    in_d = compose(SongRequest(style="jig", key="D", length_seconds=45), seed=5, heard=heard)
    assert in_d.key_name == "D"
    first = [s for s in in_d.sections if s.material == "A"][0]
    assert _intervals(first.bars) == _intervals(heard.tune.bars)  # the same tune, in D
    sad = compose(SongRequest(style="jig", mode="minor", length_seconds=45), seed=5, heard=heard)
    sad_bars = [s for s in sad.sections if s.material == "A"][0].bars
    theirs_bars = [s for s in theirs.sections if s.material == "A"][0].bars
    pcs = {n.pitch % 12 for b in sad_bars for n in b.notes if n.pitch is not None}
    assert sad.mode == "minor" and 11 not in pcs and 10 in pcs  # B (the major third) -> Bb
    assert [n.ticks for b in sad_bars for n in b.notes] == \
        [n.ticks for b in theirs_bars for n in b.notes]  # same rhythm
