"""Job records: every accepted request is a row in SQLite before the bot says "on it".

States: queued → composing → rendering → sending → done | failed | cancelled.
Sending is recorded per step (the file_id of the audio, the MIDI, the sheet, the PDF and the
MusicXML once each is sent), so a job resumed after a restart sends only what is missing; the
audio may go out while the job is still rendering (embedded mode, as soon as the MP3 is ready).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.settings import SettingsError
from composer.song import COMPOSING, RENDERING

QUEUED, SENDING = "queued", "sending"  # composing and rendering: the composer's stages
DONE, FAILED, CANCELLED = "done", "failed", "cancelled"
ACTIVE = (QUEUED, COMPOSING, RENDERING, SENDING)
FINISHED = (DONE, FAILED, CANCELLED)

_JSON_FIELDS = ("request", "timings", "result")
TYPICAL_WINDOW = 20  # the typical latency follows roughly the last this many songs


class DuplicateJob(Exception):
    """The same Telegram message or tap was already accepted (an update delivered twice)."""


@dataclass
class Job:
    id: str
    source: str  # "m:<chat>:<message>", "cb:<callback id>", ...: one job per incoming update
    user_id: int
    chat_id: int
    request: dict[str, Any]  # SongRequest.to_json() plus "text"
    seed: int
    chat_type: str = "private"
    message_id: int | None = None  # the user's message, replied to
    thread_id: int | None = None  # the forum topic it was asked in: the answers go there too
    lang: str = "en"
    song_key: str = ""  # same request + same seed = same song = same file_ids
    parent_id: str | None = None  # the job whose button made this one
    state: str = QUEUED
    status_message_id: int | None = None
    failures: int = 0
    error: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] | None = None  # what the compose task returned
    audio_file_id: str | None = None  # set = audio sent
    midi_file_id: str | None = None  # set = MIDI sent
    sheet_file_id: str | None = None  # set = sheet music sent
    pdf_file_id: str | None = None  # set = the whole score (PDF) sent
    musicxml_file_id: str | None = None  # set = the MusicXML sent
    audio_message_id: int | None = None
    caption_pending: int = 0  # 1: the audio went out before its record; delivery completes it
    in_process: int = 0  # 1 while this bot process composes it (embedded): a crash leaves 1
    crashes: int = 0  # how often the bot died while composing it

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


def new_job_id() -> str:
    """Short enough for callback_data ("again:<id>" ≤ 64 bytes), unguessable enough."""
    return "j" + secrets.token_hex(5)


def song_key(request: dict[str, Any], seed: int) -> str:
    """Identifies the song a request + seed makes (composing is deterministic)."""
    data = {k: v for k, v in request.items() if k not in ("text", "notes", "seed")}
    blob = json.dumps([data, seed], sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class JobStore:
    """Job records over sqlite3 (WAL). Used from the bot's event loop only: calls are short.

    One bot per data folder: the store holds an exclusive lock on <db>.lock while it is open
    (two bots on one folder would both resume, and send, the same jobs)."""

    def __init__(self, path: Path | str):
        self.lock_fd: int | None = None
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.lock_fd = take_lock(Path(path).with_suffix(".lock"))
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        columns = ", ".join(_column(f.name) for f in fields(Job))
        self.db.execute(f"CREATE TABLE IF NOT EXISTS jobs ({columns})")
        have = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)")}
        for f in fields(Job):  # a database from an older version: add the new columns
            if f.name not in have:
                default = f" DEFAULT {f.default}" if isinstance(f.default, int) else ""
                self.db.execute(f"ALTER TABLE jobs ADD COLUMN {f.name}{default}")
        # Running figures (the typical latency...): updated as jobs finish, never recomputed.
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS figures (name TEXT PRIMARY KEY, value REAL, n INTEGER)"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (state, finished_at)")
        self.db.execute("CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id, created_at)")
        self.db.execute("CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at)")
        self.db.execute("CREATE INDEX IF NOT EXISTS jobs_song ON jobs (song_key)")

    def close(self) -> None:
        self.db.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # releases the lock
            self.lock_fd = None

    # -- writing --

    def create(self, job: Job) -> Job:
        """Insert a new job; DuplicateJob if its source was seen before."""
        job.created_at = job.created_at or time.time()
        job.song_key = job.song_key or song_key(job.request, job.seed)
        row = {f.name: _dump(f.name, getattr(job, f.name)) for f in fields(Job)}
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        try:
            self.db.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", row)
        except sqlite3.IntegrityError as error:
            if "source" in str(error):
                raise DuplicateJob(job.source) from None
            raise
        return job

    def update(self, job_id: str, **changes: Any) -> Job:
        """Set some fields of a job and return the job as it now is."""
        if changes:
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            values = {name: _dump(name, value) for name, value in changes.items()}
            self.db.execute(
                f"UPDATE jobs SET {assignments} WHERE id = :_id", {**values, "_id": job_id}
            )
        job = self.get(job_id)
        assert job is not None, job_id
        if changes.get("state") == DONE and job.finished_at:
            self.observe("latency", job.finished_at - job.created_at)
        return job

    def observe(self, name: str, value: float) -> None:
        """Fold one value into a running figure: the mean of the first TYPICAL_WINDOW values,
        then an exponential moving average over about as many (O(1) per finished job)."""
        self.db.execute(
            "INSERT INTO figures (name, value, n) VALUES (?, ?, 1) ON CONFLICT(name) DO UPDATE "
            "SET value = value + (excluded.value - value) / MIN(n + 1, ?), n = n + 1",
            (name, value, TYPICAL_WINDOW),
        )

    def figure(self, name: str) -> float | None:
        """A running figure (None before the first value)."""
        row = self.db.execute("SELECT value FROM figures WHERE name = ?", (name,)).fetchone()
        return None if row is None else float(row[0])

    def typical_seconds(self) -> float | None:
        """How long a song typically takes, request to reply (the running figure)."""
        return self.figure("latency")

    def purge(self, before: float) -> int:
        """Delete the records of jobs finished before `before`; how many."""
        marks = ", ".join("?" * len(FINISHED))
        cursor = self.db.execute(
            f"DELETE FROM jobs WHERE state IN ({marks}) AND COALESCE(finished_at, created_at) < ?",
            (*FINISHED, before),
        )
        return cursor.rowcount

    def active_ids(self) -> set[str]:
        marks = ", ".join("?" * len(ACTIVE))
        return {row[0] for row in self.db.execute(f"SELECT id FROM jobs WHERE state IN ({marks})",
                                                  ACTIVE)}

    def cancel_queued(self, user_id: int) -> list[Job]:
        """Cancel the user's jobs that have not started yet; returns them."""
        jobs = self._select("user_id = ? AND state = ?", (user_id, QUEUED))
        now = time.time()
        for job in jobs:
            self.update(job.id, state=CANCELLED, finished_at=now)
        return [self.update(job.id) for job in jobs]

    # -- reading --

    def get(self, job_id: str) -> Job | None:
        rows = self._select("id = ?", (job_id,))
        return rows[0] if rows else None

    def active(self, user_id: int | None = None) -> list[Job]:
        """Unfinished jobs, oldest first (all of them, or one user's)."""
        marks = ", ".join("?" * len(ACTIVE))
        if user_id is None:
            return self._select(f"state IN ({marks})", ACTIVE)
        return self._select(f"state IN ({marks}) AND user_id = ?", (*ACTIVE, user_id))

    def created_since(self, user_id: int, since: float) -> list[Job]:
        """The user's jobs created after `since` (cancelled ones do not count), oldest first."""
        return self._select(
            "user_id = ? AND created_at >= ? AND state != ?", (user_id, since, CANCELLED)
        )

    def position(self, job: Job) -> int:
        """1 = first in line: unfinished jobs created before this one, plus one."""
        marks = ", ".join("?" * len(ACTIVE))
        (ahead,) = self.db.execute(
            f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks}) AND created_at < ?",
            (*ACTIVE, job.created_at),
        ).fetchone()
        return ahead + 1

    def queued_ahead(self, job: Job) -> int:
        """How many jobs still waiting to be taken were created before this one."""
        (ahead,) = self.db.execute(
            "SELECT COUNT(*) FROM jobs WHERE state = ? AND created_at < ?",
            (QUEUED, job.created_at),
        ).fetchone()
        return ahead

    def count_active(self) -> dict[str, int]:
        """Unfinished jobs per state."""
        marks = ", ".join("?" * len(ACTIVE))
        rows = self.db.execute(
            f"SELECT state, COUNT(*) FROM jobs WHERE state IN ({marks}) GROUP BY state", ACTIVE
        ).fetchall()
        return {state: count for state, count in rows}

    def recent_songs(self, user_id: int, limit: int = 20) -> list[Job]:
        """The user's songs that have a Telegram file_id, newest first."""
        rows = self.db.execute(
            "SELECT * FROM jobs WHERE user_id = ? AND audio_file_id IS NOT NULL "
            "ORDER BY created_at DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        return [_job(row) for row in rows]

    def uploaded(self, key: str) -> Job | None:
        """A finished job of the same song whose files Telegram already has."""
        rows = self._select(
            "song_key = ? AND state = ? AND audio_file_id IS NOT NULL AND midi_file_id IS NOT NULL "
            "AND sheet_file_id IS NOT NULL AND result IS NOT NULL",
            (key, DONE),
        )
        return rows[0] if rows else None

    def stats(self, since: float) -> dict[str, Any]:
        """Songs done and failed since `since`, queue length, latency p50/p95 in seconds."""
        latencies = [
            finished - created
            for created, finished in self.db.execute(  # two columns, not whole records
                "SELECT created_at, finished_at FROM jobs WHERE state = ? AND finished_at >= ?",
                (DONE, since),
            )
        ]
        (failed,) = self.db.execute(
            "SELECT COUNT(*) FROM jobs WHERE state = ? AND finished_at >= ?", (FAILED, since)
        ).fetchone()
        counts = self.count_active()
        return {
            "done": len(latencies),
            "failed": failed,
            "active": sum(counts.values()),
            "queued": counts.get(QUEUED, 0),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
        }

    def _select(self, where: str, params: tuple = ()) -> list[Job]:
        rows = self.db.execute(
            f"SELECT * FROM jobs WHERE {where} ORDER BY created_at, rowid", params
        ).fetchall()
        return [_job(row) for row in rows]


def _column(name: str) -> str:
    if name == "id":
        return "id TEXT PRIMARY KEY"
    if name == "source":
        return "source TEXT UNIQUE"
    return name


def _dump(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    for name in _JSON_FIELDS:
        if data.get(name) is not None:
            data[name] = json.loads(data[name])
    data["timings"] = data.get("timings") or {}
    return Job(**data)


def take_lock(path: Path) -> int:
    """An exclusive lock on `path` for as long as the process holds the returned descriptor
    (the kernel lets go when the process dies, even by kill -9); SettingsError if taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise SettingsError(
            f"another isadei bot (pid {owner}) is using the data folder {path.parent}: one bot "
            "per data folder (stop the other one, or give this one its own ISADEI_DATA_DIR)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
