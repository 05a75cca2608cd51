"""Names in the user's language: styles, keys, modes, instruments, sections, titles, and a
request described in a phrase ("a sad waltz in D minor for violin" / "грустный вальс ре минор
для скрипки").

The words come from the gettext catalogue (composer/locales). Languages with grammatical
gender and case say, through the catalogue, which gender a style name has ("style, gender")
and give adjectives per gender and case ("adjective, f, accusative"); English needs neither.
"""

from __future__ import annotations

from composer.i18n import N_, SOURCE, Words, words_for
from composer.instruments import INSTRUMENTS, Instrument, get_instrument
from composer.styles import STYLE_LABELS, STYLES

NOMINATIVE, ACCUSATIVE = "nominative", "accusative"
SECTION_KINDS = ("Intro", "Verse", "Chorus", "Bridge", "Coda", "Part")  # context "section"
FAST, SLOW = "lively", "slow"  # context "adjective[, gender[, case]]"
IN_MODE = {"major": N_("in a major key"), "minor": N_("in a minor key"),
           "dorian": N_("in the Dorian mode"), "mixolydian": N_("in the Mixolydian mode")}


def words(lang: str | None) -> Words:
    return words_for(lang or SOURCE)


def style_name(style_id: str, lang: str | None, case: str = NOMINATIVE) -> str:
    """ "waltz" / "вальс"; the accusative is the form after "composing" (колыбельную)."""
    english = STYLE_LABELS.get(style_id, (style_id.replace("-", " "),))[0]
    w = words(lang)
    if case == ACCUSATIVE and w.has("style, accusative", english):
        return w.p("style, accusative", english)
    return w.p("style", english)


def style_title(style_id: str, lang: str | None) -> str:
    """A style as a button or heading: "Waltz" / "Вальс"."""
    name = style_name(style_id, lang)
    return name[:1].upper() + name[1:]


def mode_name(mode: str, lang: str | None) -> str:
    return words(lang).p("mode", mode)


def key_name(key: str, mode: str, lang: str | None) -> str:
    """ "D minor" / "ре минор", "Bb dorian" / "си-бемоль дорийский"."""
    w = words(lang)
    return w("{tonic} {mode}", tonic=w.p("key", key), mode=mode_name(mode, lang))


def _instrument(name: str | None) -> Instrument | None:
    if not name:
        return None
    try:
        return get_instrument(name)
    except ValueError:
        return None


def instrument_name(name: str | None, lang: str | None) -> str:
    """ "violin" / "скрипка" (a GM name or alias); an unknown name as it is."""
    instrument = _instrument(name)
    return words(lang).p("instrument", instrument.label) if instrument else str(name or "")


def instrument_after_for(name: str, lang: str | None) -> str:
    """The form after "for": "for violin" / "для скрипки"."""
    instrument = _instrument(name)
    if instrument is None:
        return name
    return words(lang).p("instrument, after for", instrument.label)


def section_name(name: str, lang: str | None) -> str:
    """ "Verse 2" / "Куплет 2", "Part A" / "Часть A"."""
    kind, _, rest = name.partition(" ")
    if kind not in SECTION_KINDS:
        return name
    local = words(lang).p("section", kind)
    return f"{local} {rest}" if rest else local


def section_label(kind: str, name: str, times: int, lang: str | None) -> str:
    """A lead sheet's label: "Chorus (×3)" / "Припев (×3)"."""
    label = section_name(kind if kind in ("Verse", "Chorus", "Bridge") else name, lang)
    return f"{label} (×{times})" if times > 1 else label


def title(style_id: str, key: str, mode: str, lang: str | None) -> str:
    """A song's title: "Waltz in D minor" / "Вальс ре минор"."""
    return words(lang)("{what} in {key}", what=style_title(style_id, lang),
                       key=key_name(key, mode, lang))


def tempo_word(style_id: str, tempo_bpm: int | None) -> str | None:
    """ "lively" near the top of the style's tempo range, "slow" near the bottom."""
    style = STYLES.get(style_id)
    if style is None or not tempo_bpm:
        return None
    low, high = style.tempo_range
    place = (tempo_bpm - low) / max(1, high - low)
    return FAST if place >= 0.75 else SLOW if place <= 0.25 else None


def describe(request, lang: str | None = None, case: str = NOMINATIVE) -> str:
    """A request in a phrase: "a sad waltz in D minor for violin" / "грустный вальс ре минор
    для скрипки"; accusative: the Russian form after "сочиняю" ("грустную колыбельную")."""
    lang = lang or getattr(request, "lang", None) or SOURCE
    w = words(lang)
    style = STYLES.get(request.style)
    english = STYLE_LABELS.get(request.style, (request.style,))[0]
    default_mode = style.default_mode if style else "major"
    phrase = style_name(request.style, lang, case)
    pace = tempo_word(request.style, request.tempo_bpm)
    if pace and pace not in english:  # not "a slow slow air"
        gender = w.p("style, gender", english)  # languages with genders say which
        context = "adjective" if gender == english else f"adjective, {gender}"
        if case == ACCUSATIVE and w.has(f"{context}, accusative", pace):
            context += ", accusative"
        phrase = w("{adjective} {what}", adjective=w.p(context, pace), what=phrase)
    article = N_("an {what}") if phrase[:1].lower() in "aeiou" else N_("a {what}")
    phrase = w(article, what=phrase)
    if request.key:
        phrase = w("{what} in {key}", what=phrase,
                   key=key_name(request.key, request.mode or default_mode, lang))
    elif request.mode in IN_MODE and request.mode != default_mode:  # the mode when it is news
        phrase = w("{what} {in_mode}", what=phrase, in_mode=w(IN_MODE.get(request.mode, "")))
    meter = getattr(request, "meter", None)
    if meter and style and meter != style.meters[0]:
        phrase = w("{what} in {meter}", what=phrase, meter=meter)
    melody = _instrument(request.instrument)
    accompaniment = _instrument(getattr(request, "accompaniment", None))
    if melody and accompaniment:
        phrase = w("{what} for {instrument} and {accompaniment}", what=phrase,
                   instrument=instrument_after_for(melody.name, lang),
                   accompaniment=instrument_after_for(accompaniment.name, lang))
    elif melody:
        phrase = w("{what} for {instrument}", what=phrase,
                   instrument=instrument_after_for(melody.name, lang))
    return phrase


def every_name() -> list[tuple[str, str]]:
    """(context, msgid) of every name this module looks up: what a catalogue must hold."""
    names = [("style", label[0]) for label in STYLE_LABELS.values()]
    names += [("style, gender", label[0]) for label in STYLE_LABELS.values()]
    names += [("mode", mode) for mode in IN_MODE]
    names += [("key", key) for key in ("C", "C#", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab",
                                       "A", "Bb", "B")]
    names += [("instrument", i.label) for i in INSTRUMENTS.values()]
    names += [("instrument, after for", i.label) for i in INSTRUMENTS.values()]
    names += [("section", kind) for kind in SECTION_KINDS]
    names += [("style, accusative", label[0]) for label in STYLE_LABELS.values()]
    # Languages with genders and cases (Russian: "m", "f"); others leave these empty.
    names += [(context, word) for word in (FAST, SLOW)
              for context in ("adjective, m", "adjective, f", "adjective, f, accusative")]
    return names
