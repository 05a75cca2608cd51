"""A style with a network of its own is written by it, in a batch of its own; the others by
the shared network, with the same songs as when each is composed alone."""

from __future__ import annotations

import pytest
import torch

import composer.compose
from composer.compose import (
    compose_many,
    default_model,
    networks,
    own_network,
    plan_song,
    write_songs,
)
from composer.model import DEFAULT_WEIGHTS, ModelConfig, TuneLSTM, own_network_path, read_metadata
from composer.request import SongRequest
from composer.sampler import Grammar
from composer.styles import STYLES


def _tiny(seed: int) -> TuneLSTM:
    torch.manual_seed(seed)
    return TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()


def test_a_march_is_written_by_its_own_network_and_a_jig_by_the_shared_one(monkeypatch):
    shared, marches = _tiny(0), _tiny(1)
    monkeypatch.setattr(composer.compose, "default_model", lambda: (shared, Grammar()))
    monkeypatch.setattr(composer.compose, "own_network",
                        lambda style: marches if style == "march" else None)
    requests = [SongRequest(style="march", length_seconds=30),
                SongRequest(style="jig", length_seconds=30)]
    march, jig = compose_many(requests, [5, 6])

    def alone(network: TuneLSTM, request: SongRequest, seed: int):
        (song,) = write_songs(network, Grammar(), [plan_song(request, seed)], own_networks=False)
        return song

    assert march.bars == alone(marches, requests[0], 5).bars
    assert march.bars != alone(shared, requests[0], 5).bars
    assert jig.bars == alone(shared, requests[1], 6).bars


def test_the_shipped_styles_with_their_own_network_have_it_beside_the_shared_one():
    own = [s.id for s in STYLES.values() if s.own_network]
    assert own == ["march", "hornpipe", "air"]
    for style in own:
        path = own_network_path(style)
        assert path.parent == DEFAULT_WEIGHTS.parent and path.stat().st_size < 50e6
        training = read_metadata(path)["training"]
        assert training["styles"] == [style] and 0 < training["mix"] <= 1
        assert training["start_valid_loss"] > 0 and training["best_valid_loss"] > 0  # the card's
        assert isinstance(own_network(style), TuneLSTM)
    assert own_network("jig") is None
    assert [id(n) for n in networks()] == [id(default_model()[0]),
                                          *(id(own_network(s)) for s in own)]
    from composer.training.card import model_card

    card = model_card()  # the card says what it is and how to make it again
    assert "## Styles with a network of their own" in card
    assert all(f"--styles {s} " in card for s in own)


@pytest.mark.parametrize("style", ["march", "jig"])
def test_other_shared_weights_without_a_style_network_beside_them_write_every_style(
        tmp_path, monkeypatch, style):
    monkeypatch.setattr(composer.compose, "own_network_path", lambda s: tmp_path / "none")
    composer.compose.own_network.cache_clear()
    try:
        assert composer.compose.own_network(style) is None
    finally:
        composer.compose.own_network.cache_clear()
