"""The shipped weights load and compose on a CPU; training learns; bad checkpoints are
refused with a clear error."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from composer.compose import compose, default_model
from composer.model import (
    DEFAULT_WEIGHTS,
    STYLE_NUMBER,
    CheckpointError,
    ModelConfig,
    TuneLSTM,
    load_model,
    read_metadata,
    save_model,
    styles_so_far,
)
from composer.request import SongRequest
from composer.tokens import INDEX
from composer.training.train import TrainConfig, train


def test_shipped_weights_load_and_compose_a_song_on_cpu():
    model, grammar = default_model()
    assert next(model.parameters()).device.type == "cpu"
    assert DEFAULT_WEIGHTS.stat().st_size < 50e6
    song = compose(SongRequest(style="jig", key="D", length_seconds=30), seed=7)
    assert song.key_name == "D" and song.meter.name == "6/8"
    assert all(bar.ticks == song.meter.bar_ticks for bar in song.bars)
    assert song.sections[0].name == "Part A" and song.sections[-1].kind == "Coda"
    last_note = [n for n in song.bars[-1].notes if n.pitch is not None][-1]
    assert last_note.pitch % 12 == 2  # ends on the tonic, D


def test_same_request_and_seed_give_the_same_song():
    request = SongRequest(style="waltz", mode="minor", length_seconds=30)
    assert compose(request, seed=11).bars == compose(request, seed=11).bars
    assert compose(request, seed=11).bars != compose(request, seed=12).bars


def test_tiny_training_run_lowers_the_loss(tmp_path):
    config = TrainConfig(out_dir=tmp_path, resume=False, model=ModelConfig(style_every_step=True))
    summary = train(config.tiny())
    history = torch.load(tmp_path / "tiny-lstm.ckpt.pt", weights_only=False)["history"]
    assert history[-1]["valid"] < history[0]["valid"] - 0.3
    assert summary["best_valid_loss"] == min(h["valid"] for h in history)
    trained = load_model(tmp_path / "tiny-lstm.safetensors")
    assert trained.config.n_hidden == 64
    styles = trained.style_embed.weight  # the style input starts at zero and learns
    assert styles[0].abs().max() == 0 and styles[1:].abs().max() > 0.05
    assert (tmp_path / "tiny-lstm-loss.png").stat().st_size > 1000


def test_a_styles_own_network_is_trained_on_its_tunes_and_mixed_back(tmp_path):
    shared = replace(TrainConfig(out_dir=tmp_path / "shared", resume=False).tiny(), max_epochs=1)
    train(shared)
    own = replace(TrainConfig(out_dir=tmp_path / "own", resume=False).tiny(),
                  init_from=shared.weights_path, styles=("air", "reel"), max_steps=4)
    train(own)
    half = replace(own, out_dir=tmp_path / "half", mix=0.5)
    train(half)
    start, trained = load_file(shared.weights_path), load_file(own.weights_path)
    mixed = load_file(half.weights_path)
    for name, tensor in mixed.items():  # the same steps (one seed), then half way back
        assert torch.allclose(tensor, (start[name] + trained[name]) / 2, atol=1e-6), name
    assert not torch.equal(trained["head.bias"], start["head.bias"])
    meta = read_metadata(half.weights_path)["training"]
    assert meta["styles"] == ["air", "reel"] and meta["steps"] == 4 and meta["mix"] == 0.5
    assert meta["tunes"]["valid"] == 2  # the tiny corpus's held-out air and reel only
    with pytest.raises(ValueError, match="mix needs init_from and max_steps"):
        train(replace(half, max_steps=0))


def test_corrupt_or_missing_checkpoint_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(DEFAULT_WEIGHTS.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="cannot load"):
        load_model(broken)
    with pytest.raises(CheckpointError, match="no weights"):
        load_model(tmp_path / "missing.safetensors")


def test_checkpoint_round_trip_keeps_the_weights(tmp_path):
    model = TuneLSTM(ModelConfig(n_embd=8, n_hidden=16, n_layer=2))
    save_model(model, tmp_path / "m.safetensors", metadata={"note": "test"})
    loaded = load_model(tmp_path / "m.safetensors")
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name


def test_sample_writes_readable_midi_and_refuses_unknown_styles(tmp_path):
    import mido

    from composer.training.sample import sample_to_midi

    paths = sample_to_midi("reel", n=3, out_dir=tmp_path, seed=1, bars=4)
    assert len(paths) == 3
    midi = mido.MidiFile(paths[0])
    assert [t.name for t in midi.tracks][1] == "Melody"
    assert [m.text for m in midi.tracks[0] if m.type == "marker"] == ["Part A", "Part B"]
    with pytest.raises(ValueError, match="unknown style"):
        sample_to_midi("disco", n=1, out_dir=tmp_path)


def test_a_song_may_lift_its_last_chorus_a_whole_step():
    """Some long folk songs (never a lullaby) sing the last chorus a whole step up, and
    end there: the same music as without the lift, moved up, chords and key with it."""
    from composer.compose import LIFT_STEP, plan_song, write_songs

    plans = [plan_song(SongRequest(style="folk", length_seconds=150), seed) for seed in range(20)]
    lifted = [p for p in plans if p.lift_from is not None]
    assert 0 < len(lifted) < len(plans)
    assert not any(plan_song(SongRequest(style="lullaby", length_seconds=150), seed).lift_from
                   for seed in range(20))

    for plan in lifted:
        assert plan.form.sections[plan.lift_from].kind == "Chorus"
        assert all(s.kind != "Chorus" for s in plan.form.sections[plan.lift_from + 1:])
    model, grammar = default_model()
    # a lift that would take the melody out of the instrument's range is skipped
    songs = write_songs(model, grammar, lifted)
    plan, up = next((p, s) for p, s in zip(lifted, songs, strict=True)
                    if s.sections[p.lift_from].key_step)
    (level,) = write_songs(model, grammar, [replace(plan, lift_from=None)])
    for k, (a, b) in enumerate(zip(up.sections, level.sections, strict=True)):
        if k < plan.lift_from:
            assert a.bars == b.bars and a.key_step == b.key_step == 0
            continue
        assert a.key_step == LIFT_STEP and b.key_step == 0
        assert [n.pitch for bar in a.bars for n in bar.notes] == [
            None if n.pitch is None else n.pitch + LIFT_STEP for bar in b.bars for n in bar.notes]
        assert [c.root for bar in a.bars for _, c in bar.chords] == [
            (c.root + LIFT_STEP) % 12 for bar in b.bars for _, c in bar.chords]


def test_a_song_ends_on_its_cadence_held_on_the_root_or_third():
    """Parts may lead on after their cadence (into the repeat); the song's last bar stops
    there and holds it, and a cadence on the fifth moves to the root (D major here)."""
    from composer.compose import _final_bar
    from composer.instruments import get_instrument
    from composer.music import Bar, Chord, Note
    from composer.styles import get_style

    violin, ends = get_instrument("violin"), get_style("jig").final_tones

    chords = [(0, Chord(7, "maj")), (18, Chord(0, "maj"))]  # 6/8: A, then D
    led_on = Bar([Note(69, 18), Note(74, 6), Note(73, 6), Note(71, 6)], chords)
    assert _final_bar(led_on, 2, False, violin, ends).notes == [Note(69, 18), Note(74, 18)]
    on_fifth = Bar([Note(76, 18), Note(69, 12), Note(71, 6)], chords)  # A, the fifth of D
    assert _final_bar(on_fifth, 2, False, violin, ends).notes == [Note(76, 18), Note(74, 18)]
    assert _final_bar(on_fifth, 2, True, violin, ends) == Bar([Note(74, 36)], chords[-1:])
    on_third = Bar([Note(76, 18), Note(78, 18)], chords)  # F#, the third: kept
    assert _final_bar(on_third, 2, False, violin, ends).notes == on_third.notes
    # a Chinese tune may close on its fifth
    chinese = get_style("chinese-folk").final_tones
    assert _final_bar(on_fifth, 2, False, violin, chinese).notes == [Note(76, 18), Note(69, 18)]


@pytest.mark.parametrize("style,seed,length", [("folk", 5, 45), ("jig", 66, 90),
                                               ("reel", 92, None), ("chorale", 132, None)])
def test_the_band_plays_the_melody_where_the_composer_put_it(style, seed, length):
    """Every version of a tune (repeats' new bars, a set's next tune, the final note) fits
    the instrument as placed, so the arranger never moves the whole melody an octave
    (these songs once were)."""
    from composer.arrange import arrange

    song = compose(SongRequest(style=style, length_seconds=length), seed=seed)
    written = [n.pitch for bar in song.bars for n in bar.notes if n.pitch is not None]
    played = [p for _, _, p, _ in sorted(arrange(song, seed).track("Melody").notes)]
    assert played == written


@pytest.mark.parametrize("style,meter,tempo,length", [("hornpipe", "2/2", 80, None),
                                                      ("chorale", "4/4", 68, 45),
                                                      ("folk", "6/8", 90, 30)])
def test_a_song_plays_as_long_as_its_plan_says_slowdown_and_all(style, meter, tempo, length):
    """The plan counts the last bars' ritardando, so the length asked for is the length
    played: this hornpipe was planned at 99 s for 90 and played 99.7 s."""
    from composer.arrange import arrange
    from composer.compose import plan_song

    request = SongRequest(style=style, meter=meter, tempo_bpm=tempo, length_seconds=length)
    plan = plan_song(request, 1).form
    arranged = arrange(compose(request, seed=1), 1)
    played = arranged.seconds_at(arranged.music_end)
    assert played == pytest.approx(plan.seconds_total, abs=0.01)
    assert abs(played - plan.target_seconds) <= 0.1 * plan.target_seconds
    assert played > plan.bars_total * plan.seconds_per_bar  # it does slow down


def test_a_style_holds_from_its_token_on_and_is_carried_across_calls() -> None:
    folk, march, bar = INDEX["STYLE:folk"], INDEX["STYLE:march"], INDEX["BAR"]
    ids = torch.tensor([[INDEX["BOS"], march, bar, bar, folk, bar]])
    numbers = styles_so_far(ids)
    assert numbers.tolist() == [[0] + [STYLE_NUMBER[march]] * 3 + [STYLE_NUMBER[folk]] * 2]
    # fed one token a call, the style read earlier is carried in the state
    assert styles_so_far(ids[:, 5:], numbers[:, 4]).tolist() == [[STYLE_NUMBER[folk]]]
    assert styles_so_far(ids[:, :1]).tolist() == [[0]]


def test_weights_from_before_the_style_input_load_without_it(tmp_path: Path) -> None:
    old = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1))
    path = tmp_path / "old.safetensors"
    save_model(old, path)
    meta = read_metadata(path)
    del meta["config"]["style_every_step"]  # as wave 3 wrote it
    save_file(load_file(str(path)), str(path),
              metadata={k: json.dumps(v) for k, v in meta.items()})
    assert load_model(path).style_embed is None


def test_a_melody_sits_where_its_styles_tunes_do() -> None:
    """Folk songs are sung around A4 and reels played around C#5, as the corpus has them
    (Style.register): on average a song's middle is within a whole step of its style's. Not
    every song's: a wide melody that would leave its instrument an octave up stays low (5 and
    6 of 40 folk songs sat more than a tritone below A4, durations cut at top-p 0.95 or not)."""
    from composer.compose import compose_many
    from composer.styles import get_style

    def middle(song) -> int:
        pitches = sorted(n.pitch for bar in song.bars for n in bar.notes if n.pitch is not None)
        return pitches[len(pitches) // 2]

    styles = ("folk", "reel")
    # 16 a style: 8 reels' middles averaged 72.8-76.4 between seed ranges (40: 74.0).
    requests = [SongRequest(style=s, length_seconds=30) for s in styles for _ in range(16)]
    songs = compose_many(requests, list(range(32)))
    middles = {s: sorted(middle(song) for song in songs if song.style == s) for s in styles}
    for style, found in middles.items():
        assert abs(sum(found) / len(found) - get_style(style).register) <= 2, (style, found)
    assert sum(middles["folk"]) < sum(middles["reel"])


def test_rare_styles_are_repeated_up_to_the_floor_and_no_more() -> None:
    from collections import Counter

    from composer.data import TINY_CORPUS_PATH
    from composer.training.train import encode_split

    plain = encode_split(TINY_CORPUS_PATH)["train"]
    floored = encode_split(TINY_CORPUS_PATH, style_floor=1000, max_repeat=3)["train"]
    copies = Counter(tuple(seq) for seq in floored)
    assert len(floored) == 3 * len(plain)  # every tiny style is rare: each tune three times
    assert set(copies) == {tuple(seq) for seq in plain} and max(copies.values()) <= 3
    assert encode_split(TINY_CORPUS_PATH, style_floor=1000, max_repeat=1)["train"] == plain


def test_a_style_network_can_learn_from_the_tunes_named_as_the_style_alone() -> None:
    from composer.data import TINY_CORPUS_PATH
    from composer.training.corpus import load_corpus, named, split_of
    from composer.training.train import encode_split

    airs = [t for t in load_corpus(TINY_CORPUS_PATH) if t.style == "air"]
    named_airs = named(airs)
    assert 0 < len(named_airs) < len(airs)  # the fixture holds both kinds
    splits = encode_split(TINY_CORPUS_PATH, only=("air",), named_only=True)
    assert sum(map(len, splits.values())) == len(named_airs)
    assert len(splits["train"]) == sum(split_of(t.id) == "train" for t in named_airs)
