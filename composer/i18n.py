"""Translations: gettext catalogues (.po, read through Babel at first use), CLDR plurals and
numbers, and which language a text is written in.

English is the source language (the msgids); every other language is a folder
`locales/<lang>/LC_MESSAGES/<domain>.po`. The .po files are read directly (Babel compiles
them in memory), so a fresh clone needs no build step; adding a language is adding a folder.
`make messages` re-extracts the msgids from the code and merges them into every catalogue.
"""

from __future__ import annotations

import gettext
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

SOURCE = "en"
LOCALES = Path(__file__).parent / "locales"
# Clients whose own language has no catalogue yet but who read one we have.
FALLBACKS = {"uk": "ru", "be": "ru", "kk": "ru", "ky": "ru", "uz": "ru", "tg": "ru"}

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")


def N_(message: str) -> str:
    """Marks a msgid in a table for extraction; it is translated where it is shown."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural msgid pair in a table (see N_)."""
    return singular, plural


@cache
def catalogue(directory: Path, domain: str, lang: str) -> gettext.NullTranslations:
    """The translations of `domain` into `lang` (no catalogue: the English msgids)."""
    path = Path(directory) / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == SOURCE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # Babel compiles the .po in memory: no .mo files to build
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def languages(directory: Path = LOCALES) -> tuple[str, ...]:
    """The source language and every language with a catalogue in `directory`."""
    found = sorted(p.name for p in Path(directory).iterdir() if (p / "LC_MESSAGES").is_dir())
    return (SOURCE, *(lang for lang in found if lang != SOURCE))


def client_language(code: str | None, directory: Path = LOCALES) -> str:
    """A Telegram language_code ("ru", "pt-br", "uk") as a language we have."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    base = FALLBACKS.get(base, base)
    return base if base in languages(directory) else SOURCE


def script_language(text: str) -> str | None:
    """The language a request's own letters say: Cyrillic is Russian, two or more Latin
    words are English; None when the text says nothing (a number, one Latin word)."""
    text = text or ""
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if cyrillic and cyrillic >= latin / 3:
        return "ru"
    latin_words = [w for w in _WORD.findall(text) if _LATIN.match(w)]
    return "en" if len(latin_words) >= 2 else None


@cache
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE)


def number(value: float, lang: str, digits: int = 1) -> str:
    """A number as the language writes it: 1,234.5 / 1 234,5."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale(lang))


def plural_category(count: int, lang: str) -> str:
    """CLDR's plural category of a count: "one", "few", "many", "other"."""
    return _locale(lang).plural_form(abs(count))


@dataclass(frozen=True)
class Words:
    """One language's words from one catalogue: `words("a waltz")`, `words.n(...)`."""

    lang: str
    translations: gettext.NullTranslations

    def __call__(self, message: str, /, **values: object) -> str:
        return self.fill(self.translations.gettext(message), values)

    def n(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """A count's phrase in its CLDR plural form: 1 песня, 2 песни, 5 песен, 21 песня."""
        text = self.translations.ngettext(singular, plural, count)
        return self.fill(text, {"count": count, **values})

    def p(self, context: str, message: str, /, **values: object) -> str:
        """A msgid with a context: pgettext("style", "air") (the same English word means
        different things in different places)."""
        return self.fill(self.translations.pgettext(context, message), values)

    def has(self, context: str, message: str) -> bool:
        """Whether the catalogue translates this (the source language has every word)."""
        return self.lang == SOURCE or self.translations.pgettext(context, message) != message

    def fill(self, template: str, values: dict[str, object]) -> str:
        if not values:
            return template
        shown = {k: self.format(v) for k, v in values.items()}
        return template.format(**shown)

    def format(self, value: object) -> object:
        """Numbers as the language writes them; everything else as it is."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return number(value, self.lang)


def words_for(lang: str, directory: Path = LOCALES, domain: str = "composer") -> Words:
    """The words of `lang` from `directory`'s catalogue (English when there is none)."""
    return Words(lang, catalogue(Path(directory), domain, lang))
