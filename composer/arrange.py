"""From melody + chords to a band: melody, chords (or four-part harmony), bass and drums.

The arranger works bar by bar. Each style's accompaniment is a rhythm pattern of "hits"
(bass, chord or arpeggio) placed on the beats of a bar; a pitch chooser then turns each hit
into notes that follow the chord sounding at that moment: the bass walks from root to
fifth with passing notes, the chord voicings move as little as possible, the chorale's
alto, tenor and bass are searched for the smoothest correct voicing.

Output times are MIDI ticks at PPQ = 480 (the composer's 12 ticks per quarter times 40), so
humanising can nudge notes by a few milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from itertools import product

from composer.form import RITARDANDO_BARS, ritardando_factors
from composer.instruments import get_instrument
from composer.music import (
    MAJOR_TONICS,
    MINOR_TONICS,
    PARENT_MODE,
    SCALES,
    SIGNATURE_MAJOR_STEP,
    TICKS_PER_QUARTER,
    Bar,
    Chord,
    Meter,
)
from composer.song import Section, Song
from composer.styles import Style, get_style

PPQ = 480
PPQ_EIGHTH = PPQ // 2  # an eighth note in output ticks (what swing and ornaments cut)
SCALE = PPQ // TICKS_PER_QUARTER  # output ticks per composer tick
DRUM_CHANNEL = 9  # GM percussion (channel 10 to humans)
BASS_RANGE = (28, 55)  # E1..G3
CHORD_FLOOR = 48  # lowest note of a chord voicing (C3): lower gets muddy
JITTER_MS = 10.0  # the most a note is nudged off the grid
END_TAIL_SECONDS = 1.5  # room after the last note so the synth can ring out

# GM percussion keys
KICK, SNARE, LOW_FLOOR_TOM, LOW_TOM = 36, 38, 41, 45

ARPEGGIO = (0, 1, 2, 3, 2, 1)  # which tone of (root below, voicing...) each eighth plays
MAJOR_KEYS = MAJOR_TONICS  # mido's key-signature names, per tonic pitch class
MINOR_KEYS = tuple(f"{tonic}m" for tonic in MINOR_TONICS)
VALID_KEYS = set(MAJOR_KEYS + MINOR_KEYS) | {"Gb", "Cb", "C#", "D#m", "A#m", "Abm"}

Note4 = tuple[int, int, int, int]  # (start tick, duration ticks, pitch, velocity)


@dataclass
class Track:
    name: str  # the role: "Melody", "Chords", "Harmony", "Bass", "Drums"
    program: int  # GM program, 0-based
    channel: int
    is_drums: bool = False
    notes: list[Note4] = field(default_factory=list)


@dataclass
class Arrangement:
    tracks: list[Track]
    tempos: list[tuple[int, int]]  # (tick, microseconds per quarter note), first at tick 0
    markers: list[tuple[int, str]]  # (tick, section name) at each section start
    meter: Meter
    keys: list[tuple[int, str]]  # (tick, mido key-signature name: "D", "Bm", "Bb"), first at 0
    music_end: int  # tick where the last bar ends
    end_tick: int  # music_end plus a short ring-out tail: where the MIDI file ends
    title: str = ""
    ticks_per_beat: int = PPQ

    @property
    def key(self) -> str:
        """The key signature the song opens in."""
        return self.keys[0][1]

    def track(self, name: str) -> Track:
        return next(t for t in self.tracks if t.name == name)

    def seconds_at(self, tick: int) -> float:
        """Wall-clock seconds at a tick, walking the tempo map (ritardando included)."""
        seconds, last_tick, tempo = 0.0, 0, self.tempos[0][1]
        for at, us in self.tempos:
            if at >= tick:
                break
            seconds += (at - last_tick) * tempo / (1e6 * self.ticks_per_beat)
            last_tick, tempo = at, us
        return seconds + (tick - last_tick) * tempo / (1e6 * self.ticks_per_beat)

    @property
    def duration_seconds(self) -> float:
        return self.seconds_at(self.end_tick)


@dataclass
class Slot:
    """One bar of the song, placed in time (composer ticks)."""

    start: int
    bar: Bar
    section: Section
    index_in_section: int


@dataclass
class Span:
    """A stretch of time under one chord (composer ticks)."""

    start: int
    end: int
    chord: Chord


@dataclass
class Hit:
    """One accompaniment event before pitches are chosen (composer ticks)."""

    tick: int
    length: int
    role: str  # "bass", "chord", "arp", or a GM drum key as text
    accent: int  # 2 downbeat, 1 strong beat, 0 beat, -1 off the beat
    loudness: float
    step: int = 0  # velocity offset: a ghost stroke or a pickup strum is softer


def arrange(song: Song, seed: int) -> Arrangement:
    """The whole band for a song; the same song and seed give the same notes."""
    style = get_style(song.style)
    slots = _slots(song)
    spans = _chord_spans(song, slots)
    music_end = sum(bar.ticks for bar in song.bars)
    base_us = quarter_us(song)

    melody_inst = get_instrument(song.instrument)
    melody = Track("Melody", melody_inst.program, 0, notes=_melody_notes(song, slots, style))
    _fit_range(melody, melody_inst.low, melody_inst.high)
    melody_pitches = sorted(n[2] for n in melody.notes) or [72]

    if style.accompaniment == "chorale":
        harmony, bass = _chorale(song, spans, slots, style, melody)
        tracks = [melody, harmony, bass]
    else:
        tracks = [melody, *_band(song, slots, spans, style, melody_pitches, seed)]
    if style.drums:
        tracks.append(Track("Drums", 0, DRUM_CHANNEL, is_drums=True,
                            notes=_notes_of_hits(_drum_hits(song, slots, style), "drums")))

    for track in tracks:
        track.notes = _untangle(track.notes)

    tempos = _tempo_map(song, slots, base_us)
    arrangement = Arrangement(
        tracks=tracks, tempos=tempos,
        markers=_markers(song), meter=song.meter, keys=_key_signatures(song),
        music_end=music_end * SCALE, end_tick=music_end * SCALE, title=song.title,
    )
    tail_us = tempos[-1][1]
    arrangement.end_tick += round(END_TAIL_SECONDS * 1e6 / tail_us * PPQ)
    return arrangement


def humanise(arrangement: Arrangement, seed: int) -> Arrangement:
    """The band as it plays (seeded timing and velocity jitter), for the audio only: the
    MIDI file a user edits or engraves stays on the beat grid."""
    ms_ticks = PPQ * 1000 / arrangement.tempos[0][1]  # output ticks per millisecond
    tracks = []
    for track in arrangement.tracks:
        rng = random.Random(f"isadei/{seed}/{track.name}")
        notes = _untangle(_humanise(track.notes, rng, ms_ticks, arrangement.music_end))
        tracks.append(replace(track, notes=notes))
    return replace(arrangement, tracks=tracks)


def quarter_us(song: Song) -> int:
    """Microseconds per quarter note: the felt beat (a dotted quarter in 6/8) at tempo_bpm."""
    quarters_per_beat = song.meter.beat_ticks / TICKS_PER_QUARTER
    return round(60_000_000 / (song.tempo_bpm * quarters_per_beat))


def mido_key(tonic: int, mode: str, key_name: str = "") -> str:
    """A key name mido accepts ('D', 'Bm', 'F#m', 'Bb'); respell A# as Bb and so on."""
    if mode not in ("major", "minor"):  # a mode: the major key with its key signature
        return MAJOR_KEYS[(tonic + SIGNATURE_MAJOR_STEP[mode]) % 12]
    name = key_name + ("m" if mode == "minor" else "")
    if name in VALID_KEYS:
        return name
    return (MINOR_KEYS if mode == "minor" else MAJOR_KEYS)[tonic % 12]


# --- time line ---------------------------------------------------------------------------


def _slots(song: Song) -> list[Slot]:
    slots, tick = [], 0
    for section in song.sections:
        for i, bar in enumerate(section.bars):
            slots.append(Slot(tick, bar, section, i))
            tick += bar.ticks
    return slots


def _chord_spans(song: Song, slots: list[Slot]) -> list[Span]:
    """Chord changes over the song; a bar without chords keeps the last one.

    Repeats of the same chord inside a bar merge; every bar line restarts the span, so
    patterns re-strike on the downbeat.
    """
    tonic_chord = Chord(0, "min" if PARENT_MODE[song.mode] == "minor" else "maj")
    first = next((c for s in slots for _, c in s.bar.chords), tonic_chord)
    spans: list[Span] = []
    current = first
    for slot in slots:
        changes = sorted(slot.bar.chords, key=lambda oc: oc[0]) or [(0, current)]
        if changes[0][0] > 0:
            changes = [(0, current), *changes]
        bar_spans: list[Span] = []
        for offset, chord in changes:
            if bar_spans and bar_spans[-1].chord == chord:
                continue
            if bar_spans:
                bar_spans[-1].end = slot.start + offset
            bar_spans.append(Span(slot.start + offset, slot.start + slot.bar.ticks, chord))
            current = chord
        spans.extend(bar_spans)
    return spans


def _span_at(spans: list[Span], tick: int) -> int:
    lo, hi = 0, len(spans) - 1
    while lo < hi:  # the last span starting at or before tick
        mid = (lo + hi + 1) // 2
        if spans[mid].start <= tick:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _accent(meter: Meter, offset: int) -> int:
    if offset == 0:
        return 2
    if offset in meter.strong_beats():
        return 1
    return 0 if offset % meter.beat_ticks == 0 else -1


# --- dynamics and humanising -----------------------------------------------------------

ROLE_LEVEL = {"melody": 8, "bass": -2, "chord": -14, "arp": -12, "harmony": -6, "drums": -18}


def _velocity(loudness: float, role: str, accent: int, extra: int = 0) -> int:
    """Section loudness 0..1 → velocity, shaped by the part's role and the beat."""
    base = 34 + 72 * loudness + ROLE_LEVEL[role] + {2: 10, 1: 5, 0: 0, -1: -6}[accent]
    return max(1, min(127, round(base + extra)))


def _humanise(notes: list[Note4], rng: random.Random, ms_ticks: float,
              end: int) -> list[Note4]:
    """Seeded small timing and velocity jitter: a band, not a sequencer."""
    limit = JITTER_MS * ms_ticks
    out = []
    for start, dur, pitch, vel in notes:
        shift = max(-limit, min(limit, rng.gauss(0.0, limit / 2.5)))
        new_start = max(0, round(start + shift)) if start > 0 else 0
        new_end = min(end, max(new_start + 1, round(start + dur + shift)))
        new_vel = max(1, min(127, vel + rng.randint(-4, 4)))
        out.append((new_start, new_end - new_start, pitch, new_vel))
    return out


def _untangle(notes: list[Note4]) -> list[Note4]:
    """Sort, and cut a note short where the same pitch starts again (MIDI can't overlap)."""
    notes = sorted(notes, key=lambda n: (n[0], n[2]))
    out: list[Note4] = []
    last_by_pitch: dict[int, int] = {}
    for note in notes:
        start, _, pitch, _ = note
        i = last_by_pitch.get(pitch)
        if i is not None:
            p_start, p_dur, _, p_vel = out[i]
            if p_start + p_dur > start:
                if start - p_start < 1:  # same pitch struck twice at once: keep one
                    out[i] = (p_start, max(p_dur, note[1]), pitch, max(p_vel, note[3]))
                    continue
                out[i] = (p_start, start - p_start, pitch, p_vel)
        last_by_pitch[pitch] = len(out)
        out.append(note)
    return out


# --- melody ------------------------------------------------------------------------------


def _melody_notes(song: Song, slots: list[Slot], style: Style) -> list[Note4]:
    # Dance tunes are played detached, songs and airs more legato, chorales tied.
    legato = {"song": 0.94, "dance": 0.88, "chorale": 0.97}.get(style.form, 0.92)
    notes = []
    for slot in slots:
        tick = 0
        for note in slot.bar.notes:
            if note.pitch is not None:
                accent = _accent(song.meter, tick % song.meter.bar_ticks)
                long_note = 2 if note.ticks >= song.meter.beat_ticks else 0
                vel = _velocity(slot.section.loudness, "melody", accent, long_note)
                start = (slot.start + tick) * SCALE
                dur = max(SCALE, round(note.ticks * SCALE * legato))
                notes.append((start, dur, note.pitch, vel))
            tick += note.ticks
    return notes


def _fit_range(track: Track, low: int, high: int) -> None:
    """Move the whole part by octaves into [low, high]; fold any stragglers singly."""
    if not track.notes:
        return
    lo = min(n[2] for n in track.notes)
    hi = max(n[2] for n in track.notes)
    shifts = [12 * k for k in range(-5, 6)]
    fitting = [s for s in shifts if lo + s >= low and hi + s <= high]
    if fitting:
        shift = min(fitting, key=abs)
    else:  # too wide for the instrument: keep the most notes in range
        shift = max(shifts, key=lambda s: (sum(low <= n[2] + s <= high for n in track.notes),
                                           -abs(s)))
    track.notes = [(s, d, _fold(p + shift, low, high), v) for s, d, p, v in track.notes]


def _fold(pitch: int, low: int, high: int) -> int:
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch if pitch >= low else low  # a range narrower than an octave


# --- band accompaniment ------------------------------------------------------------------


def _pattern(accompaniment: str, meter: Meter) -> list[tuple[int, int, str, int]]:
    """One bar of the style's accompaniment: (offset, length, role, step) in composer ticks."""
    beat, beats, bar = meter.beat_ticks, meter.beats, meter.bar_ticks
    eighth = TICKS_PER_QUARTER // 2
    if accompaniment == "waltz" and beats == 3 and not meter.is_compound:
        return [(0, beat, "bass", 0), (beat, beat // 2, "chord", 0),
                (2 * beat, beat // 2, "chord", 0)]
    if accompaniment in ("jig", "reel", "march", "boom-chick") and meter.is_compound:
        # Dotted-quarter beats: bass on the beat; chords on the off-eighths (the "chick").
        hits = []
        for b in range(beats):
            at = b * beat
            hits.append((at, 2 * eighth, "bass", 0))
            if accompaniment in ("jig", "reel"):
                hits.append((at + eighth, eighth // 2, "chord", -10))
            hits.append((at + 2 * eighth, eighth, "chord", 0))
        return hits
    if accompaniment == "reel" or (accompaniment == "jig" and not meter.is_compound):
        # Bass on quarters 1 and 3 (root, fifth), stabs on every off-eighth: the drive.
        quarter = TICKS_PER_QUARTER
        hits = []
        for q in range(bar // quarter):
            if q % 2 == 0:
                hits.append((q * quarter, quarter, "bass", 0))
            hits.append((q * quarter + eighth, eighth // 2 + 1, "chord", 0))
        return hits
    if accompaniment == "arpeggio":
        # Broken chords in eighths over a held bass, let ring like a harp or a pedal piano.
        return [(0, bar, "bass", 0)] + [(t, bar - t, "arp", 0) for t in range(0, bar, eighth)]
    # boom-chick and march (and the fallback): bass on odd beats, chords on even beats;
    # in three, oom-pah-pah.
    hits = []
    for b in range(beats):
        if b == 0 or (beats != 3 and b % 2 == 0):
            hits.append((b * beat, beat, "bass", 0))
        else:
            hits.append((b * beat, max(eighth, beat * 2 // 3), "chord", 0))
    return hits


def _accompaniment_hits(song: Song, slots: list[Slot], spans: list[Span],
                        style: Style) -> list[Hit]:
    pattern = _pattern(style.accompaniment, song.meter)
    hits = []
    for n, slot in enumerate(slots):
        loud = slot.section.loudness
        if n == len(slots) - 1:  # the final bar: one held chord, no pattern
            hits += [Hit(slot.start, slot.bar.ticks, "bass", 2, loud),
                     Hit(slot.start, slot.bar.ticks, "chord", 2, loud)]
            continue
        if style.accompaniment == "arpeggio":  # the held bass re-strikes at chord changes
            for span in spans[_span_at(spans, slot.start):]:
                if span.start >= slot.start + slot.bar.ticks:
                    break
                hits.append(Hit(span.start, span.end - span.start, "bass",
                                _accent(song.meter, span.start - slot.start), loud))
        for offset, length, role, step in pattern:
            if offset >= slot.bar.ticks or (role == "bass" and style.accompaniment == "arpeggio"):
                continue
            length = min(length, slot.bar.ticks - offset)
            hits.append(Hit(slot.start + offset, length, role,
                            _accent(song.meter, offset), loud, step))
    return hits


def _band(song: Song, slots: list[Slot], spans: list[Span], style: Style,
          melody_pitches: list[int], seed: int) -> list[Track]:
    # The request's second instrument ("a piano and violin duet") plays the chords.
    chord_inst = get_instrument(song.request.accompaniment or style.chord_instrument)
    bass_inst = get_instrument(style.bass_instrument)
    hits = _accompaniment_hits(song, slots, spans, style)
    rng = random.Random(f"isadei/{seed}/bass-line")

    # Chord voicings sit below most of the melody, but never under the floor.
    under_melody = melody_pitches[len(melody_pitches) // 5] - 1
    floor = max(CHORD_FLOOR, chord_inst.low)
    ceiling = min(chord_inst.high, max(floor + 11, min(72, under_melody)))
    voicings = _lead_voicings(spans, song.tonic, floor, ceiling)

    bass_low, bass_high = _bass_window(bass_inst.low, bass_inst.high)
    walking = style.accompaniment in ("boom-chick", "march", "reel", "jig", "waltz")
    bass_hits = [h for h in hits if h.role == "bass"]
    bass_pitches = iter(_bass_line(song, spans, bass_hits, bass_low, bass_high, walking, rng))

    chords, bass = [], []
    for hit in hits:
        span = _span_at(spans, hit.tick)
        start, dur = hit.tick * SCALE, hit.length * SCALE
        if hit.role == "bass":
            vel = _velocity(hit.loudness, "bass", hit.accent)
            bass.append((start, round(dur * 0.92), next(bass_pitches), vel))
        elif hit.role == "chord":
            vel = _velocity(hit.loudness, "chord", hit.accent, hit.step)
            chords += [(start, round(dur * 0.9), p, vel) for p in voicings[span]]
        else:  # arpeggio: the root below the voicing, then the voicing up and down
            voicing = voicings[span]
            root_pc = (song.tonic + spans[span].chord.root) % 12
            below = next(p for p in range(voicing[0] - 1, voicing[0] - 13, -1)
                         if p % 12 == root_pc)
            tones = ([below] if below >= chord_inst.low else []) + voicing
            position = (hit.tick - spans[span].start) // (TICKS_PER_QUARTER // 2)
            pitch = tones[ARPEGGIO[position % len(ARPEGGIO)] % len(tones)]
            end = min(spans[span].end, hit.tick + hit.length)
            vel = _velocity(hit.loudness, "arp", hit.accent)
            chords.append((start, max(SCALE, (end - hit.tick) * SCALE), pitch, vel))
    return [Track("Chords", chord_inst.program, 1, notes=chords),
            Track("Bass", bass_inst.program, 2, notes=bass)]


def _bass_window(low: int, high: int) -> tuple[int, int]:
    """The bass range (E1..G3) inside the instrument's; at least an octave wide."""
    lo, hi = max(BASS_RANGE[0], low), min(BASS_RANGE[1], high)
    if hi - lo < 12:
        lo, hi = low, min(high, low + 14)
    return lo, hi


def _nearest(pc: int, target: float, low: int, high: int) -> int:
    candidates = [p for p in range(low, high + 1) if p % 12 == pc]
    if not candidates:
        return _fold(pc + 12 * (int(target) // 12), low, high)
    return min(candidates, key=lambda p: (abs(p - target), p))


def _bass_line(song: Song, spans: list[Span], hits: list[Hit], low: int, high: int,
               walking: bool, rng: random.Random) -> list[int]:
    """Roots on chord changes, fifths on repeats, a passing note into some changes."""
    scale = [(song.tonic + s) % 12 for s in SCALES[song.mode]]
    center = low + 0.55 * (high - low)  # E2..A2 on a double bass: full but not boomy
    pitches: list[int] = []
    prev = center
    count = 0
    prev_chord: Chord | None = None
    for i, hit in enumerate(hits):
        chord = spans[_span_at(spans, hit.tick)].chord
        root = (song.tonic + chord.root) % 12
        count = count + 1 if chord == prev_chord and i > 0 else 0
        prev_chord = chord
        nxt = hits[i + 1] if i + 1 < len(hits) else None
        next_chord = spans[_span_at(spans, nxt.tick)].chord if nxt else None
        if count == 0:
            pitch = _nearest(root, 0.5 * prev + 0.5 * center, low, high)
        elif (walking and next_chord is not None and next_chord.root != chord.root
              and rng.random() < 0.45):
            # Step into the next root from the side we are on.
            target = _nearest((song.tonic + next_chord.root) % 12, prev, low, high)
            steps = [p for p in range(target - 2, target + 3) if p % 12 in scale and p != target]
            side = [p for p in steps if (p - target) * (prev - target) > 0] or steps
            pitch = _fold(min(side, key=lambda p: abs(p - target)), low, high)
        else:
            fifth = (root + (6 if chord.quality == "dim" else 7)) % 12
            pitch = _nearest(fifth if count % 2 else root, 0.7 * prev + 0.3 * center, low, high)
        pitches.append(pitch)
        prev = pitch
    return pitches


def _voicing_candidates(pcs: tuple[int, ...], floor: int, ceiling: int) -> list[list[int]]:
    """Every closed voicing (one of each chord tone, within an octave) in [floor, ceiling]."""
    out = []
    for bottom in range(floor, ceiling + 1):
        if bottom % 12 not in pcs:
            continue
        voicing, p = [bottom], bottom
        for _ in range(len(pcs) - 1):
            p += 1
            while p % 12 not in pcs or p % 12 in (q % 12 for q in voicing):
                p += 1
            voicing.append(p)
        if voicing[-1] <= ceiling:
            out.append(voicing)
    return out


def _lead_voicings(spans: list[Span], tonic: int, floor: int, ceiling: int) -> list[list[int]]:
    """A closed voicing per span, each the nearest to the one before (smooth leading)."""
    result: list[list[int]] = []
    prev: list[int] | None = None
    center = (floor + ceiling) / 2
    for span in spans:
        pcs = span.chord.pitch_classes(tonic)
        if len(pcs) == 4 and ceiling - floor < 14:
            pcs = (pcs[0], pcs[1], pcs[3])  # a seventh chord without its fifth fits tighter
        candidates = _voicing_candidates(pcs, floor, ceiling) or [
            sorted(_fold(floor + (pc - floor) % 12, floor, ceiling) for pc in pcs)]
        if prev is None:
            best = min(candidates, key=lambda v: abs(sum(v) / len(v) - center))
        else:
            p = prev

            def cost(v: list[int], p: list[int] = p) -> float:
                moves = sum(min(abs(x - y) for y in p) for x in v)
                return moves + 0.3 * abs(sum(v) / len(v) - center)

            best = min(candidates, key=cost)
        result.append(best)
        prev = best
    return result


# --- chorale -----------------------------------------------------------------------------


def _chorale(song: Song, spans: list[Span], slots: list[Slot], style: Style,
             melody: Track) -> tuple[Track, Track]:
    """Alto and tenor (Harmony) and bass under the melody, searched for smooth leading."""
    organ = get_instrument(style.chord_instrument)
    bass_inst = get_instrument(style.bass_instrument)
    bass_low, bass_high = _bass_window(bass_inst.low, bass_inst.high)
    alto_range = (max(55, organ.low), min(74, organ.high))
    tenor_range = (max(48, organ.low), min(67, organ.high))

    soprano = [(n[0] // SCALE, (n[0] + n[1]) // SCALE + 1, n[2]) for n in melody.notes]

    def soprano_floor(start: int, end: int) -> int:
        """The lowest melody note over a span: the alto stays under all of it."""
        return min((p for s, e, p in soprano if s < end and e > start), default=79)

    loudness = {slot.start: slot.section.loudness for slot in slots}
    bar_starts = sorted(loudness)
    harmony, bass = [], []
    prev: tuple[int, int, int] | None = None
    for span in spans:
        pcs = span.chord.pitch_classes(song.tonic)
        root, third = pcs[0], pcs[1]
        s = soprano_floor(span.start, span.end)
        # Root position preferred; an inversion when the soprano leaves no room above a root.
        inversion_cost = {pc: 0.0 if pc == root else 5.0 if pc == third else 9.0 for pc in pcs}
        basses = [p for p in range(bass_low, bass_high + 1) if p % 12 in pcs]
        tones = [p for p in range(tenor_range[0], alto_range[1] + 1) if p % 12 in pcs]
        best, best_cost = None, float("inf")
        for b, t, a in product(basses, tones, tones):
            if not (b < t < a < s and a - t <= 12 and t - b <= 19
                    and tenor_range[0] <= t <= tenor_range[1]
                    and alto_range[0] <= a <= alto_range[1]):
                continue
            have = {b % 12, t % 12, a % 12, s % 12}
            cost = inversion_cost[b % 12] + (0.0 if third in have else 20.0)
            cost += 0.0 if root in have else 20.0
            cost += 0.0 if len(pcs) < 3 or pcs[2] in have else 2.0
            cost += 3.0 * ([b % 12, t % 12, a % 12, s % 12].count(third) > 1)
            if prev is not None:
                pb, pt, pa = prev
                cost += abs(a - pa) + abs(t - pt) + 0.5 * abs(b - pb)
                for (x0, x1), (y0, y1) in [((pb, b), (pt, t)), ((pb, b), (pa, a)),
                                           ((pt, t), (pa, a))]:
                    # parallel fifths and octaves
                    if (y0 - x0) % 12 in (0, 7) and (y1 - x1) % 12 == (y0 - x0) % 12 \
                            and x0 != x1:
                        cost += 8.0
            else:
                cost += abs(a - (s - 5)) * 0.2
            if cost < best_cost:
                best, best_cost = (b, t, a), cost
        if best is None:  # no room under the soprano: fall back to the plain closed triad
            b = _nearest(root, (bass_low + bass_high) / 2, bass_low, bass_high)
            t = _nearest(pcs[1], 60, *tenor_range)
            a = _nearest(pcs[2 % len(pcs)], 64, *alto_range)
            best = (b, t, a)
        prev = best
        bar_start = max(x for x in bar_starts if x <= span.start)
        loud = loudness[bar_start]
        accent = _accent(song.meter, span.start - bar_start)
        start, dur = span.start * SCALE, round((span.end - span.start) * SCALE * 0.97)
        harmony += [(start, dur, best[1], _velocity(loud, "harmony", accent)),
                    (start, dur, best[2], _velocity(loud, "harmony", accent))]
        bass.append((start, dur, best[0], _velocity(loud, "bass", accent)))
    return (Track("Harmony", organ.program, 1, notes=harmony),
            Track("Bass", bass_inst.program, 2, notes=bass))


# --- drums -------------------------------------------------------------------------------


def _drum_hits(song: Song, slots: list[Slot], style: Style) -> list[Hit]:
    """A light bodhrán-like pulse; a snare for marches; one last hit on the final bar."""
    meter = song.meter
    eighth = TICKS_PER_QUARTER // 2
    hits = []
    for n, slot in enumerate(slots):
        loud = slot.section.loudness
        if n == len(slots) - 1:
            hits += [Hit(slot.start, eighth, str(KICK), 2, loud),
                     Hit(slot.start, eighth, str(LOW_FLOOR_TOM), 2, loud)]
            continue
        pattern: list[tuple[int, int, int]] = []  # (offset, key, velocity offset)
        if meter.is_compound:
            for b in range(meter.beats):
                at = b * meter.beat_ticks
                pattern.append((at, KICK if b == 0 else LOW_FLOOR_TOM, 0))
                if style.accompaniment == "march":
                    pattern.append((at + 2 * eighth, SNARE, -14))
                else:
                    pattern += [(at + eighth, LOW_TOM, -26), (at + 2 * eighth, LOW_TOM, -14)]
            if style.accompaniment == "march" and meter.beats > 1:
                pattern.append((meter.beat_ticks, SNARE, -4))
        else:
            quarter = TICKS_PER_QUARTER
            quarters = meter.bar_ticks // quarter
            for q in range(quarters):
                at = q * quarter
                if style.accompaniment == "march":
                    if q % 2 == 0:
                        pattern.append((at, KICK, 0))
                    else:
                        pattern.append((at, SNARE, -2))
                    pattern.append((at + eighth, SNARE, -22))
                else:
                    pattern.append((at, KICK if q % 2 == 0 else LOW_FLOOR_TOM, 0))
                    pattern.append((at + eighth, LOW_TOM, -20))
            if style.accompaniment == "march" and slot.index_in_section % 4 == 3:
                # a snare roll into the next phrase, in sixteenths over the last beat
                last = meter.bar_ticks - quarter
                pattern = [p for p in pattern if p[0] < last]
                pattern += [(last + k * 3, SNARE, -16 + 4 * k) for k in range(4)]
        for offset, key, extra in pattern:
            if offset < slot.bar.ticks:
                hits.append(Hit(slot.start + offset, eighth, str(key),
                                _accent(meter, offset), loud, extra))
    return hits


def _notes_of_hits(hits: list[Hit], role: str) -> list[Note4]:
    return [(h.tick * SCALE, h.length * SCALE, int(h.role),
             _velocity(h.loudness, role, h.accent, h.step)) for h in hits]


# --- tempo and markers -------------------------------------------------------------------


def _tempo_map(song: Song, slots: list[Slot], base_us: int) -> list[tuple[int, int]]:
    """The song's tempo, and a gradual slowdown over the last bars of a ritardando section."""
    tempos = [(0, base_us)]
    beat = song.meter.beat_ticks
    for section in song.sections:
        if not section.ritardando:
            continue
        own = [s for s in slots if s.section is section]
        rit = own[-RITARDANDO_BARS:]
        start, end = rit[0].start, rit[-1].start + rit[-1].bar.ticks
        steps = max(1, (end - start) // beat)
        for k, factor in enumerate(ritardando_factors(steps)):
            tempos.append(((start + k * beat) * SCALE, round(base_us / factor)))
        if end < sum(bar.ticks for bar in song.bars):  # back to tempo after it
            tempos.append((end * SCALE, base_us))
    return tempos


def _key_signatures(song: Song) -> list[tuple[int, str]]:
    """(tick, mido key) where the key changes: at 0, and where a set's next tune or a
    march's trio moves to its own key."""
    keys: list[tuple[int, str]] = []
    tick = 0
    for section in song.sections:
        tonic, name = song.key_of(section.key_step)
        key = mido_key(tonic, song.mode, name)
        if not keys or keys[-1][1] != key:
            keys.append((tick * SCALE, key))
        tick += section.ticks
    return keys


def _markers(song: Song) -> list[tuple[int, str]]:
    markers, tick = [], 0
    for section in song.sections:
        markers.append((tick * SCALE, section.name))
        tick += section.ticks
    return markers
