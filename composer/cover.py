"""Cover art for a song: a square JPEG of the first bars of its sheet music, and that picture
embedded in the MP3 (an ID3 APIC frame), so players and Telegram's music player show it.

One picture serves both: Telegram takes an audio's thumbnail only as a JPEG of at most
320×320 pixels and 200 kB, and that is plenty for the small square a player shows.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

COVER_SIZE = 320  # pixels a side: Telegram's largest thumbnail
COVER_MAX_BYTES = 200_000  # Telegram's limit for a thumbnail
JPEG_QUALITY = 85  # sharp staff lines at ~20-40 kB


def cover_jpeg(page_png: bytes, size: int = COVER_SIZE) -> bytes:
    """The top square of a sheet's first page (title, first systems), scaled to `size`.

    A page shorter than it is wide (a short song) is centred on a white square instead.
    """
    from PIL import Image

    with Image.open(io.BytesIO(page_png)) as page:
        page = page.convert("RGB")  # the PNG is painted on white: no alpha to lose
        width, height = page.size
        square = Image.new("RGB", (width, width), "white")
        square.paste(page.crop((0, 0, width, min(height, width))),
                     (0, max(0, (width - height) // 2)))
    square = square.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def embed_cover(mp3: Path, jpeg: bytes) -> None:
    """Add `jpeg` as the front cover to the MP3's ID3 tags, keeping the tags it was written with.

    The MP3 may already be on its way to a listener (render's on_audio): the tagged copy is
    written beside it and renamed over it, so a reader sees the old file or the new one.
    """
    from mutagen.id3 import APIC, ID3, ID3NoHeaderError, PictureType

    from composer.midi import staged

    with staged(mp3) as tmp:
        shutil.copyfile(mp3, tmp)
        try:
            tags = ID3(tmp)
        except ID3NoHeaderError:
            tags = ID3()
        tags.delall("APIC")
        tags.add(APIC(encoding=3, mime="image/jpeg", type=PictureType.COVER_FRONT,
                      desc="Cover", data=jpeg))
        tags.save(tmp, v2_version=3)  # ID3v2.3, as composer.encode writes it
