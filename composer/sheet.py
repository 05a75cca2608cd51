"""A lead sheet: the melody with chord symbols and section labels, as a phone-sized PNG,
every page as an A4 PDF, the MusicXML itself, and a cover picture of its first bars.

music21 builds the score and writes MusicXML, verovio engraves it to SVG, cairosvg paints
the first page on white (PNG) and each printed page (PDF; pypdf joins them). Each distinct
section is shown once ("Chorus ×3"), so a whole song usually fits on one portrait page that
reads on a phone; the PDF holds all of it, page after page.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from composer.arrange import mido_key
from composer.music import (
    LETTER_PITCH_CLASSES,
    PARENT_MODE,
    SHARP_NAMES,
    TICKS_PER_QUARTER,
    Bar,
    Chord,
)
from composer.naming import section_label, title
from composer.song import Song

LETTERS = "".join(LETTER_PITCH_CLASSES)  # "CDEFGAB"
# Each interval above the tonic as (scale degree, alteration): chromatic notes are spelled
# the way they are used: b2, b3, #4, b6, b7 in major; the raised 6th and 7th in minor.
DEGREES = {
    "major": ((0, 0), (1, -1), (1, 0), (2, -1), (2, 0), (3, 0), (3, 1), (4, 0), (5, -1),
              (5, 0), (6, -1), (6, 0)),
    "minor": ((0, 0), (1, -1), (1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (5, 0),
              (5, 1), (6, 0), (6, 1)),
}
QUALITY_SUFFIX = {"maj": "", "min": "m", "dim": "dim", "dom7": "7"}

PNG_WIDTH = 1080  # pixels: a phone screen's width
VEROVIO_OPTIONS = {
    "pageWidth": 1200,  # verovio units; with scale 45 the staff is ~1/8 of the width tall
    "pageHeight": 3000,  # a tall portrait page; adjustPageHeight trims what is not used
    "scale": 45,
    "adjustPageHeight": True,
    "breaks": "line",  # the encoded lines: four-bar phrases
    "pageMarginLeft": 40,
    "pageMarginRight": 40,
    "pageMarginTop": 40,
    "pageMarginBottom": 40,
    "header": "auto",
    "footer": "none",
    "spacingSystem": 6,
    "font": "Leipzig",
}
# A page to print: A4 portrait (verovio's page units are tenths of a millimetre), a staff
# about 7 mm high; the title on page 1, page numbers on the others.
PRINT_OPTIONS = {
    **VEROVIO_OPTIONS,
    "pageWidth": 2100,
    "pageHeight": 2970,
    "adjustPageHeight": False,
    "scale": 40,
    "pageMarginLeft": 150,
    "pageMarginRight": 150,
    "pageMarginTop": 150,
    "pageMarginBottom": 150,
}
# The SVG is pageWidth * scale / 100 px wide; this many px to the inch makes it 210 mm.
PRINT_DPI = 25.4 * PRINT_OPTIONS["pageWidth"] * PRINT_OPTIONS["scale"] / 100 / 210


def spell_pc(pc: int, tonic: int, mode: str, key_name: str = "") -> str:
    """A pitch class named in the key: E# (not F) in F# minor, Bb (not A#) in F major."""
    mode = PARENT_MODE[mode]  # Dorian and Mixolydian spell their degrees like minor/major
    tonic_name = mido_key(tonic, mode, key_name).removesuffix("m")  # A# major → Bb
    degree, _ = DEGREES[mode][(pc - tonic) % 12]
    letter = LETTERS[(LETTERS.index(tonic_name[0]) + degree) % 7]
    alter = (pc - LETTER_PITCH_CLASSES[letter] + 6) % 12 - 6
    if abs(alter) > 1:  # a double sharp or flat: plainer to respell
        return SHARP_NAMES[pc % 12]
    return letter + {-1: "b", 0: "", 1: "#"}[alter]


def chord_symbol(chord: Chord, tonic: int, mode: str = "major", key_name: str = "") -> str:
    """The absolute chord name a guitarist reads: "D", "Bm", "A7", "F#dim", "Bb"."""
    return spell_pc(tonic + chord.root, tonic, mode, key_name) + QUALITY_SUFFIX[chord.quality]


@dataclass
class SheetSection:
    label: str  # "Verse (×2)", "Part A", "Coda"
    bars: list[Bar]
    key_step: int = 0  # semitones above the song's key (composer.song.Section.key_step)


def lead_sheet_sections(song: Song) -> list[SheetSection]:
    """Each distinct (kind, material, key) once, labelled with how often it is played: a
    lifted last chorus is written out in its own key.

    An intro that is accompaniment only (all rests) is left out: there is nothing to read.
    """
    order: list[tuple[str, str, int]] = []
    first: dict[tuple[str, str, int], SheetSection] = {}
    counts: dict[tuple[str, str, int], int] = {}
    for section in song.sections:
        if all(n.pitch is None for bar in section.bars for n in bar.notes):
            continue
        key = (section.kind, section.material, section.key_step)
        counts[key] = counts.get(key, 0) + 1
        if key not in first:
            order.append(key)
            first[key] = SheetSection(section.name, section.bars, section.key_step)
    names = {key: first[key].label for key in order}
    lang = song.request.lang  # section names in the words of the request ("Припев (×3)")
    for key in order:
        first[key].label = section_label(key[0], names[key], counts[key], lang)
    return [first[key] for key in order]


def build_score(song: Song):
    """The lead sheet as a music21 Score (imported lazily: music21 is slow to import)."""
    from music21 import (
        bar,
        clef,
        duration,
        expressions,
        harmony,
        key,
        layout,
        metadata,
        meter,
        note,
        pitch,
        stream,
        tempo,
    )

    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = title(song.style, song.key_name, song.mode, song.request.lang)
    score.metadata.composer = "Isadei"
    part = stream.Part()
    part.partName = ""

    sections = lead_sheet_sections(song)
    per_line, _ = sheet_layout(sections)
    number = 1
    key_step: int | None = None
    for s_index, section in enumerate(sections):
        new_key = section.key_step != key_step  # a set's next tune, a march's trio
        if new_key:
            key_step = section.key_step
            tonic, key_name = song.key_of(key_step)
            m21_key = key.Key(_m21_name(spell_pc(tonic, tonic, song.mode, key_name)), song.mode)
            key_alters = {p.step: int(p.alter) for p in m21_key.alteredPitches}
            names = {pc: _m21_name(spell_pc(pc, tonic, song.mode, key_name)) for pc in range(12)}
        for b_index, source in enumerate(section.bars):
            measure = stream.Measure(number=number)
            if number == 1:
                measure.insert(0, _clef(song, sections, clef))
                measure.insert(0, m21_key)
                measure.insert(0, meter.TimeSignature(song.meter.name))
                beat_quarters = Fraction(song.meter.beat_ticks, TICKS_PER_QUARTER)
                measure.insert(0, tempo.MetronomeMark(
                    number=song.tempo_bpm, referent=duration.Duration(beat_quarters)))
            elif b_index % per_line == 0:
                # Phrases of four bars to a line, and every section on a line of its own.
                measure.insert(0, layout.SystemLayout(isNew=True))
            number += 1
            if b_index == 0 and new_key and s_index > 0:
                measure.insert(0, m21_key)
            if b_index == 0:
                # Words, not a boxed rehearsal mark: the box is sized for a font we lack.
                label = expressions.TextExpression(section.label)
                label.style.fontWeight = "bold"
                label.placement = "above"
                measure.insert(0, label)
            for offset, chord in shown_chords(source):
                # Chord roots count from the song's tonic; spelled in the section's key.
                name = chord_symbol(Chord((chord.root - key_step) % 12, chord.quality), tonic,
                                    song.mode, key_name)
                symbol = harmony.ChordSymbol(_m21_name(name), updatePitches=False)
                symbol.writeAsChord = False
                measure.insert(Fraction(offset, TICKS_PER_QUARTER), symbol)
            at = Fraction(0)
            seen: dict[tuple[str, int], int] = {}  # accidentals hold to the bar line
            for n in source.notes:
                length = Fraction(n.ticks, TICKS_PER_QUARTER)
                if n.pitch is None:
                    element = note.Rest()
                else:
                    element = note.Note(f"{names[n.pitch % 12]}{_octave(n.pitch, names)}")
                    _mark_accidental(element.pitch, seen, key_alters, pitch)
                element.duration = duration.Duration(length)
                measure.insert(at, element)
                at += length
            if b_index == len(section.bars) - 1:
                last = s_index == len(sections) - 1
                measure.rightBarline = bar.Barline("final" if last else "light-light")
            part.append(measure)
    score.insert(0, part)
    return score


MAX_LINES = 8  # systems that fit the portrait page at the normal size


def shown_chords(bar: Bar) -> list[tuple[int, Chord]]:
    """The chord symbols a bar shows: the same chord again in the bar is nothing new to
    read."""
    shown: list[tuple[int, Chord]] = []
    for offset, chord in sorted(bar.chords, key=lambda oc: oc[0]):
        if not shown or shown[-1][1] != chord:
            shown.append((offset, chord))
    return shown


def sheet_layout(sections: list[SheetSection]) -> tuple[int, int]:
    """(bars per line, verovio scale): four-bar lines, fewer when bars are busy (with notes,
    or with chord symbols: a chorale's four a bar need the room of ten notes); a long
    song gets one more bar per line at a smaller size, so it still fits on one page."""
    notes = sorted(max(len(bar.notes), 5 * len(shown_chords(bar)) // 2)
                   for s in sections for bar in s.bars) or [4]
    busy = notes[len(notes) * 3 // 4]
    per_line = 4 if busy <= 6 else 3 if busy <= 9 else 2
    lines = sum(-(-len(s.bars) // per_line) for s in sections)
    if lines > MAX_LINES:
        return per_line + 1, 36
    return per_line, VEROVIO_OPTIONS["scale"]


def _octave(midi: int, names: dict[int, str]) -> int:
    # B# belongs to the octave below its sounding C, Cb to the one above its B.
    name = names[midi % 12]
    return midi // 12 - 1 - (name.startswith("B#")) + (name.startswith("C-"))


def _mark_accidental(p, seen: dict, key_alters: dict[str, int], pitch_module) -> None:
    """Show an accidental only where the key signature and the bar so far do not say it."""
    alter = int(p.accidental.alter) if p.accidental else 0
    where = (p.step, p.octave)
    expected = seen.get(where, key_alters.get(p.step, 0))
    seen[where] = alter
    if alter == expected:
        if p.accidental is not None:
            p.accidental.displayStatus = False
        return
    if p.accidental is None:
        p.accidental = pitch_module.Accidental("natural")
    p.accidental.displayStatus = True


def _clef(song: Song, sections: list[SheetSection], clef_module):
    pitches = sorted(n.pitch for s in sections for b in s.bars for n in b.notes
                     if n.pitch is not None) or [67]
    return clef_module.BassClef() if pitches[len(pitches) // 2] < 57 else clef_module.TrebleClef()


def _m21_name(name: str) -> str:
    """music21 spells flats with "-": "Bbm" → "B-m"."""
    return name[0] + "-" + name[2:] if name[1:2] == "b" else name


def to_musicxml(song: Song) -> str:
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = build_score(song)
    return GeneralObjectExporter(score).parse().decode("utf-8")


# Music-font (SMuFL) characters verovio puts in text (tempo marks, sharps in chord names),
# as Unicode a system font has: cairosvg cannot use the music font embedded as CSS.
AUGMENTATION_DOT = "\uecb7"
SMUFL_TEXT = {
    "\uea64": "\u266d", "\uea65": "\u266e", "\uea66": "\u266f",  # figured-bass style
    "\ue260": "\u266d", "\ue261": "\u266e", "\ue262": "\u266f",  # accidentals
    "\ueca5": "\u2669", "\ueca7": "\u266a", "\ueca3": "\U0001d15e",  # quarter, eighth, half
    AUGMENTATION_DOT: ".",
}
SMUFL_TSPAN = re.compile(r'<tspan font-family="Leipzig" font-size="(\d+)px">([^<]*)</tspan>')


# The system fonts that paint them: DejaVu Sans has the quarter and eighth notes and the
# accidentals but not the Musical Symbols block (the half note of a 2/2 or 3/2 tempo mark
# came out as a box); FreeSerif has it (fonts-freefont-ttf, scripts/setup.sh).
TEXT_FONT, MUSICAL_SYMBOLS_FONT = "DejaVu Sans", "FreeSerif"
# The size of the text glyphs against verovio's music font: FreeSerif draws its notes small.
GLYPH_SCALE = {TEXT_FONT: 0.62, MUSICAL_SYMBOLS_FONT: 0.85}


def glyph_font(text: str) -> str:
    """The font to paint this text in: one with the Musical Symbols block where it needs it."""
    return MUSICAL_SYMBOLS_FONT if any(0x1D100 <= ord(c) <= 0x1D1FF for c in text) else TEXT_FONT


def plain_text_glyphs(svg: str) -> str:
    def swap(match: re.Match[str]) -> str:
        # The music font's space before a dot is a hair's breadth; a text font's is a word's.
        glyphs = match.group(2).replace(" " + AUGMENTATION_DOT, AUGMENTATION_DOT)
        text = "".join(SMUFL_TEXT.get(c, c) for c in glyphs)
        font = glyph_font(text)
        size = round(int(match.group(1)) * GLYPH_SCALE[font])
        # Upright and regular: a tempo mark is bold, and FreeSerif's bold has no notes.
        return (f'<tspan font-family="{font}" font-weight="normal" '
                f'font-style="normal" font-size="{size}px">{text}</tspan>')

    return SMUFL_TSPAN.sub(swap, svg)


def verovio_toolkit(options: dict):
    """A verovio toolkit that finds its fonts in any thread: verovio keeps the path to its
    fonts per thread and sets it at import, in the importing thread only; songs are engraved
    in the compose threads, a user's tune in another."""
    from importlib.resources import files

    import verovio

    verovio.enableLog(verovio.LOG_ERROR)  # layout warnings are not ours to act on
    verovio.setDefaultResourcePath(str(files("verovio") / "data"))
    toolkit = verovio.toolkit()
    toolkit.setOptions(options)
    return toolkit


@dataclass
class ScoreFiles:
    """Where the lead sheet goes (None: not wanted)."""

    png: Path | None = None  # the first page, phone-sized: the preview in the chat
    pdf: Path | None = None  # every page, A4: to print
    musicxml: Path | None = None  # uncompressed, for MuseScore, Finale, Sibelius, Dorico
    cover: Path | None = None  # a square JPEG of the first bars: the audio's cover art


@dataclass
class Engraved:
    pages: int = 0  # of the phone layout (the PNG is the first)
    pdf_pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds: engrave, pdf


def engrave(song: Song, files: ScoreFiles) -> Engraved:
    """Write what `files` asks for (each atomically) from one MusicXML of the lead sheet;
    the page counts (the phone-sized sheet's and the PDF's) and the seconds it took."""
    import cairosvg

    from composer.cover import cover_jpeg
    from composer.midi import staged

    done = Engraved()
    t0 = time.perf_counter()
    xml = to_musicxml(song)
    if files.musicxml:
        with staged(files.musicxml) as tmp:
            tmp.write_text(xml, encoding="utf-8")
    if files.png or files.cover:
        _, scale = sheet_layout(lead_sheet_sections(song))
        toolkit = loaded_toolkit({**VEROVIO_OPTIONS, "scale": scale}, xml)
        done.pages = toolkit.getPageCount()
        png = cairosvg.svg2png(bytestring=plain_text_glyphs(toolkit.renderToSVG(1)).encode(),
                               output_width=PNG_WIDTH, background_color="white")
        if files.png:
            with staged(files.png) as tmp:
                tmp.write_bytes(png)
        if files.cover:
            with staged(files.cover) as tmp:
                tmp.write_bytes(cover_jpeg(png))
    done.timings["engrave"] = time.perf_counter() - t0
    if files.pdf:
        t0 = time.perf_counter()
        name = title(song.style, song.key_name, song.mode, song.request.lang)
        done.pdf_pages = write_pdf(xml, files.pdf, name)
        done.timings["pdf"] = time.perf_counter() - t0
    return done


def write_pdf(xml: str, path: Path, title: str = "") -> int:
    """Every page of the lead sheet on A4, one PDF; returns the page count.

    cairosvg paints one SVG per PDF; pypdf joins the pages into one document.
    """
    import cairosvg
    from pypdf import PdfReader, PdfWriter

    from composer.midi import staged

    toolkit = loaded_toolkit(PRINT_OPTIONS, xml)
    pages = toolkit.getPageCount()
    writer = PdfWriter()
    for page in range(1, pages + 1):
        svg = plain_text_glyphs(toolkit.renderToSVG(page)).encode("utf-8")
        writer.append(PdfReader(io.BytesIO(cairosvg.svg2pdf(bytestring=svg, dpi=PRINT_DPI))))
    writer.add_metadata({"/Title": title, "/Author": "Isadei", "/Creator": "Isadei"})
    with staged(path) as tmp:
        writer.write(tmp)
    return pages


def loaded_toolkit(options: dict, xml: str):
    """A verovio toolkit with the lead sheet's MusicXML loaded and laid out."""
    toolkit = verovio_toolkit(options)
    if not toolkit.loadData(xml):
        raise RuntimeError("verovio could not read the lead sheet's MusicXML")
    return toolkit
