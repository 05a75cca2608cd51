"""A tune written in a message among the words: ABC pasted in, or note names.

The bot and `isadei compose` both read a message so: the tune goes to composer.listen
(`listen_text`), the other words are the request ("as a waltz, please").
"""

from __future__ import annotations

import re

from composer.note_names import read_note_names

ABC_HEADER = re.compile(r"^[ \t]*[A-Za-z]:", re.MULTILINE)
ABC_KEY = re.compile(r"^[ \t]*K:.*$", re.MULTILINE)


def written_tune(text: str) -> tuple[str, str] | None:
    """A tune written in a message, as ABC or as note names ("E D C D E E E", "ми ре до"):
    (the tune's text, the other words: "as a waltz please"); None for plain words."""
    abc = abc_block(text)
    if abc is not None:
        return abc
    names = read_note_names(text)
    return (names.text, names.words) if names else None


def abc_block(text: str) -> tuple[str, str] | None:
    """ABC pasted into a message (header lines such as X:1, T:, M:6/8, then K:D and the
    notes) → (the ABC, the words before it: "as a waltz please"); None for plain words."""
    key = ABC_KEY.search(text or "")
    if key is None:
        return None
    headers = [m.start() for m in ABC_HEADER.finditer(text) if m.start() <= key.start()]
    notes_after = text[key.end():].strip()
    if len(headers) < 2 and not notes_after:  # "K: something" alone is not a tune
        return None
    start = headers[0]
    return text[start:].strip(), text[:start].strip()
