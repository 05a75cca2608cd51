"""What comes back from Redis, checked before it is used.

Whoever can write one key in Redis can write any of this, so it is read as JSON (never
unpickled, never turned into a Python class by name) and every id or file name in it must be
a plain name that stays inside its folder. Anything else is `Untrusted`: the attempt fails
(and is retried, then apologised for); nothing is opened, written or run because of it.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from composer.song import COMPOSING, RENDERING

JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TASK_ID = re.compile(r"([A-Za-z0-9_-]{1,64})\.([0-9]{1,4})")
STAGES = (COMPOSING, RENDERING)


class Untrusted(ValueError):
    """Something read back from Redis is not what Isadei writes there."""


def job_id(value: Any) -> str:
    """A job id: letters, digits, _ and -, nothing that could be a path."""
    if not isinstance(value, str) or not JOB_ID.fullmatch(value):
        raise Untrusted(f"not a job id: {str(value)[:80]!r}")
    return value


def task_id_of(value: Any, job: str) -> str:
    """A task id "<job>.<attempt>" of this job."""
    match = TASK_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None or match.group(1) != job:
        raise Untrusted(f"not a task id of {job}: {str(value)[:80]!r}")
    return value


def file_name(value: Any) -> str:
    """A bare file name (no folder, no "..", no hidden file, no NUL)."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= 255
        or value.startswith(".")
        or any(c in value for c in "/\\\x00")
        or PurePosixPath(value).name != value
    ):
        raise Untrusted(f"not a file name: {str(value)[:80]!r}")
    return value


def loads(raw: bytes | str | None, what: str) -> Any:
    """JSON, or Untrusted."""
    try:
        return json.loads(raw) if raw is not None else None
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise Untrusted(f"{what} is not JSON: {error}") from None


def outcome(raw: bytes | str) -> tuple[dict[str, Any] | None, str | None]:
    """A stored task result (taskiq's TaskiqResult, as JSON): (value, None) or (None, error).

    The error stays text: taskiq would rebuild the exception class it names, from any module.
    """
    data = loads(raw, "a result")
    if not isinstance(data, dict) or not isinstance(data.get("is_err"), bool):
        raise Untrusted("a result without is_err")
    if data["is_err"]:
        error = data.get("error")
        if isinstance(error, dict):
            args = error.get("exc_message") or []
            words = " ".join(str(a) for a in args) if isinstance(args, list) else str(args)
            return None, f"{str(error.get('exc_type'))[:80]}: {words}"[:2000]
        return None, str(error)[:2000]
    value = data.get("return_value")
    if not isinstance(value, dict):
        raise Untrusted("a result whose value is not an object")
    return value, None


def stage(raw: bytes | str | None) -> str | None:
    """The stage a worker reported (taskiq's TaskProgress as JSON), or None."""
    try:
        data = loads(raw, "progress")
    except Untrusted:
        return None  # cosmetic: a bad stage only changes the status message
    meta = data.get("meta") if isinstance(data, dict) else None
    return meta if meta in STAGES else None
