"""The tune a user gave (composer.heard.Heard) as a small sheet: its first bars, its key,
meter and tempo, a PNG for a chat ("here is what I heard").

The lead sheet's own path is reused (composer.sheet: music21 score, verovio, cairosvg): the
heard bars become a one-section Song, engraved without a title or section label.
"""

from __future__ import annotations

from composer.heard import Heard
from composer.music import TICKS_PER_QUARTER
from composer.request import SongRequest
from composer.sheet import (
    PNG_WIDTH,
    VEROVIO_OPTIONS,
    build_score,
    plain_text_glyphs,
    verovio_toolkit,
)
from composer.song import Section, Song

SHOWN_BARS = 8  # two lines of four: enough to recognise one's tune
TUNE_SHEET_OPTIONS = {**VEROVIO_OPTIONS, "pageHeight": 1200, "header": "none"}


def tune_song(heard: Heard, bars: int = SHOWN_BARS) -> Song:
    """The heard tune's first `bars` bars as a Song of one section, no chords."""
    tune, meter = heard.tune, heard.meter
    shown = tune.bars[:bars]
    tempo = round(heard.tempo_bpm * TICKS_PER_QUARTER / meter.beat_ticks)  # felt beats
    return Song(request=SongRequest(style=tune.style), title="", style=tune.style, meter=meter,
                tonic=tune.tonic, key_name=heard.key, mode=heard.mode, tempo_bpm=tempo,
                instrument="", seed=0, sections=[Section("Verse", "Verse", "A", shown)])


def tune_sheet_png(heard: Heard, bars: int = SHOWN_BARS) -> bytes:
    """The first bars of the heard tune, engraved: PNG bytes."""
    import cairosvg
    from music21 import bar, expressions
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = build_score(tune_song(heard, bars))
    score.metadata.title = ""
    score.metadata.composer = ""
    for label in list(score.recurse().getElementsByClass(expressions.TextExpression)):
        label.activeSite.remove(label)  # "Verse" would be a guess about the song to come
    if len(heard.tune.bars) > bars:  # the tune goes on: no final bar line
        score.parts[0].getElementsByClass("Measure")[-1].rightBarline = bar.Barline("regular")
    toolkit = verovio_toolkit(TUNE_SHEET_OPTIONS)
    if not toolkit.loadData(GeneralObjectExporter(score).parse().decode("utf-8")):
        raise RuntimeError("verovio could not read the tune's MusicXML")
    svg = plain_text_glyphs(toolkit.renderToSVG(1))
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=PNG_WIDTH,
                            background_color="white")
