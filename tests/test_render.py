"""Rendering for real: FluidSynth + ffmpeg → MP3/OGG, the lead sheet PNG, the JSON record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mido
import pytest

import composer.audio as audio
from composer.audio import MissingSystemDependency, probe_seconds
from composer.music import Bar, Chord, Note
from composer.render import make_slug, render
from composer.sheet import (
    SMUFL_TEXT,
    VEROVIO_OPTIONS,
    ScoreFiles,
    SheetSection,
    chord_symbol,
    engrave,
    glyph_font,
    lead_sheet_sections,
    loaded_toolkit,
    plain_text_glyphs,
    sheet_layout,
    to_musicxml,
)
from composer.song import SongRecord
from tests.song_fixture import make_song


def system_ready() -> bool:
    try:
        audio.check_system()
    except MissingSystemDependency:
        return False
    return True


needs_audio = pytest.mark.skipif(not system_ready(),
                                 reason="fluidsynth, a GM SoundFont or ffmpeg is not installed")


def ink(png: Path) -> float:
    """The share of the image that is not white: a lead sheet with notes has some."""
    from PIL import Image

    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[200:]) / sum(histogram)


@needs_audio
def test_real_render(tmp_path: Path) -> None:
    song = make_song("jig")
    out = tmp_path / "out"
    rendered = render(song, out, formats=("mid", "mp3", "ogg", "png", "json"))

    slug = make_slug(song)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{slug}.{ext}" for ext in ("mid", "mp3", "ogg", "png", "json"))
    assert set(rendered.paths()) == set(out.iterdir())

    midi_seconds = mido.MidiFile(rendered.midi).length
    mp3_seconds = probe_seconds(rendered.mp3)
    assert mp3_seconds == pytest.approx(midi_seconds, abs=1.5)
    assert rendered.duration_seconds == pytest.approx(mp3_seconds, abs=0.1)
    assert probe_seconds(rendered.ogg) == pytest.approx(mp3_seconds, abs=0.1)

    from pydub import AudioSegment

    sound = AudioSegment.from_file(rendered.mp3)
    assert -3.0 < sound.max_dBFS < -0.3  # normalised, with headroom, not clipped
    assert sound.dBFS > -24  # not silent, not faint
    assert sound[-300:].dBFS < sound.dBFS - 6  # faded out at the end

    record = json.loads(rendered.json.read_text())
    assert record["request"] == song.request.to_json()
    assert (record["style"], record["key"], record["mode"], record["meter"]) == (
        "jig", "D", "major", "6/8")
    assert record["seed"] == song.seed and record["tempo_bpm"] == song.tempo_bpm
    names = [s["name"] for s in record["form"]]
    assert names == [s.name for s in song.sections]
    starts = [s["start_seconds"] for s in record["form"]]
    assert starts[0] == 0 and starts == sorted(starts)
    total = sum(s["seconds"] for s in record["form"])
    assert total == pytest.approx(record["music_seconds"], abs=0.01)
    assert record["duration_seconds"] == pytest.approx(mp3_seconds, abs=0.1)
    assert [s["start_bar"] for s in record["form"]][:2] == [1, 1 + len(song.sections[0].bars)]
    for stage in ("compose", "arrange", "midi", "audio", "encode", "engrave", "render"):
        assert record["timings"][stage] >= 0
    typed = SongRecord.load(rendered.json)  # what the bot and the worker read
    assert typed.request.to_json() == song.request.to_json() and typed.to_json() == record
    assert typed.form_names == " · ".join(names)

    tags = audio_tags(rendered.mp3)
    assert tags["artist"] == "Isadei" and tags["title"] == song.title
    assert ink(rendered.png) > 0.02


def audio_tags(path: Path) -> dict[str, str]:
    import subprocess

    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["format"]["tags"]


def test_missing_soundfont_is_a_clear_error_and_leaves_no_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setenv(audio.SOUNDFONT_ENV, str(tmp_path / "missing.sf2"))
    out = tmp_path / "out"
    with pytest.raises(MissingSystemDependency, match="fluid-soundfont-gm"):
        render(make_song("folk"), out)
    assert not out.exists() or not any(out.iterdir())

    monkeypatch.delenv(audio.SOUNDFONT_ENV)
    monkeypatch.setattr(audio, "SOUNDFONT_PATHS", (str(tmp_path / "nowhere.sf2"),))
    with pytest.raises(MissingSystemDependency,
                       match="apt-get install fluidsynth fluid-soundfont-gm"):
        render(make_song("folk"), out)
    assert not out.exists() or not any(out.iterdir())


def test_missing_programs_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    soundfont = tmp_path / "gm.sf2"
    soundfont.write_bytes(b"RIFF")
    monkeypatch.setenv(audio.SOUNDFONT_ENV, str(soundfont))
    real_which = shutil.which

    monkeypatch.setattr(audio.shutil, "which", lambda n: None if n == "ffmpeg" else real_which(n))
    with pytest.raises(MissingSystemDependency, match="apt-get install ffmpeg"):
        audio.check_system()
    monkeypatch.setattr(audio.shutil, "which", lambda n: None)
    monkeypatch.setattr(audio, "synth_available", lambda: False)  # nor libfluidsynth
    with pytest.raises(MissingSystemDependency, match="apt-get install fluidsynth"):
        audio.check_system()


def test_a_failure_midway_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import composer.sheet

    def broken(song, files):
        files.png.write_bytes(b"half a png")
        raise RuntimeError("engraver crashed")

    monkeypatch.setattr(composer.sheet, "engrave", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="engraver crashed"):
        render(make_song("folk"), out, formats=("mid", "png", "pdf", "json"))
    assert list(out.iterdir()) == []


def test_same_song_and_seed_same_files(tmp_path: Path) -> None:
    first = render(make_song("reel", long=True), tmp_path / "a", formats=("mid", "json"))
    second = render(make_song("reel", long=True), tmp_path / "b", formats=("mid", "json"))
    assert first.midi.read_bytes() == second.midi.read_bytes()
    a, b = (json.loads(r.json.read_text()) for r in (first, second))
    a.pop("timings"), b.pop("timings")
    assert a == b
    assert first.mp3 is None and first.png is None
    other = render(make_song("reel", long=True, seed=7), tmp_path / "c", formats=("mid",))
    assert other.midi.read_bytes() != first.midi.read_bytes()


def test_slug_is_ascii_from_style_key_and_seed() -> None:
    assert make_slug(make_song("folk", key="D", seed=42)) == "folk-d-major-42"
    assert make_slug(make_song("slip-jig", key="F#", mode="minor", seed=3)) == \
        "slip-jig-f-sharp-minor-3"
    assert make_slug(make_song("waltz", key="Bb", seed=0)) == "waltz-b-flat-major-0"


def test_lead_sheet_shows_each_section_once(tmp_path: Path) -> None:
    song = make_song("folk", long=True)
    labels = [s.label for s in lead_sheet_sections(song)]
    # the intro is accompaniment only; verse twice, chorus three times
    assert labels == ["Verse (×2)", "Chorus (×3)", "Bridge", "Coda"]
    assert engrave(song, ScoreFiles(png=tmp_path / "sheet.png")).pages == 1
    assert ink(tmp_path / "sheet.png") > 0.02
    from PIL import Image

    width, height = Image.open(tmp_path / "sheet.png").size
    assert width == 1080 and height > width  # portrait, phone-sized


def test_a_lifted_last_chorus_is_written_out_in_its_own_key() -> None:
    from dataclasses import replace

    song = make_song("folk", long=True)
    last = max(i for i, s in enumerate(song.sections) if s.kind == "Chorus")
    song.sections[last:] = [replace(s, key_step=2) for s in song.sections[last:]]
    sections = lead_sheet_sections(song)
    assert [s.label for s in sections] == ["Verse (×2)", "Chorus (×2)", "Bridge", "Chorus", "Coda"]
    assert [s.key_step for s in sections] == [0, 0, 0, 2, 2]


def test_a_half_note_tempo_mark_is_painted_in_a_font_that_has_the_note() -> None:
    """A reel in 2/2 is marked by the half note: painted in a system font that has it (it was
    a box in DejaVu Sans), as every other music glyph verovio puts in text; a jig's dotted
    quarter keeps its dot beside it."""
    import subprocess

    for glyph in set(SMUFL_TEXT.values()) - {"."}:  # the regular face (weight 80) has it
        pattern = f"{glyph_font(glyph)}:charset={ord(glyph):x}:weight=80"
        found = subprocess.run(["fc-list", pattern, "family"], capture_output=True, text=True,
                               check=True).stdout
        assert glyph_font(glyph) in found, hex(ord(glyph))
    song = make_song("reel", meter="2/2")
    xml = to_musicxml(song)
    svg = plain_text_glyphs(loaded_toolkit(VEROVIO_OPTIONS, xml).renderToSVG(1))
    assert '<tspan font-family="FreeSerif" font-weight="normal"' in svg and "\U0001d15e" in svg
    assert '<tspan font-family="Leipzig"' not in svg  # every music glyph in text swapped
    jig = plain_text_glyphs(loaded_toolkit(VEROVIO_OPTIONS, to_musicxml(make_song("jig")))
                            .renderToSVG(1))
    assert ">\u2669.</tspan>" in jig  # a dotted quarter, the dot beside its note


def test_chord_symbols_are_absolute_names() -> None:
    assert chord_symbol(Chord(0, "maj"), 2) == "D"
    assert chord_symbol(Chord(9, "min"), 2) == "Bm"
    assert chord_symbol(Chord(7, "dom7"), 2) == "A7"
    assert chord_symbol(Chord(4, "dim"), 2) == "F#dim"
    assert chord_symbol(Chord(5, "maj"), 5, "major", "F") == "Bb"
    assert chord_symbol(Chord(7, "maj"), 6, "minor", "F#") == "C#"


def long_lead_sheet():
    """A full-length reel whose every section is new material: a lead sheet of 50 bars."""
    song = make_song("reel", long=True)
    for number, section in enumerate(song.sections):
        section.material = f"M{number}"
    return song


def test_whole_score_pdf_musicxml_and_cover(tmp_path: Path) -> None:
    from music21 import converter
    from PIL import Image
    from pypdf import PdfReader

    song = long_lead_sheet()
    out = tmp_path / "out"
    rendered = render(song, out, formats=("mid", "png", "pdf", "musicxml", "jpg", "json"))
    record = SongRecord.load(rendered.json)
    slug = make_slug(song)
    assert record.files == {ext: f"{slug}.{ext}"
                            for ext in ("mid", "png", "pdf", "musicxml", "jpg", "json")}
    assert set(rendered.paths()) == set(out.iterdir())

    pdf = PdfReader(rendered.pdf)  # every page, on A4
    assert len(pdf.pages) == record.score_pages >= 2
    assert record.sheet_pages >= 2  # the PNG preview shows only the first of these
    for page in pdf.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (595.3, 841.9), abs=0.5)
    assert pdf.metadata.title == "Reel in D major"
    assert "Part B" in pdf.pages[-1].extract_text() or "Coda" in pdf.pages[-1].extract_text()

    assert rendered.musicxml.read_text(encoding="utf-8").startswith("<?xml")  # not compressed
    parsed = converter.parse(rendered.musicxml)
    measures = parsed.parts[0].getElementsByClass("Measure")
    assert len(measures) == sum(len(s.bars) for s in lead_sheet_sections(song)) == 50
    assert parsed.metadata.bestTitle == "Reel in D major"

    with Image.open(rendered.cover) as cover:
        assert cover.format == "JPEG" and cover.size == (320, 320)
    assert rendered.cover.stat().st_size <= 200_000
    assert ink(rendered.cover) > 0.02  # staff lines and notes, not a blank square


def test_cover_of_a_short_page_is_square() -> None:
    import io

    from PIL import Image

    from composer.cover import cover_jpeg

    page = io.BytesIO()
    Image.new("RGB", (1080, 400), "black").save(page, "PNG")
    with Image.open(io.BytesIO(cover_jpeg(page.getvalue()))) as cover:
        assert cover.size == (320, 320)
        assert cover.getpixel((160, 5))[0] > 200 and cover.getpixel((160, 160))[0] < 50


@needs_audio
def test_default_formats_and_cover_art_in_the_mp3(tmp_path: Path) -> None:
    """What `isadei compose` writes: .mid/.mp3/.png/.json (the contract) and the whole score
    (.pdf, .musicxml) and the cover (.jpg), which is also the MP3's front cover."""
    from mutagen.id3 import ID3

    song = make_song("waltz")
    heard: list[Path] = []
    rendered = render(song, tmp_path / "out", on_audio=heard.append)
    slug = make_slug(song)
    assert sorted(p.name for p in rendered.paths()) == sorted(
        f"{slug}.{ext}" for ext in ("mid", "mp3", "png", "pdf", "musicxml", "jpg", "json"))
    assert heard == [rendered.mp3]
    pictures = ID3(rendered.mp3).getall("APIC")
    assert len(pictures) == 1 and pictures[0].mime == "image/jpeg"
    assert pictures[0].data == rendered.cover.read_bytes()
    assert audio_tags(rendered.mp3)["title"] == song.title  # the encoder's tags are kept
    assert probe_seconds(rendered.mp3) == pytest.approx(rendered.duration_seconds, abs=0.1)
    timings = SongRecord.load(rendered.json).timings
    assert timings["to_mp3"] < timings["render"] and timings["pdf"] > 0


def test_bars_busy_with_chord_symbols_get_room_on_the_sheet() -> None:
    """Four quarter notes a bar fit four to a line; under four chord symbols (a chorale's),
    two bars a line, so the symbols do not run into each other."""
    quarters = [Note(60, 12)] * 4
    plain = Bar(quarters, [(0, Chord(0, "maj")), (24, Chord(7, "maj"))])
    hymn = Bar(quarters, [(12 * i, Chord(root, "maj")) for i, root in enumerate((0, 5, 7, 0))])
    assert sheet_layout([SheetSection("Verse", [plain] * 8)])[0] == 4
    assert sheet_layout([SheetSection("Part A", [hymn] * 8)])[0] == 2
