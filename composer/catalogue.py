"""Keeping the gettext catalogues current: `python -m composer.catalogue` (`make messages`)
extracts every msgid from the code (plus the names composer.naming looks up by context) and
merges them into each language's .po, keeping what is translated. New msgids come in empty,
for a translator; a language is added by creating its folder (`locales/de/LC_MESSAGES`)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

KEYWORDS = {"N_": None, "NN_": (1, 2), "words": None, "w": None, "p": ((1, "c"), 2), "n": (1, 2)}
ROOT = Path(__file__).resolve().parents[1]


def template(source: Path, extra: list[tuple[str, str]] = ()) -> Catalog:
    """Every msgid of the Python files under `source`, and (context, msgid) pairs in `extra`."""
    catalog = Catalog()
    for _, _, message, _, context in extract_from_dir(
            source, method_map=[("**.py", "python")], keywords=KEYWORDS):
        catalog.add(message, context=context)
    for context, message in extra:
        catalog.add(message, context=context)
    return catalog


def update(directory: Path, domain: str, pot: Catalog) -> list[Path]:
    """Merge the template into every language's catalogue under `directory`."""
    written = []
    for folder in sorted(p for p in directory.iterdir() if (p / "LC_MESSAGES").is_dir()):
        path = folder / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=folder.name, domain=domain)
        else:
            catalog = Catalog(locale=folder.name, domain=domain)
        catalog.update(pot, no_fuzzy_matching=True)
        with path.open("wb") as po:
            write_po(po, catalog, omit_header=False, no_location=True, ignore_obsolete=True,
                     width=100)
        written.append(path)
    return written


def templates() -> list[tuple[Path, str, Catalog]]:
    """(locales folder, domain, template) of each catalogue Isadei has."""
    from composer.naming import every_name

    bot = ROOT / "bot" / "telegram"
    return [
        (ROOT / "composer" / "locales", "composer",
         template(ROOT / "composer", every_name())),
        (bot / "locales", "bot", template(bot)),
    ]


if __name__ == "__main__":
    for directory, domain, pot in templates():
        for path in update(directory, domain, pot):
            print(path.relative_to(ROOT))
