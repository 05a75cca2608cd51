"""Song plans: which sections, in what order, how many bars each, how loud.

A plan is pure arithmetic over the style, meter, tempo and wanted length; the
composer then asks the RNN for each distinct *material* once ("A" = verse, "B" =
chorus, "C" = bridge; dance parts "A", "B", ...) and plays the sections in order.

Three shapes, by `Style.form`:
- "song":    Intro · Verse 1 · Chorus 1 · Verse 2 · Chorus 2 · Bridge · Chorus 3 · Coda
             (fewer pairs, no bridge, no intro/coda as the length shrinks; more pairs
             as it grows). A ballad sings two verses before each chorus.
- "dance":   Part A · Part A · Part B · Part B (the tune "played through" as
             many times as fits) · Coda. Past three rounds, players move on to a
             second tune, as in a session set: Part C · Part C · Part D · Part D ...
- "chorale": bar form, stanza after stanza: Intro · Part A · Part A · Part B · ... · Coda
             (Stollen, Stollen, Abgesang).

The composer never changes the tempo to fit a length, so the planner picks bars per
section and the number of repeats so the total, as played with its closing slowdown,
lands within 10% of the request (or within half a bar, for tiny requests at slow tempos
where whole bars cannot).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from composer.music import Meter
from composer.styles import Style

MIN_SECONDS = 15
MAX_SECONDS = 300
TOLERANCE = 0.10  # the plan's length may miss the request by this fraction
# Every song slows into its last bars (the arranger's tempo map), which lengthens it: a
# 90-second hornpipe planned at 99 s played 99.7 s when the plan counted bars alone.
RITARDANDO_BARS = 2  # how many of the last section's bars slow down
RITARDANDO_END = 0.7  # final tempo as a fraction of the song's tempo

# Default length when the request names none: a song's full form takes about two
# minutes, a dance tune goes round about three times, a lullaby is shorter.
DEFAULT_SECONDS = {"folk": 120, "ballad": 120, "lullaby": 75, "waltz": 100, "chinese-folk": 100,
                   "air": 105, "chorale": 90}
DEFAULT_SECONDS_OTHER = 90

# Overall dynamics per style: a lullaby stays soft, a march is loud.
STYLE_LOUDNESS = {"lullaby": 0.7, "air": 0.85, "ballad": 0.9, "chorale": 0.95, "march": 1.05}

KINDS = ("Intro", "Verse", "Chorus", "Bridge", "Coda", "Part")
MAX_TUNES = 3  # a set of up to three tunes: dance materials "A".."F"
MAX_VARIATION = 2


@dataclass
class PlannedSection:
    kind: str  # one of KINDS
    name: str  # the MIDI marker text; starts with the kind: "Verse 2", "Part A", "Coda"
    material: str  # RNN-written material ("A", "B", "C"...), or "intro" / "coda"
    bars: int
    loudness: float  # 0..1, the dynamics the arranger follows
    ritardando: bool = False  # slow down across this section (the last one)
    variation: int = 0  # 0 = first statement of its material; 1, 2 = later repeats (capped)
    cadence: str = "full"  # how its material ends: "half" (leads on) or "full" (rests)
    source: str | None = None  # intro/coda: the material they are derived from


@dataclass
class FormPlan:
    sections: list[PlannedSection]
    materials: dict[str, int]  # material letter -> bars: what the RNN must write, in order
    bars_total: int
    seconds_total: float
    seconds_per_bar: float
    target_seconds: float  # the length asked for (or the style's default)
    style: str
    meter: str
    tempo_bpm: int

    def section_seconds(self) -> list[float]:
        """Each section's seconds, the last one's with its slowdown."""
        seconds = [s.bars * self.seconds_per_bar for s in self.sections]
        seconds[-1] += self.seconds_total - self.bars_total * self.seconds_per_bar
        return seconds

    def to_json(self) -> dict:
        """Sections with bars and seconds, for the song's JSON file."""
        data = asdict(self)
        for section, seconds in zip(data["sections"], self.section_seconds(), strict=True):
            section["seconds"] = round(seconds, 2)
        data["seconds_total"] = round(self.seconds_total, 2)
        data["seconds_per_bar"] = round(self.seconds_per_bar, 4)
        return data


def ritardando_factors(beats: int) -> list[float]:
    """The tempo on each beat of a slowdown `beats` long, as a fraction of the song's."""
    return [1 - (1 - RITARDANDO_END) * ((k + 1) / beats) ** 1.3 for k in range(beats)]


def ritardando_bars(meter: Meter, last_section_bars: int = RITARDANDO_BARS) -> float:
    """How much longer, in bars, the slowdown over a song's last bars makes it."""
    beats = min(RITARDANDO_BARS, last_section_bars) * meter.beats
    return sum(1 / f - 1 for f in ritardando_factors(beats)) / meter.beats


def default_length_seconds(style: Style) -> int:
    return DEFAULT_SECONDS.get(style.id, DEFAULT_SECONDS_OTHER)


def plan_form(style: Style, meter: Meter, tempo_bpm: int, length_seconds: int | None,
              first_bars: int | None = None) -> FormPlan:
    """The plan for a song of this style, meter and tempo, close to the wanted length.

    `first_bars` fixes the length of the first material ("A": the verse, part A), when it
    is a user's own tune of that many bars; the rest of the form is fitted around it.
    """
    if tempo_bpm <= 0:
        raise ValueError(f"tempo must be positive, got {tempo_bpm}")
    target = default_length_seconds(style) if length_seconds is None else length_seconds
    target = min(max(target, MIN_SECONDS), MAX_SECONDS)
    bar_seconds = meter.beats * 60 / tempo_bpm
    target_bars = target / bar_seconds

    if style.form == "song":
        candidates = _song_candidates(target_bars, bar_seconds, style.verses_per_chorus)
    elif style.form == "chorale":
        candidates = _round_candidates(target_bars, bar_seconds, "AAB", style.part_bars,
                                       style.rounds_per_tune)
    else:
        candidates = _round_candidates(target_bars, bar_seconds, "AABB", style.part_bars,
                                       style.rounds_per_tune)

    if first_bars:
        candidates = (_with_first(c, first_bars) for c in candidates)

    slowdown = ritardando_bars(meter)  # as played; a last section of one bar slows less

    def cost(candidate: tuple[float, int, Callable[[], list[PlannedSection]]]) -> float:
        shape_cost, bars, _ = candidate
        error = abs(bars + slowdown - target_bars) / target_bars
        return shape_cost + 4 * error + (100 if error > TOLERANCE else 0)

    # min() keeps the first of equals, and candidates come in a fixed order: deterministic.
    _, bars, build = min(candidates, key=cost)
    sections = build()
    single = first_bars or max(1, round(target_bars - slowdown))
    miss = abs(bars + slowdown - target_bars)
    single_miss = abs(single + ritardando_bars(meter, single) - target_bars)
    if miss > TOLERANCE * target_bars and single_miss < miss:
        sections = _single_section(style, single)  # a tiny request: one phrase fits best

    _shape_dynamics(sections, style)
    materials: dict[str, int] = {}
    for s in sections:
        if s.material not in ("intro", "coda"):
            materials.setdefault(s.material, s.bars)
    bars_total = sum(s.bars for s in sections)
    return FormPlan(
        sections=sections, materials=materials, bars_total=bars_total,
        seconds_total=(bars_total + ritardando_bars(meter, sections[-1].bars)) * bar_seconds,
        seconds_per_bar=bar_seconds,
        target_seconds=target, style=style.id, meter=meter.name, tempo_bpm=tempo_bpm,
    )


def plan_summary(plan: FormPlan) -> str:
    """One line: "Intro · Verse · Chorus · ... · Coda"; dance rounds as "AABB ×3"."""
    labels: list[str] = []
    run = ""  # consecutive dance/chorale part letters, one round at a time
    rounds: list[str] = []
    for section in plan.sections:
        if section.kind == "Part":
            letter = section.material
            # A new round starts when the tune goes back (B -> A) or a new tune starts (B -> C).
            if run and (letter < run[-1] or _tune_of(letter) != _tune_of(run[-1])):
                rounds.append(run)
                run = ""
            run += letter
            continue
        if run:
            rounds.append(run)
            run = ""
        labels.extend(_collapse(rounds))
        rounds = []
        labels.append(section.kind)
    if run:
        rounds.append(run)
    labels.extend(_collapse(rounds))
    return " · ".join(labels)


def _tune_of(letter: str) -> int:
    return (ord(letter) - ord("A")) // 2


def _collapse(rounds: list[str]) -> list[str]:
    """["AABB", "AABB", "AB"] -> ["AABB ×2", "AB"]."""
    out = []
    for pattern, group in itertools.groupby(rounds):
        count = len(list(group))
        out.append(pattern if count == 1 else f"{pattern} ×{count}")
    return out


# --- candidate plans ---------------------------------------------------------------------
# Each candidate is (shape cost, total bars, a function that builds its sections). The
# shape cost says how much the plan departs from the usual form; plan_form adds the
# length error and picks the cheapest. Only whole bars exist, so repeats and phrase
# lengths are the knobs.

INTRO_BARS = (4, 2, 1, 0)
CODA_BARS = (4, 2, 3, 1, 0)  # a one-bar coda is the final chord, held


def _intros(part_bars: int) -> list[int]:
    """Intro lengths for a part of this many bars: an intro quotes the end of a part, never
    all of it (a whole part first would be the part once more)."""
    return [bars for bars in INTRO_BARS if bars < part_bars]


def _frame_cost(intro: int, coda: int, target_bars: float, bar_seconds: float) -> float:
    """Intro and coda are wanted in anything but the shortest songs, and unwanted there."""
    cost = 0.25 * (intro == 1) + 0.25 * (coda == 1)
    if target_bars * bar_seconds >= 30 - 1e-6:
        return cost + 0.6 * (intro == 0) + 0.6 * (coda == 0) + 0.02 * (8 - intro - coda)
    return cost + 0.3 * (intro > 0) + 0.3 * (coda > 0)


def _song_candidates(target_bars: float, bar_seconds: float, verses: int = 1):
    """Songs: verses (`verses` of them before each chorus) and choruses in pairs, maybe a
    bridge, the last chorus maybe sung again, an intro and a coda."""
    for phrase in (8, 4, 16):
        phrase_seconds = phrase * bar_seconds
        # Verses and choruses of ~16 s feel like phrases; 8 bars is the usual length.
        phrase_cost = abs(math.log2(phrase_seconds / 16)) + 0.2 * (phrase != 8)
        # encore: the last chorus sung twice, as songs often end
        for intro, coda, bridge, encore in itertools.product(
            _intros(phrase), CODA_BARS, (phrase, phrase // 2, 0), (0, 1)
        ):
            fixed = intro + coda + (bridge + phrase if bridge else 0) + encore * phrase
            near = (target_bars - fixed) / ((verses + 1) * phrase)
            # pairs == 0 is the tiniest song: a verse alone.
            for pairs in sorted({max(0, math.floor(near)), max(0, math.ceil(near))}):
                if (bridge and pairs < 2) or (encore and pairs < 1):
                    continue
                cost = phrase_cost + _frame_cost(intro, coda, target_bars, bar_seconds)
                cost += 0.5 * (pairs >= 2 and not bridge) + 0.15 * (0 < bridge < phrase)
                cost += 0.8 * (pairs == 0) + 0.4 * encore
                bars = fixed + (verses + 1) * pairs * phrase + (phrase if pairs == 0 else 0)
                yield cost, bars, partial(_song_sections, intro, pairs, phrase, bridge, encore,
                                          coda, verses)


def _song_sections(intro: int, pairs: int, phrase: int, bridge: int, encore: int,
                   coda: int, verses: int = 1) -> list[PlannedSection]:
    sections = []
    if intro:
        sections.append(PlannedSection("Intro", "Intro", "intro", intro, 0, cadence="half",
                                       source="B" if pairs else "A"))
    if pairs == 0:
        sections.append(PlannedSection("Verse", "Verse 1", "A", phrase, 0))
    for i in range(pairs):
        # The verse leads into the chorus (or into the next verse); the chorus comes home.
        for v in range(i * verses, (i + 1) * verses):
            sections.append(PlannedSection("Verse", f"Verse {v + 1}", "A", phrase, 0,
                                           variation=min(v, MAX_VARIATION), cadence="half"))
        sections.append(PlannedSection("Chorus", f"Chorus {i + 1}", "B", phrase, 0,
                                       variation=min(i, MAX_VARIATION), cadence="full"))
    choruses = pairs
    if bridge:
        sections.append(PlannedSection("Bridge", "Bridge", "C", bridge, 0, cadence="half"))
    for _ in range((1 if bridge else 0) + encore):
        choruses += 1
        sections.append(PlannedSection("Chorus", f"Chorus {choruses}", "B", phrase, 0,
                                       variation=min(choruses - 1, MAX_VARIATION),
                                       cadence="full"))
    if coda:
        sections.append(PlannedSection("Coda", "Coda", "coda", coda, 0,
                                       source="B" if pairs else "A"))
    return sections


def _round_candidates(target_bars: float, bar_seconds: float, round_pattern: str,
                      part_sizes: tuple[tuple[int, int], ...], rounds_per_tune: int):
    """Dance tunes (AABB) and chorales (AAB): whole rounds, then maybe a short last pass.

    part_sizes lists (A bars, B bars) choices, the usual one first.
    """
    dance = round_pattern == "AABB"
    # A short last pass, cheapest first: a dance tune once through without repeats; a
    # chorale's last lines again.
    tails = ("", "AB", "A") if dance else ("", "B", "AB", "A")
    for size_rank, (a_bars, b_bars) in enumerate(part_sizes):
        size = {"A": a_bars, "B": b_bars}
        round_bars = sum(size[p] for p in round_pattern)
        for intro, coda, (tail_rank, tail) in itertools.product(
            _intros(a_bars), CODA_BARS, enumerate(tails)
        ):
            fixed = intro + coda + sum(size[p] for p in tail)
            near = (target_bars - fixed) / round_bars
            for rounds in sorted({max(0, math.floor(near)), max(0, math.ceil(near))}):
                if rounds == 0 and not tail.startswith("A"):
                    continue  # every piece starts with its A part
                if dance and rounds == 0 and tail == "A" and a_bars > 8:
                    continue  # A alone is a phrase for a tiny request; a long strain alone
                    # would leave the tune's B out where A and B fit once through
                cost = 0.4 * size_rank + 0.4 * tail_rank + 0.3 * (rounds == 0)
                cost += _frame_cost(intro, coda, target_bars, bar_seconds)
                # A dance set starts on the tune, as players start one (an intro quoting
                # the tune's end puts every part off the tune's own AABB phrasing), unless
                # an intro brings the length 7.5+ points closer to the request.
                cost += 0.9 * (dance and intro > 0)
                bars = fixed + rounds * round_bars
                yield cost, bars, partial(_round_sections, intro, rounds, rounds_per_tune,
                                          round_pattern, tail, size, coda, dance)


def _round_sections(intro: int, rounds: int, rounds_per_tune: int, round_pattern: str, tail: str,
                    size: dict[str, int], coda: int, dance: bool) -> list[PlannedSection]:
    # Tunes in a set: tune k plays letters shifted by 2k (A, B -> C, D), ~3 rounds each.
    tunes = min(MAX_TUNES, max(1, math.ceil(rounds / rounds_per_tune))) if dance else 1
    per_tune = [rounds // tunes + (k < rounds % tunes) for k in range(tunes)]
    letters: list[str] = []
    for k, count in enumerate(per_tune):
        letters += [_shift(p, 2 * k) for p in round_pattern * count]
    letters += [_shift(p, 2 * (tunes - 1)) for p in tail]

    sections = []
    if intro:
        sections.append(PlannedSection("Intro", "Intro", "intro", intro, 0, cadence="half",
                                       source="A"))
    seen: dict[str, int] = {}
    for letter in letters:
        base = _shift(letter, -2 * _tune_of(letter)) if dance else letter
        # Dance parts come home to the tonic; a chorale's Stollen (A) leads on to the next.
        cadence = "half" if not dance and base == "A" and "B" in letters else "full"
        sections.append(PlannedSection("Part", f"Part {letter}", letter, size[base], 0,
                                       variation=min(seen.get(letter, 0), MAX_VARIATION),
                                       cadence=cadence))
        seen[letter] = seen.get(letter, 0) + 1
    if coda:
        sections.append(PlannedSection("Coda", "Coda", "coda", coda, 0, source=letters[-1]))
    return sections


def _with_first(candidate: tuple[float, int, Callable[[], list[PlannedSection]]],
                first_bars: int) -> tuple[float, int, Callable[[], list[PlannedSection]]]:
    """A candidate whose first material is `first_bars` long (intro and coda quoting it
    shrink to fit), with its total bars recounted."""
    shape_cost, _, build = candidate

    def build_fitted() -> list[PlannedSection]:
        sections = build()
        for s in sections:
            if s.material == "A":
                s.bars = first_bars
            elif s.source == "A":
                s.bars = min(s.bars, first_bars)
        return sections

    return shape_cost, sum(s.bars for s in build_fitted()), build_fitted


def _shift(letter: str, by: int) -> str:
    return chr(ord(letter) + by)


def _single_section(style: Style, bars: int) -> list[PlannedSection]:
    kind, name = ("Verse", "Verse 1") if style.form == "song" else ("Part", "Part A")
    return [PlannedSection(kind, name, "A", bars, 0)]


def _shape_dynamics(sections: list[PlannedSection], style: Style) -> None:
    """Loudness follows the form: soft intro, growing verses, loud last chorus, fading coda."""
    last = len(sections) - 1
    last_chorus = max((i for i, s in enumerate(sections) if s.kind == "Chorus"), default=-1)
    for i, s in enumerate(sections):
        progress = i / last if last else 1.0  # 0 at the start, 1 at the end
        if s.kind == "Intro":
            level = 0.45
        elif s.kind == "Coda":
            level = 0.4
        elif s.kind == "Bridge":
            level = 0.5  # contrast: the bridge steps back before the last chorus
        elif s.kind == "Chorus":
            level = 0.9 if i == last_chorus else 0.7 + 0.1 * progress
        elif s.kind == "Verse":
            level = 0.55 + 0.1 * progress
        else:  # dance and chorale parts build round by round
            level = 0.6 + 0.2 * progress
        s.loudness = round(min(1.0, max(0.05, level * STYLE_LOUDNESS.get(style.id, 1.0))), 3)
    sections[-1].ritardando = True  # every song slows into its last bars
