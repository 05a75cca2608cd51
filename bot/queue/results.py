"""The files of a finished job: one folder per job, and how it travels from worker to bot.

Everything here is JSON or plain bytes: nothing that crosses Redis is unpickled, and every
file name read back is checked (bot/queue/wire.py) before it is joined to a folder.

A job's folder holds <slug>.mp3/.mid/.png/.pdf/.musicxml/.jpg/.json and job-result.json, the
manifest, written last: a folder with a manifest is complete. It is written as
"<job>.partial" and renamed, so a crash leaves a whole song or none. In distributed mode the
folder travels through Redis as one hash (the files and the manifest, with a TTL), or stays
in a folder both sides see.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from bot.queue import wire
from composer.song import Rendered, SongRecord

MANIFEST = "job-result.json"  # written last: its presence means the job's files are complete
FILE_KINDS = ("mp3", "midi", "png", "json", "ogg", "pdf", "musicxml", "cover")


def scratch_of(out_dir: Path) -> Path:
    """Where a job's files are written before they are renamed into place."""
    scratch = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return scratch


def write_result(rendered: Rendered, scratch: Path, out_dir: Path) -> dict[str, Any]:
    """Write the manifest of a rendered song into scratch, move scratch to out_dir; the result.

    `rendered` is a composer.song.Rendered whose files are in scratch; its SongRecord travels
    in the manifest as "info" (read back with SongRecord.from_json).
    """
    info = SongRecord.load(rendered.json).to_json()  # checked here: the bot can rely on it
    names = {
        "mp3": rendered.mp3,
        "midi": rendered.midi,
        "png": rendered.png,
        "json": rendered.json,
        "ogg": rendered.ogg,
        "pdf": rendered.pdf,
        "musicxml": rendered.musicxml,
        "cover": rendered.cover,
    }
    result = {
        **{kind: Path(path).name if path else None for kind, path in names.items()},
        "duration_seconds": float(rendered.duration_seconds),
        "timings": dict(rendered.timings),
        "info": info,
    }
    (scratch / MANIFEST).write_text(json.dumps(result, ensure_ascii=False, default=str))
    shutil.rmtree(out_dir, ignore_errors=True)
    scratch.rename(out_dir)
    manifest = read_manifest(out_dir)
    assert manifest is not None, out_dir
    return manifest


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The result of a finished job from its files (absolute paths), or None if incomplete.
    Raises wire.Untrusted for a manifest that names files outside its folder."""
    try:
        result = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict):
        raise wire.Untrusted("a manifest that is not an object")
    for name in FILE_KINDS:
        if result.get(name):
            result[name] = str(out_dir / wire.file_name(result[name]))
            if not Path(result[name]).exists():
                return None
    return result


def open_early_audio(out_dir: Path, name: str) -> BinaryIO | None:
    """The MP3 a job reported before its other files, opened wherever it is now: in the
    scratch folder, or in out_dir once the job is renamed into place (a rename is atomic:
    one of the two has it). None if it is gone: the job failed after the MP3."""
    name = wire.file_name(name)
    for folder in (out_dir.with_name(out_dir.name + ".partial"), out_dir):
        try:
            return open(folder / name, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            continue
    return None


def pack(out_dir: Path) -> dict[str, bytes]:
    """A finished job folder as {file name: bytes} (the manifest included), for Redis."""
    return {path.name: path.read_bytes() for path in sorted(out_dir.iterdir()) if path.is_file()}


def unpack(files: dict[Any, bytes], out_dir: Path) -> dict[str, Any] | None:
    """Write a packed job folder to out_dir (whole or nothing); its result, or None if the
    manifest is missing (the files expired, or Redis lost them). Raises wire.Untrusted for a
    file name that is not a bare name."""
    named = {
        wire.file_name(k.decode(errors="replace") if isinstance(k, bytes) else str(k)): v
        for k, v in files.items()
    }
    if MANIFEST not in named:
        return None
    scratch = scratch_of(out_dir)
    for name, data in named.items():
        if name != MANIFEST:
            (scratch / name).write_bytes(data)
    (scratch / MANIFEST).write_bytes(named[MANIFEST])  # last, as always
    shutil.rmtree(out_dir, ignore_errors=True)
    scratch.rename(out_dir)
    return read_manifest(out_dir)


def names_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest with bare file names instead of paths (what travels in a task result)."""
    return {
        k: wire.file_name(Path(str(v)).name) if k in FILE_KINDS and v else v
        for k, v in manifest.items()
    }
