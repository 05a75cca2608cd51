"""A realistic Song built by hand, so the arranger and renderers can be tested without a model.

The melody is written from a chord progression: chord tones on the beats, scale steps in
between, a cadence on the tonic at the end of each phrase. It fits any meter the styles use.
"""

from __future__ import annotations

from composer.music import SCALES, TICKS_PER_QUARTER, Bar, Chord, Meter, Note, tonic_pitch_class
from composer.request import SongRequest
from composer.song import Section, Song
from composer.styles import get_style

# Two four-bar phrases per section; roots relative to the tonic.
PROGRESSIONS = {
    ("major", "Verse"): ["0maj 5maj", "7maj 0maj", "9min 5maj", "7dom7 0maj"],
    ("major", "Chorus"): ["5maj 0maj", "7maj 9min", "5maj 0maj", "7dom7 0maj"],
    ("major", "Bridge"): ["9min 4min", "5maj 0maj", "2min 7maj", "7dom7 7dom7"],
    ("minor", "Verse"): ["0min 5min", "7maj 0min", "8maj 3maj", "7dom7 0min"],
    ("minor", "Chorus"): ["8maj 3maj", "5min 0min", "8maj 5min", "7dom7 0min"],
    ("minor", "Bridge"): ["3maj 10maj", "8maj 5min", "2dim 7maj", "7dom7 7dom7"],
}
# Rhythms per bar length in ticks: (ordinary bars, cadence bar).
RHYTHMS = {
    24: ([[12, 12], [6, 6, 12], [6, 6, 6, 6]], [24]),
    36: ([[12, 12, 12], [24, 12], [18, 6, 12]], [36]),
    48: ([[12, 12, 12, 12], [12, 6, 6, 12, 12], [24, 12, 12], [18, 6, 24]], [48]),
    54: ([[6] * 9, [12, 6, 12, 6, 12, 6]], [54]),
    72: ([[12] * 6, [24, 12, 24, 12]], [72]),
}
COMPOUND_RHYTHMS = {
    36: ([[6] * 6, [12, 6, 12, 6], [12, 6, 6, 6, 6]], [36]),
    54: ([[6] * 9, [12, 6, 12, 6, 12, 6]], [54]),
    72: ([[6] * 12, [12, 6, 12, 6, 12, 6, 12, 6]], [72]),
}
MATERIALS = {"Intro": "I", "Verse": "A", "Chorus": "B", "Bridge": "C", "Coda": "D"}
FORMS = {
    "song": ["Intro", "Verse", "Chorus", "Coda"],
    "dance": ["Intro", "Part A", "Part B", "Coda"],
    "chorale": ["Part A", "Part B", "Coda"],
}
LONG_FORMS = {
    "song": ["Intro", "Verse", "Chorus", "Verse", "Chorus", "Bridge", "Chorus", "Coda"],
    "dance": ["Intro", "Part A", "Part A", "Part B", "Part B", "Part A", "Part B", "Coda"],
    "chorale": ["Part A", "Part B", "Part A", "Part B", "Coda"],
}


def _chords(progression: list[str], meter: Meter, per_bar: int) -> list[list[tuple[int, Chord]]]:
    """Each bar's chords; a bar of two chords changes on the middle beat (or not at all)."""
    bars = []
    for pair in progression:
        first, second = (Chord.parse(name) for name in pair.split())
        if per_bar >= 4 and meter.beats >= 4:
            step = meter.beat_ticks
            bars.append([(0, first), (step, first), (2 * step, second), (3 * step, second)])
        elif per_bar >= 2 and meter.beats % 2 == 0:
            bars.append([(0, first), (meter.bar_ticks // 2, second)])
        else:  # one chord a bar: the cadence bar takes its tonic, other bars their first
            bars.append([(0, second if second.root == 0 else first)])
    return bars


def _scale_pitches(tonic: int, mode: str) -> list[int]:
    return [p for p in range(48, 90) if (p - tonic) % 12 in SCALES[mode]]


def _melody(chords: list[list[tuple[int, Chord]]], meter: Meter, tonic: int, mode: str,
            variant: int) -> list[list[Note]]:
    """Chord tones on chord changes and beats, steps between, the tonic at the end."""
    table = COMPOUND_RHYTHMS if meter.is_compound else RHYTHMS
    ordinary, cadence = table[meter.bar_ticks]
    scale = _scale_pitches(tonic, mode)
    home = min((p for p in scale if (p - tonic) % 12 == 0 and p >= 62), default=scale[10])
    pitch = home
    direction = 1
    bars = []
    for index, bar_chords in enumerate(chords):
        last = index == len(chords) - 1
        rhythm = cadence if last else ordinary[(index + variant) % len(ordinary)]
        bar = Bar(notes=[], chords=bar_chords)
        tick = 0
        for ticks in rhythm:
            chord = bar.chord_at(tick)
            on_beat = tick % meter.beat_ticks == 0
            if last and tick == 0:
                pitch = home
            elif on_beat and chord is not None:
                tones = chord.pitch_classes(tonic)
                ahead = [p for p in range(60, 80)
                         if p % 12 in tones and (p - pitch) * direction > 0]
                if not ahead:
                    direction = -direction
                    ahead = [p for p in range(60, 80)
                             if p % 12 in tones and (p - pitch) * direction > 0]
                pitch = min(ahead, key=lambda p: abs(p - pitch))
            else:
                i = min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))
                i = max(0, min(len(scale) - 1, i + direction))
                pitch = scale[i]
            if pitch >= 76:
                direction = -1
            elif pitch <= 62:
                direction = 1
            bar.notes.append(Note(pitch, ticks))
            tick += ticks
        if index % 2 == 1:
            direction = -direction
        bars.append(bar)
    return bars


def _rest_bars(chords: list[list[tuple[int, Chord]]], meter: Meter) -> list[Bar]:
    return [Bar(notes=[Note(None, meter.bar_ticks)], chords=c) for c in chords]


def make_song(style: str = "folk", key: str | None = None, mode: str | None = None,
              meter: str | None = None, tempo_bpm: int | None = None, seed: int = 42,
              long: bool = False, intro_melody: bool = False) -> Song:
    """A short (or, with long=True, a full-length) song in the given style."""
    st = get_style(style)
    mode = mode or st.default_mode
    key = key or ("D" if mode == "major" else "A")
    tonic = tonic_pitch_class(key)
    m = Meter.parse(meter or st.meters[0])
    tempo = tempo_bpm or st.default_tempo
    kinds = (LONG_FORMS if long else FORMS)[st.form]
    counts: dict[str, int] = {}
    sections = []
    for i, kind_name in enumerate(kinds):
        kind = kind_name.split()[0]
        counts[kind_name] = counts.get(kind_name, 0) + 1
        if kind == "Part":
            letter = kind_name.split()[1]
            name, material = kind_name, letter
            progression = PROGRESSIONS[(mode, "Verse" if letter == "A" else "Chorus")]
        else:
            material = MATERIALS[kind]
            name = kind if kind in ("Intro", "Coda") else f"{kind} {counts[kind_name]}"
            source = {"Intro": "Verse", "Coda": "Chorus"}.get(kind, kind)
            progression = PROGRESSIONS[(mode, source)]
        if kind == "Intro":
            chords = _chords(progression[2:], m, st.chords_per_bar)
            bars = (_melody(chords, m, tonic, mode, 1) if intro_melody
                    else _rest_bars(chords, m))
        elif kind == "Coda":
            bars = _melody(_chords(progression[2:], m, st.chords_per_bar), m, tonic, mode, 2)
        else:
            chords = _chords(progression + progression, m, st.chords_per_bar)
            # A repeat varies a little: the rhythm template shifts on the second time.
            bars = _melody(chords, m, tonic, mode, counts[kind_name] - 1)
        loudness = {"Intro": 0.5, "Verse": 0.6, "Chorus": 0.8, "Bridge": 0.7,
                    "Coda": 0.6, "Part": 0.7}[kind]
        sections.append(Section(kind=kind, name=name, material=material, bars=bars,
                                loudness=loudness, ritardando=(i == len(kinds) - 1)))
    request = SongRequest(style=style, mode=mode, key=key, tempo_bpm=tempo, seed=seed,
                          text=f"a {style} in {key} {mode}")
    return Song(request=request, title=f"A {style.replace('-', ' ')} in {key} {mode}",
                style=style, meter=m, tonic=tonic, key_name=key, mode=mode, tempo_bpm=tempo,
                instrument=st.melody_instrument, seed=seed, sections=sections,
                timings={"compose": 0.1})


def bar_ticks_ok(song: Song) -> bool:
    return all(bar.ticks == song.meter.bar_ticks for bar in song.bars)


__all__ = ["make_song", "bar_ticks_ok", "TICKS_PER_QUARTER"]
