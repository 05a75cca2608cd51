"""Real music from music21's bundled corpus -> `Tune`s with style labels, cached.

The folk collections (Essen, O'Neill's 1850, Ryan's Mammoth, Aird's Airs, misc folk)
are ABC text: we split each file into tunes by its `X:` headers ourselves, read the
headers from the raw text, and let music21 parse one tune at a time, so one broken
tune is skipped (and counted by reason) instead of failing the whole build. The Bach
chorales give the soprano as melody and the four voices' chords as labels; the folk
tunes get chords from `composer.training.harmony`, learned on the chorales.

Build once (about ten minutes on two cores), then everyone reads the cache:

    python -c "from composer.training.corpus import build_cache; build_cache(workers=2)"
    tunes = load_corpus()
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from composer.abc import (
    TuneError,
    abc_headers,
    full_bars,
    measures_to_raw_bars,
    modal_colour,
    parse_meter,
    read_abc,
    split_abc,
    to_ticks,
)
from composer.data import (
    CACHE_PATH,
    HARMONY_PATH,
    KEY_PROFILES_PATH,
    STATS_PATH,
    STYLE_RHYTHMS_PATH,
    TINY_CORPUS_PATH,
)
from composer.music import Bar, Chord, Meter, Note, Tune, key_label, tonic_name

PITCH_RANGE = (40, 100)
MIN_BARS = 4
CHUNK_TUNES = 60  # tunes per worker task: small enough to balance, big enough to amortise

# Which ids each folk collection gets, and where its files live in music21's corpus.
FOLK_COLLECTIONS = {
    "essenFolksong": "essen",
    "oneills1850": "oneills",
    "ryansMammoth": "ryans",
    "airdsAirs": "airds",
    "miscFolk": "misc",
}
ESSEN_SKIP_BOOKS = ("test",)  # test0/test1/testd/teste: tiny test files, copies of other books

# Styles whose real examples only come in some meters (a "jig" in 4/4 is not a jig).
STYLE_METERS: dict[str, set[str]] = {
    "jig": {"6/8"},
    "slip-jig": {"9/8"},
    "reel": {"4/4", "2/2", "2/4"},
    "hornpipe": {"4/4", "2/2", "2/4"},
    "strathspey": {"4/4", "2/2", "2/4"},
    "march": {"2/4", "6/8", "4/4", "2/2"},
    "waltz": {"3/4", "3/8"},
}
# Written in half-size note values (2/4 reels in sixteenths, 3/8 waltzes): doubling every
# duration gives the same music in the style's usual meter, so the model sees one bar shape.
DOUBLE_METER = {("reel", "2/4"): "4/4", ("hornpipe", "2/4"): "4/4",
                ("strathspey", "2/4"): "4/4", ("waltz", "3/8"): "3/4"}


Skip = TuneError  # a tune we cannot use; the message is the reason it is counted under


# ---------------------------------------------------------------- the row format

def _bar_to_text(bar: Bar) -> str:
    notes = " ".join(f"{'r' if n.pitch is None else n.pitch}:{n.ticks}" for n in bar.notes)
    chords = " ".join(f"{offset}:{chord.name}" for offset, chord in bar.chords)
    return f"{notes}|{chords}" if chords else notes


def _bar_from_text(text: str) -> Bar:
    notes_text, _, chords_text = text.partition("|")
    notes = []
    for item in notes_text.split():
        pitch, ticks = item.split(":")
        notes.append(Note(None if pitch == "r" else int(pitch), int(ticks)))
    chords = []
    for item in chords_text.split():
        offset, name = item.split(":")
        chords.append((int(offset), Chord.parse(name)))
    return Bar(notes, chords)


def tune_to_json(tune: Tune) -> dict:
    """One cache row: bars as "pitch:ticks ...|offset:chord ..." strings ("r" is a rest)."""
    return {
        "id": tune.id,
        "title": tune.title,
        "style": tune.style,
        "meter": tune.meter.name,
        "tonic": tune.tonic,
        "mode": tune.mode,
        "pickup": tune.pickup_ticks,
        "parts": [[_bar_to_text(bar) for bar in part] for part in tune.parts],
    }


def tune_from_json(obj: dict) -> Tune:
    return Tune(
        id=obj["id"],
        title=obj["title"],
        style=obj["style"],
        meter=Meter.parse(obj["meter"]),
        tonic=obj["tonic"],
        mode=obj["mode"],
        parts=[[_bar_from_text(text) for text in part] for part in obj["parts"]],
        pickup_ticks=obj.get("pickup", 0),
    )


def write_tunes(tunes: list[Tune], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for tune in tunes:
            f.write(json.dumps(tune_to_json(tune), ensure_ascii=False, separators=(",", ":")))
            f.write("\n")


def load_corpus(path: Path | None = None) -> list[Tune]:
    """All cached tunes (default: composer/data/corpus.jsonl.gz, written by build_cache)."""
    path = Path(path) if path else CACHE_PATH
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [tune_from_json(json.loads(line)) for line in f if line.strip()]


def split_of(tune_id: str) -> str:
    """"train" | "valid" | "test" for a tune, fixed forever: 90/5/5 by a stable hash.

    The bucket is int(sha1(tune_id)[:8], 16) % 100: 0-89 train, 90-94 valid, 95-99 test.
    It depends only on the id (never on the order or the set of tunes), so every stage
    and every future rebuild agree. Caveat: the same tune printed in two collections
    (e.g. O'Neill's and Ryan's) has two ids and may land in two splits.
    """
    bucket = int(hashlib.sha1(tune_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < 90:
        return "train"
    return "valid" if bucket < 95 else "test"


# ---------------------------------------------------------------- ABC text

@dataclass
class RawTune:
    """One tune's ABC text, cut from its file, with where it came from."""

    source: str  # essen | oneills | ryans | airds | misc
    book: str  # file stem, e.g. "han1", "0701-0720", "AcaciaReel"
    number: str  # the X: field
    text: str


# ---------------------------------------------------------------- style labels

_STYLE_WORDS = [  # (regex on R: or title, style); first match wins
    (r"slip\s*-?\s*jig", "slip-jig"),
    (r"\bjigs?\b|\bslide\b", "jig"),
    (r"\breels?\b", "reel"),
    (r"\bhornpipes?\b|\bclog\b", "hornpipe"),
    (r"\bstrathspeys?\b|\bstrathsy\b|\bfling\b", "strathspey"),
    (r"\bmarch\b|\bquick\s*-?\s*step\b", "march"),
    (r"\bwaltz\b", "waltz"),
    (r"\bairs?\b", "air"),
]
_ONEILLS_SECTIONS = [(1, 625, "air"), (701, 1115, "jig"), (1116, 1175, "slip-jig"),
                     (1176, 1555, "reel"), (1556, 1780, "hornpipe")]


def _style_from_words(text: str) -> str | None:
    text = text.lower()
    for pattern, style in _STYLE_WORDS:
        if re.search(pattern, text):
            return style
    return None


def _style_from_meter(meter: Meter) -> str:
    return {"6/8": "jig", "9/8": "slip-jig"}.get(meter.name, "air")


# How a tune's style label was found: its own words, book or book section name it (NAMED),
# its meter alone decides (BY_METER: a tune of Aird's with no style word in 2/4 is an "air",
# though many such are quicksteps and song tunes), or its own name was overruled by its meter.
NAMED, BY_METER, OVERRULED = "named", "by meter", "overruled"


def label_style(raw: RawTune, headers: dict[str, list[str]], meter: Meter) -> tuple[str, str]:
    """The style id of a folk tune, and how it was found (NAMED, BY_METER or OVERRULED)."""
    if raw.source == "essen":
        if raw.book.startswith("han"):
            return "chinese-folk", NAMED
        if raw.book.startswith("ballad"):
            return "ballad", NAMED
        if raw.book.startswith("kinder"):
            return "lullaby", NAMED
        # Only 6 tunes in the corpus are called waltzes; German songs in 3/4 are the waltzes.
        return ("waltz" if meter.name == "3/4" else "folk"), NAMED

    rhythm = " ".join(headers.get("R", []))
    title = " ".join(headers.get("T", []))
    style = _style_from_words(rhythm)
    title_style = _style_from_words(title)
    if title_style == "march" and style in (None, "air"):
        style = "march"  # marches come mostly from titles ("March", "Quickstep")
    if style is None:
        style = title_style
    if style is None and raw.source == "oneills":
        number = int(re.sub(r"\D", "", raw.number) or 0)
        for low, high, section_style in _ONEILLS_SECTIONS:
            if low <= number <= high:
                style = section_style
    if style is None:
        return _style_from_meter(meter), BY_METER
    if style in STYLE_METERS and meter.name not in STYLE_METERS[style]:
        return _style_from_meter(meter), OVERRULED
    return style, NAMED


# ---------------------------------------------------------------- music21 -> bars

def _double_durations(parts: list[list[Bar]]) -> list[list[Bar]]:
    return [[Bar([Note(n.pitch, n.ticks * 2) for n in bar.notes]) for bar in part]
            for part in parts]


def check_tune(tune: Tune) -> Tune:
    """Raise Skip unless the tune has enough full bars and a singable melody range."""
    bars = tune.bars
    if len(bars) < MIN_BARS:
        raise Skip("fewer than 4 bars")
    pitches = [n.pitch for n in tune.melody() if n.pitch is not None]
    if not pitches:
        raise Skip("no notes")
    if min(pitches) < PITCH_RANGE[0] or max(pitches) > PITCH_RANGE[1]:
        raise Skip("pitch out of range")
    assert all(bar.ticks == tune.meter.bar_ticks for bar in bars)
    return tune


def tune_id(raw: RawTune) -> str:
    if raw.source == "oneills":
        number = re.sub(r"\D", "", raw.number) or raw.number
        return f"oneills/{int(number):04d}" if number.isdigit() else f"oneills/{number}"
    if raw.source == "ryans":
        return f"ryans/{raw.book}" if raw.number in ("", "1") else f"ryans/{raw.book}/{raw.number}"
    return f"{raw.source}/{raw.book}/{raw.number}"


def parse_abc_tune(raw: RawTune) -> Tune:
    """One corpus ABC tune -> Tune (no chords yet), style-labelled, in the style's meter.
    Raises Skip(reason) for anything unusable."""
    headers = abc_headers(raw.text)
    meter = parse_meter(headers.get("M", [""])[0])
    if meter is None:
        raise Skip("uncommon meter")
    style, _ = label_style(raw, headers, meter)
    tune = read_abc(raw.text, tune_id(raw), style)
    tune.title = tune.title or raw.book
    if (style, meter.name) in DOUBLE_METER:
        tune.meter = Meter.parse(DOUBLE_METER[(style, meter.name)])
        tune.parts, tune.pickup_ticks = _double_durations(tune.parts), tune.pickup_ticks * 2
    return check_tune(tune)


def _label_source(raw: RawTune) -> str | None:
    """How the tune's style label is found (see label_style); None without a usable meter."""
    headers = abc_headers(raw.text)
    meter = parse_meter(headers.get("M", [""])[0])
    return None if meter is None else label_style(raw, headers, meter)[1]


def _was_relabelled(raw: RawTune) -> bool:
    """Whether the tune's own style label was overruled by its meter (for the stats)."""
    return _label_source(raw) == OVERRULED


@lru_cache(maxsize=1)
def unnamed_style_ids() -> frozenset[str]:
    """The ids of the folk tunes whose style no word, book or section of theirs names: their
    meter labelled them (or overruled their name). A classifier asked to tell styles apart
    learns from and is judged on the others (composer.training.songs_eval). Read from the
    collections' headers in about a second."""
    return frozenset(tune_id(raw) for raw in folk_raw_tunes()
                     if _label_source(raw) in (BY_METER, OVERRULED))


def named(tunes: list[Tune]) -> list[Tune]:
    """The tunes whose own words, book or book section name their style. A style classifier
    learns from and is judged on these only (composer.training.songs_eval), and a style's
    rhythm is counted from them (style_rhythms): the 639 "airs" of Aird's and others that
    carry no style word are airs by their meter alone (many are quicksteps and song tunes),
    and with them in, human 2/4 marches were heard as marches 5 times in 40."""
    unnamed = unnamed_style_ids()
    return [t for t in tunes if t.id not in unnamed]


def parse_abc_chunk(chunk: list[RawTune]) -> list[tuple[str, dict | None, str]]:
    """Worker task: (tune id, cache row or None, skip reason or "") for each tune.

    A kept tune whose style label was overruled by its meter has the note "relabelled".
    """
    results = []
    for raw in chunk:
        try:
            tune = parse_abc_tune(raw)
            note = "relabelled" if _was_relabelled(raw) else ""
            results.append((tune.id, tune_to_json(tune), note))
        except Skip as skip:
            results.append((tune_id(raw), None, str(skip)))
        except Exception as exc:  # a bug or an odd corner of music21: count it, go on
            results.append((tune_id(raw), None, f"error: {type(exc).__name__}"))
    return results


# ---------------------------------------------------------------- Bach chorales

def chorale_paths() -> list[Path]:
    """The Bach files in music21's corpus; .krn only where no MusicXML of the work exists."""
    from music21 import corpus

    paths = [Path(p) for p in corpus.getCorePaths() if "bach" in Path(p).parts]
    xml = {p.stem for p in paths if p.suffix in (".mxl", ".xml")}
    keep = [p for p in paths if p.suffix in (".mxl", ".xml")
            or (p.suffix == ".krn" and p.stem not in xml)]
    return sorted(keep)


def parse_chorale(path: Path) -> Tune:
    """A four-part chorale -> Tune: the soprano as melody, one chord label per beat."""
    from music21 import converter

    from composer.training.harmony import chords_per_bar_for, label_sonority

    try:
        score = converter.parse(str(path))
    except Exception as exc:
        raise Skip("music21 error") from exc
    parts = list(score.parts)
    if len(parts) != 4:
        raise Skip("not four parts")
    signatures = score.recurse().getElementsByClass("TimeSignature")
    if not signatures:
        raise Skip("no meter")
    if len({ts.ratioString for ts in signatures}) > 1:
        raise Skip("meter change")
    meter = parse_meter(signatures[0].ratioString)
    if meter is None:
        raise Skip("uncommon meter")
    key = score.analyze("key")
    tonic, mode = key.tonic.pitchClass, ("minor" if key.mode == "minor" else "major")

    soprano = parts[0]
    if not soprano.hasMeasures():
        raise Skip("no measures")
    bars, pickup, starts = full_bars(measures_to_raw_bars(soprano), meter.bar_ticks)

    # Every voice's notes as (start, end, midi) in ticks from the first written note.
    voices = []
    for part in parts:
        events = []
        for n in part.flatten().notes:
            start = to_ticks(n.offset)
            events.append((start, start + to_ticks(n.quarterLength), n.pitches[-1].midi))
        voices.append(events)

    def sounding(tick: int) -> list[int]:
        found = []
        for events in voices:
            found.extend(midi for start, end, midi in events if start <= tick < end)
        return found

    tune = Tune("", "", "chorale", meter, tonic, mode, bars, pickup)
    slots = chords_per_bar_for(tune)
    step = meter.bar_ticks // slots
    previous: Chord | None = None
    for bar, bar_start in zip(tune.bars, starts, strict=True):
        chords = []
        for offset in range(0, meter.bar_ticks, step):
            chord = label_sonority(sounding(max(bar_start + offset, 0)), tonic) or previous
            if chord is None:  # an unlabelable opening sonority: assume the tonic
                chord = Chord(0, "maj" if mode == "major" else "min")
            chords.append((offset, chord))
            previous = chord
        bar.chords = chords
    number = path.stem if path.suffix in (".mxl", ".xml") else path.stem + "-krn"
    title = (score.metadata.title if score.metadata and score.metadata.title else number)
    return check_tune(Tune(f"bach/{number}", title, "chorale", meter, tonic, mode, bars, pickup))


def parse_chorale_task(path: Path) -> tuple[str, dict | None, str]:
    tune_name = f"bach/{path.stem}"
    try:
        tune = parse_chorale(path)
        return tune.id, tune_to_json(tune), ""
    except Skip as skip:
        return tune_name, None, str(skip)
    except Exception as exc:
        return tune_name, None, f"error: {type(exc).__name__}"


# ---------------------------------------------------------------- the build

def folk_raw_tunes(limit_files: int | None = None) -> list[RawTune]:
    """Every folk tune's ABC text, cut from the collections' files (fast: no music21 parse)."""
    from music21 import corpus

    raws = []
    paths = sorted(Path(p) for p in corpus.getCorePaths() if Path(p).suffix == ".abc")
    for path in paths:
        collection = next((c for c in FOLK_COLLECTIONS if c in path.parts), None)
        if collection is None:
            continue
        source = FOLK_COLLECTIONS[collection]
        if source == "essen" and path.stem.startswith(ESSEN_SKIP_BOOKS):
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        raws.extend(RawTune(source, path.stem, number, tune_text)
                    for number, tune_text in split_abc(text))
    if limit_files:  # a quick sample for trying the build: a few tunes of every book
        by_book: dict[str, list[RawTune]] = {}
        for raw in raws:
            by_book.setdefault(f"{raw.source}/{raw.book}", []).append(raw)
        raws = [r for book in by_book.values() for r in book[:limit_files]]
    return raws


def _dedupe_key(row: dict) -> str:
    """Same melody (pitches and durations, all bars) = same tune, whatever its id."""
    melody = " ".join(t.partition("|")[0] for part in row["parts"] for t in part)
    return hashlib.sha1(melody.encode()).hexdigest()


def parse_all(workers: int = 2, limit_files: int | None = None,
              with_chorales: bool = True) -> tuple[list[Tune], list[Tune], Counter, Counter]:
    """Parse every tune in parallel: (folk tunes, chorales, skipped by reason, relabelled)."""
    from multiprocessing import Pool

    from tqdm import tqdm

    raws = folk_raw_tunes(limit_files)
    random.Random(0).shuffle(raws)  # mix long and short books so the workers stay balanced
    chunks = [raws[i:i + CHUNK_TUNES] for i in range(0, len(raws), CHUNK_TUNES)]
    chorales = chorale_paths() if with_chorales else []
    if limit_files:
        chorales = chorales[: limit_files * 4]

    rows: list[tuple[str, dict | None, str]] = []
    with Pool(workers) as pool, tqdm(total=len(raws) + len(chorales), unit="tune",
                                     mininterval=5) as bar:
        for result in pool.imap_unordered(parse_chorale_task, chorales):
            rows.append(result)
            bar.update(1)
        for results in pool.imap_unordered(parse_abc_chunk, chunks):
            rows.extend(results)
            bar.update(len(results))

    skipped: Counter = Counter()
    seen_ids: set[str] = set()
    seen_melodies: set[str] = set()
    folk, bach = [], []
    relabelled: Counter = Counter()
    for tid, row, reason in sorted(rows, key=lambda r: r[0]):
        if row is None:
            skipped[reason] += 1
            continue
        if reason == "relabelled":
            relabelled[row["style"]] += 1
        melody = _dedupe_key(row)
        if tid in seen_ids or melody in seen_melodies:
            skipped["duplicate"] += 1
            continue
        seen_ids.add(tid)
        seen_melodies.add(melody)
        tune = tune_from_json(row)
        (bach if tune.style == "chorale" else folk).append(tune)
    return folk, bach, skipped, relabelled


def build_cache(workers: int = 2, out: Path | None = None,
                limit_files: int | None = None) -> dict:
    """Parse all, learn harmony from the chorales, harmonise the folk tunes, write the cache.

    Writes `out` (default composer/data/corpus.jsonl.gz), corpus_stats.json, harmony.json,
    key_profiles.json and style_rhythms.json next to it, prints a per-style table and
    returns the stats.
    `limit_files` (a few tunes per book) is for trying the pipeline quickly.
    """
    started = time.time()
    out = Path(out) if out else CACHE_PATH
    folk, bach, skipped, relabelled = parse_all(workers, limit_files)
    stats = {
        "skipped": dict(skipped.most_common()),
        "relabelled_by_meter": dict(relabelled.most_common()),
        "workers": workers,
        "seconds": {"parse": round(time.time() - started, 1)},
    }
    return _harmonise_and_write(folk, bach, out, stats, time.time())


def reharmonise_cache(path: Path | None = None) -> dict:
    """Re-learn the harmony from the cached chorales and re-label the cached folk tunes.

    Seconds instead of a full parse: for tuning composer.training.harmony. Keeps the parse stats.
    """
    started = time.time()
    path = Path(path) if path else CACHE_PATH
    tunes = load_corpus(path)
    bach = [t for t in tunes if t.style == "chorale"]
    folk = [t for t in tunes if t.style != "chorale"]
    stats_path = path.parent / STATS_PATH.name
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    stats.setdefault("seconds", {})
    return _harmonise_and_write(folk, bach, path, stats, started)


def key_of(tune: Tune) -> str:
    """A tune's key as the style tables count it: "D major", "E dorian"."""
    return key_label(tonic_name(tune.tonic, tune.mode), tune.mode)


def _counts_by_style(tunes: list[Tune], key: Callable[[Tune], str]) -> dict[str, dict[str, int]]:
    """{style: {value: tunes}}, most common first: what the style catalogue draws from."""
    by_style: dict[str, Counter] = {}
    for tune in tunes:
        by_style.setdefault(tune.style, Counter())[key(tune)] += 1
    return {style: dict(c.most_common()) for style, c in sorted(by_style.items())}


def _harmonise_and_write(folk: list[Tune], bach: list[Tune], out: Path, stats: dict,
                         started: float) -> dict:
    from composer.training import harmony, key_profiles, style_rhythms

    model = harmony.learn(bach)
    model.save(out.parent / HARMONY_PATH.name)
    # The chorales stay major/minor (Bach's raised sixths are melodic minor, not Dorian).
    folk = [replace(t, mode=modal_colour(t.melody(), t.tonic, t.mode)) for t in folk]
    folk = [harmony.harmonize(t, model, harmony.chords_per_bar_for(t)) for t in folk]
    tunes = sorted(bach + folk, key=lambda t: t.id)
    write_tunes(tunes, out)
    key_profiles.write(tunes, out.parent / KEY_PROFILES_PATH.name)
    style_rhythms.write(tunes, out.parent / STYLE_RHYTHMS_PATH.name)

    stats = {
        **stats,
        "tunes": len(tunes),
        "per_style": dict(sorted(Counter(t.style for t in tunes).items())),
        "per_source": dict(sorted(Counter(t.id.split("/")[0] for t in tunes).items())),
        "per_meter": dict(sorted(Counter(t.meter.name for t in tunes).items())),
        "per_mode": dict(sorted(Counter(t.mode for t in tunes).items())),
        "per_split": dict(sorted(Counter(split_of(t.id) for t in tunes).items())),
        "per_style_meter": _counts_by_style(tunes, lambda t: t.meter.name),
        "per_style_mode": _counts_by_style(tunes, lambda t: t.mode),
        "per_style_key": _counts_by_style(tunes, key_of),
        "bars": sum(len(t.bars) for t in tunes),
        "notes": sum(len(t.melody()) for t in tunes),
        "chord_tone_rate": {
            "chorales": round(harmony.chord_tone_rate(bach), 4),
            "harmonised_folk": round(harmony.chord_tone_rate(folk), 4),
        },
        "harmony_vocabulary": {mode: m.chords for mode, m in model.modes.items()},
        "cache_bytes": out.stat().st_size,
    }
    stats["seconds"]["harmony"] = round(time.time() - started, 1)
    stats["seconds"]["total"] = round(stats["seconds"].get("parse", 0)
                                      + stats["seconds"]["harmony"], 1)
    (out.parent / STATS_PATH.name).write_text(json.dumps(stats, indent=2) + "\n")
    print(f"{'style':<14}{'tunes':>7}")
    for style, count in stats["per_style"].items():
        print(f"{style:<14}{count:>7}")
    rates = stats["chord_tone_rate"]
    print(f"{'total':<14}{len(tunes):>7}   skipped {sum(stats.get('skipped', {}).values())}; "
          f"chord tones on strong beats: chorales {rates['chorales']:.3f}, "
          f"harmonised folk {rates['harmonised_folk']:.3f}; {stats['seconds']['total']:.0f} s")
    return stats


def write_fixture(source: Path | None = None, path: Path | None = None,
                  per_style: int = 6, seed: int = 0) -> list[Tune]:
    """Regenerate composer/data/tiny_corpus.jsonl.gz: a few real tunes of every style."""
    tunes = load_corpus(source)
    rng = random.Random(seed)
    picked = []
    for style in sorted({t.style for t in tunes}):
        of_style = sorted((t for t in tunes if t.style == style), key=lambda t: t.id)
        picked.extend(rng.sample(of_style, min(per_style, len(of_style))))
    write_tunes(sorted(picked, key=lambda t: t.id), Path(path) if path else TINY_CORPUS_PATH)
    return picked
