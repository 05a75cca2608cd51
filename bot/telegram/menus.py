"""The small menus under a song: instrument, mood, key, length. A menu opens in place of the
song's buttons ("menu:<kind>:<job>"); a choice ("set:<kind><index>:<job>") composes a new take
of the song with that one thing changed; "back:<job>" brings the song's buttons back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.jobs import Job
from bot.telegram.texts import duration, t
from composer import naming

INSTRUMENTS = (
    "acoustic grand piano", "violin", "flute", "acoustic guitar (nylon)", "clarinet", "cello",
    "trumpet", "orchestral harp", "accordion", "music box", "celesta", "pan flute",
)
MOODS = ("major", "minor", "dorian", "mixolydian")
KEYS = ("C", "G", "D", "A", "E", "F", "Bb", "Eb")
LENGTHS = (30, 60, 120, 180, 300)


@dataclass(frozen=True)
class Menu:
    kind: str  # "inst", "mood", "key", "len": also the callback's name for it
    field: str  # the SongRequest field a choice sets
    options: tuple[Any, ...]
    per_row: int


MENUS = {
    "inst": Menu("inst", "instrument", INSTRUMENTS, 3),
    "mood": Menu("mood", "mode", MOODS, 2),
    "key": Menu("key", "key", KEYS, 4),
    "len": Menu("len", "length_seconds", LENGTHS, 3),
}


def option_label(menu: Menu, value: Any, lang: str) -> str:
    if menu.kind == "inst":
        return naming.instrument_name(value, lang)
    if menu.kind == "mood":
        return t(lang, {"major": "mood_cheerful", "minor": "mood_sad", "dorian": "mood_dorian",
                        "mixolydian": "mood_mixolydian"}[value])
    if menu.kind == "key":
        return naming.words(lang).p("key", value)
    return duration(lang, value)


def menu_keyboard(kind: str, job: Job, lang: str) -> InlineKeyboardMarkup:
    """A menu's options, then a way back to the song's buttons (callback_data ≤ 64 bytes)."""
    menu = MENUS[kind]
    buttons = [
        InlineKeyboardButton(option_label(menu, value, lang),
                             callback_data=f"set:{kind}{i}:{job.id}")
        for i, value in enumerate(menu.options)
    ]
    rows = [buttons[i : i + menu.per_row] for i in range(0, len(buttons), menu.per_row)]
    rows.append([InlineKeyboardButton(t(lang, "btn_back"), callback_data=f"back:{job.id}")])
    return InlineKeyboardMarkup(rows)


def menu_title(kind: str, lang: str) -> str:
    return t(lang, {"inst": "menu_instrument", "mood": "menu_mood", "key": "menu_key",
                    "len": "menu_length"}[kind])


def choice(option: str) -> tuple[str, Any] | None:
    """ "inst3" → ("instrument", "cello"); None for anything else (forged data too)."""
    for kind, menu in MENUS.items():
        index = option.removeprefix(kind)
        if option.startswith(kind) and index.isdigit() and int(index) < len(menu.options):
            return menu.field, menu.options[int(index)]
    return None


def apply_choice(request: dict[str, Any], option: str) -> dict[str, Any] | None:
    """The parent's request with one field changed by a menu choice."""
    picked = choice(option)
    if picked is None:
        return None
    field, value = picked
    changed = {**request, field: value, "notes": []}
    if field == "mode" and not request.get("key"):
        changed["key"] = None  # the composer picks a key that suits the new mode
    return changed
