"""The fast paths give the same results as the plain ones: the lean LSTM step and sampler
loop the same tokens for the same seeds as the reference (tests/sampler_golden.py), the
in-process renderer the same loudness as the FluidSynth CLI path, with no clicks."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import mido
import numpy as np
import pytest
import torch

import composer.audio as audio
import composer.render as render_module
from composer import encode, lame, synth
from composer.arrange import arrange, humanise
from composer.midi import to_midi_file
from composer.model import LeanStep, ModelConfig, TuneLSTM
from composer.sampler import sample_tokens
from composer.tokens import INDEX
from tests import sampler_golden
from tests.song_fixture import make_song
from tests.test_render import system_ready


def test_lean_sampler_gives_the_reference_tokens() -> None:
    """Same seeds, same tokens as the sampler before it was made fast (the golden file)."""
    golden = json.loads(sampler_golden.GOLDEN.read_text())
    assert sampler_golden.run(sample_tokens) == golden


@pytest.mark.parametrize("config", [ModelConfig(), ModelConfig(style_every_step=True),
                                    ModelConfig(n_embd=16, n_hidden=32, n_layer=1)])
@pytest.mark.parametrize("batch", [1, 2, 5])  # a plain product; MKL-packed; packed, padded
def test_lean_step_matches_the_reference_step(config: ModelConfig, batch: int) -> None:
    torch.manual_seed(1)
    model = TuneLSTM(config).eval()
    steps = 30
    ids = torch.randint(0, config.vocab_size, (batch, steps))
    if model.style_embed is not None:  # a style input that counts, read mid-sequence
        torch.nn.init.normal_(model.style_embed.weight[1:])
        ids[:, 3] = torch.tensor([INDEX["STYLE:reel"], INDEX["STYLE:march"]] * 3)[:batch]
        ids[:, 20] = INDEX["STYLE:folk"]
    step = LeanStep(model, batch)
    if torch.backends.mkl.is_available():  # this machine's torch: the packed path is taken
        assert (step.head.packed is not None) == (batch >= 2)
    with torch.inference_mode():
        reference, state = [], None
        for t in range(steps):
            logits, state = model(ids[:, t:t + 1], state)
            reference.append(logits[:, -1])
        lean = [step(ids[:, t]).clone() for t in range(steps)]
    for want, got in zip(reference, lean, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    step.reset()  # a fresh song starts from the zero state
    with torch.inference_mode():
        torch.testing.assert_close(step(ids[:, 0]), reference[0], rtol=1e-5, atol=1e-5)


# ==== the audio path ===========================================================================

needs_audio = pytest.mark.skipif(not system_ready(), reason="FluidSynth or ffmpeg missing")


def loudness(path: Path) -> float:
    """Integrated loudness (EBU R128, LUFS) as ffmpeg measures it."""
    out = subprocess.run(["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null",
                          "-"], capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])


def decode(path: Path) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.float32).reshape(-1, 2)


def old_path_mp3(midi: Path, mp3: Path, music_seconds: float, soundfont: Path) -> None:
    """The audio path before issue 13, as an oracle: the fluidsynth program, pydub, ffmpeg."""
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence

    wav = mp3.with_suffix(".wav")
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.3", "-C", "0", "-o",
                    "synth.dynamic-sample-loading=1", "-F", str(wav), "-r", "44100",
                    str(soundfont), str(midi)], check=True, capture_output=True)
    song = AudioSegment.from_wav(wav)
    peak = song.max_dBFS
    silence = detect_leading_silence(song.reverse(), silence_threshold=peak - 50, chunk_size=10)
    music_ms = int(music_seconds * 1000)
    end = max(music_ms, min(len(song) - silence + 200, music_ms + 2000, len(song)))
    song = song[:end].fade_out(min(1200, end // 4))
    gain = min(-16.5 - song[:music_ms].dBFS, 5.0 - peak)
    song.export(str(mp3), format="mp3", bitrate="192k", parameters=[
        "-af", f"volume={gain:.2f}dB,alimiter=limit=0.891:level=false"]).close()


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[mido.MidiFile, Path, float]:
    """A 2-part song as FluidSynth plays it (humanised), in memory and as a file."""
    song = make_song("folk", long=True)
    arrangement = arrange(song, song.seed)
    midi = to_midi_file(humanise(arrangement, song.seed))
    path = tmp_path_factory.mktemp("played") / "played.mid"
    midi.save(path)
    return midi, path, arrangement.seconds_at(arrangement.music_end)


@needs_audio
def test_new_audio_path_keeps_the_loudness_and_the_peak(played, tmp_path: Path) -> None:
    midi, path, music_seconds = played
    soundfont = audio.check_system()
    old, new = tmp_path / "old.mp3", tmp_path / "new.mp3"
    old_path_mp3(path, old, music_seconds, soundfont)
    result = audio.render_audio(midi, new, music_seconds=music_seconds, soundfont=soundfont,
                                tags={"title": "t", "artist": "Isadei"})
    assert loudness(new) == pytest.approx(loudness(old), abs=0.5)
    assert -16.0 < loudness(new) < -12.0  # about -14 LUFS
    pcm = decode(new)
    assert 20 * np.log10(np.abs(pcm).max()) < -0.5  # the limiter's -1 dBFS, after the codec
    assert result.duration_seconds == pytest.approx(audio.probe_seconds(new), abs=0.1)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(new)],
        capture_output=True, text=True, check=True).stdout)
    stream = probe["streams"][0]
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == ("mp3", "44100", 2)
    assert probe["format"]["tags"]["artist"] == "Isadei"


@needs_audio
def test_parts_join_without_seams(played) -> None:
    """Synthesis in two parts sums to the whole render; MP3 parts decode as one encode."""
    midi, _, _ = played
    soundfont = audio.check_system()
    whole = synth.render_midi(midi, soundfont, parts=1)
    split = synth.render_midi(midi, soundfont, parts=2)
    events, length = synth.midi_events(midi)
    (cut,) = synth.split_points(events, length, 2)[1:]
    assert len(split) == len(whole)
    rms_whole, rms_split = (float(np.sqrt(np.mean(np.square(x)))) for x in (whole, split))
    assert 20 * np.log10(rms_split / rms_whole) == pytest.approx(0, abs=0.1)  # same loudness
    around = slice(cut - 4096, cut + 4096)  # no click: no jump bigger than the whole has there
    jumps = np.abs(np.diff(split[around], axis=0)).max()
    assert jumps <= np.abs(np.diff(whole[around], axis=0)).max() + 0.01


@needs_audio
@pytest.mark.parametrize("in_process", [True, False])  # LAME here; an ffmpeg process per part
def test_mp3_parts_decode_like_one_encode(played, tmp_path: Path, in_process: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if in_process:
        assert lame.available()  # libmp3lame comes with ffmpeg
    else:
        monkeypatch.setattr(lame, "available", lambda: False)
    midi, _, music_seconds = played
    pcm = audio.master(synth.render_midi(midi, audio.check_system()), music_seconds).pcm
    encode.write_mp3(pcm, tmp_path / "one.mp3", {}, parts=1)
    encode.write_mp3(pcm, tmp_path / "two.mp3", {"title": "x"}, parts=2)
    one, two = decode(tmp_path / "one.mp3"), decode(tmp_path / "two.mp3")
    assert len(one) == len(two)
    join = encode.frame_cuts(len(pcm), 2)[1] * encode.FRAME
    around = slice(join - 8 * encode.FRAME, join + 8 * encode.FRAME)
    assert np.abs(one[around] - two[around]).max() < 1e-3  # no seam: as if encoded whole
    rms = float(np.sqrt(np.mean(np.square(one))))
    assert float(np.sqrt(np.mean(np.square(one - two)))) < rms / 300  # coding noise at most


def test_limiter_holds_the_ceiling_without_clicks() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(44100 * 3) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    tone[44100:44200] += rng.uniform(-1.5, 1.5, 100).astype(np.float32)  # a loud hit
    pcm = np.stack([tone, tone], axis=1)
    out = audio.limit(pcm.copy())
    assert np.abs(out).max() <= audio.PEAK_CEILING + 1e-6
    assert np.array_equal(out[:40000], pcm[:40000])  # far from the hit: untouched
    gain = out[:, 0] / np.where(np.abs(tone) > 0.05, tone, np.nan)
    assert np.nanmax(np.abs(np.diff(gain[40000:48000]))) < 0.05  # a gain ramp, not a step


@needs_audio
def test_the_synth_plays_the_humanised_midi_and_the_mp3_comes_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    song = make_song("jig")
    heard: dict = {}
    real = render_module.render_audio

    def spy(midi, mp3, *args, **kwargs):
        heard["midi"] = midi
        return real(midi, mp3, *args, **kwargs)

    def on_audio(mp3: Path) -> None:  # the MP3 is whole and in place; the others are not yet
        heard["files"] = sorted(p.name for p in mp3.parent.iterdir() if not p.name.startswith("."))
        heard["seconds"] = audio.probe_seconds(mp3)

    monkeypatch.setattr(render_module, "render_audio", spy)
    rendered = render_module.render(song, tmp_path / "out", on_audio=on_audio)
    played = render_module.as_played(song, arrange(song, song.seed))  # timing, ornaments
    on_grid = mido.MidiFile(rendered.midi)
    assert notes_of(heard["midi"]) == notes_of(played) != notes_of(on_grid)
    assert heard["files"] == [rendered.mp3.name]
    assert heard["seconds"] == pytest.approx(rendered.duration_seconds, abs=0.1)


def notes_of(midi: mido.MidiFile) -> list[tuple[float, int, int]]:
    out, now = [], 0.0
    for msg in midi:
        now += msg.time
        if msg.type == "note_on":
            out.append((round(now, 4), msg.note, msg.velocity))
    return out


@needs_audio
def test_a_failure_after_the_mp3_leaves_no_files(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import composer.sheet

    def broken(song, path):
        raise RuntimeError("engraver crashed")

    monkeypatch.setattr(composer.sheet, "engrave", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="engraver crashed"):
        render_module.render(make_song("folk"), out)
    assert list(out.iterdir()) == []


@needs_audio
def test_without_libfluidsynth_the_program_renders(played, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    midi, _, music_seconds = played
    monkeypatch.setattr(synth, "available", lambda: False)
    pcm = audio.synthesize(midi, audio.check_system())
    assert pcm.dtype == np.float32 and pcm.shape[1] == 2
    assert len(pcm) / 44100 > music_seconds


# ==== the bench (its CUDA path, run here on the CPU) ============================================


def test_bench_picks_the_device_and_runs_every_batch_on_the_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import bench
    from bot.cli.bench_floor import floor_ms, step_cost
    from composer.sampler import Grammar

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench.pick_device("auto") == "cpu"
    with pytest.raises(SystemExit, match="no CUDA"):
        bench.pick_device("cuda:0")
    torch.manual_seed(0)
    model = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()
    sampling = bench.bench_sampling(model, Grammar(), "cpu", batches=(1, 3))
    assert {"1", "3"} <= set(sampling)
    for batch in ("1", "3"):
        assert sampling[batch]["ms_per_step"] > 0 and sampling[batch]["floor_ms_per_step"] > 0
    generated = bench.bench_generation(model, Grammar(), "cpu", batches=(2,))
    assert generated["2"]["songs_per_minute"] > 0
    cost = step_cost(TuneLSTM(ModelConfig()))
    assert cost["flops_per_token"] == pytest.approx(6.5e6, rel=0.01)  # 3x384: the figure
    rates = {"peak_gflops": 100.0, "weights_stream_gb_s": 20.0}
    assert floor_ms(cost, rates, 1) == pytest.approx(cost["weight_bytes"] / 20e6)  # bandwidth
    assert floor_ms(cost, rates, 1024) == pytest.approx(1024 * cost["flops_per_token"] / 1e8)


def test_the_lean_step_runs_where_the_model_is() -> None:
    """On CUDA when there is one (the worker's GPU); here the CPU: buffers follow the weights."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=2)).eval().to(device)
    step = LeanStep(model, 4)
    with torch.inference_mode():
        logits = step(torch.zeros(4, dtype=torch.long, device=device))
    assert logits.device.type == device and logits.shape == (4, model.config.vocab_size)
