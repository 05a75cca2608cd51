"""`isadei sample`: raw tunes straight from the network, as MIDI files to listen to.

No song form here: each tune is what the network wrote for an AABB-like plan (two parts
of `bars` bars), played once with the style's band, so the model itself can be judged.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from composer.arrange import arrange
from composer.compose import default_model, own_network, plan_song, transpose_bar
from composer.midi import write_midi
from composer.music import Tune
from composer.request import SongRequest
from composer.sampler import PartSpec, SamplingOptions, sample_tunes
from composer.song import Section, Song
from composer.styles import get_style
from composer.tokens import key_shift


def tune_as_song(tune: Tune, request: SongRequest, seed: int, key_name: str, tempo: int,
                 instrument: str) -> Song:
    """A sampled tune as a one-pass Song: one section per part, in the real key."""
    shift = key_shift(tune.tonic)
    sections = []
    for index, part in enumerate(tune.parts):
        letter = "ABCD"[index]
        bars = [transpose_bar(bar, shift) for bar in part]
        sections.append(Section(kind="Part", name=f"Part {letter}", material=letter, bars=bars))
    return Song(request=request, title=f"{tune.style} sample {seed}", style=tune.style,
                meter=tune.meter, tonic=tune.tonic, key_name=key_name, mode=tune.mode,
                tempo_bpm=tempo, instrument=instrument, seed=seed, sections=sections)


def sample_to_midi(style: str, n: int, out_dir: Path, seed: int = 0,
                   temperature: float | None = None, top_p: float | None = None,
                   bars: int = 8) -> list[Path]:
    """Sample n tunes of a style in one batch and write one MIDI file each (temperature and
    top-p: the product's unless given)."""
    get_style(style)  # a clear error for an unknown style
    if not 1 <= n <= 1000 or not 1 <= bars <= 64:
        raise ValueError("choose 1..1000 tunes of 1..64 bars a part")
    options = SamplingOptions.trying(temperature=temperature, top_p=top_p)
    model, grammar = default_model()
    model = own_network(style) or model  # the network that writes the style in songs
    request = SongRequest(style=style)
    plans = [plan_song(request, seed + i) for i in range(n)]
    parts = (PartSpec(bars, "half"), PartSpec(bars, "full"))
    specs = [replace(p.spec, parts=parts) for p in plans]
    tunes, _ = sample_tunes(model, specs, options, grammar)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for plan, tune in zip(plans, tunes, strict=True):
        tune.tonic = plan.tonic
        song = tune_as_song(tune, request, plan.seed, plan.key_name, plan.tempo_bpm,
                            plan.instrument)
        path = out_dir / f"{style}-{plan.seed}.mid"
        write_midi(arrange(song, plan.seed), path)
        paths.append(path)
    return paths
