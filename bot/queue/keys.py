"""What the bot and the workers agree on in Redis: the task's name, every key name (all under
one prefix, so several deployments can share a server), how to connect (password, TLS), and
which Redis errors mean "Redis cannot serve us right now" (wait) rather than a bug of ours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

if TYPE_CHECKING:
    from bot.settings import Settings

TASK_NAME = "isadei.compose_job"
MARKER_TTL_S = 7 * 86400  # a queued job may wait long; a week is plenty
# What a Redis call can raise (OSError: refused, reset, unreachable). Catch these, then ask
# `unavailable` whether to wait (the server's condition) or to fail (our own mistake).
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
# The server refuses for now: out of memory, a read-only replica, loading, a failover, AUTH
# or ACL trouble (the operator's to fix), a failed RDB save (MISCONF), too many clients.
SERVER_CONDITIONS = (
    "OOM", "READONLY", "LOADING", "MASTERDOWN", "MISCONF", "NOREPLICAS", "BUSY", "TRYAGAIN",
    "CLUSTERDOWN", "NOAUTH", "WRONGPASS", "NOPERM", "EXECABORT", "ERR max number of clients",
)


def unavailable(error: BaseException) -> bool:
    """Is this error Redis being away or refusing for now (wait, tell the user "busy"), rather
    than a request of ours that Redis rejects (a bug: fail loudly)? Looks through wrappers
    (taskiq raises SendTaskError from the Redis error)."""
    if error.__cause__ is not None and unavailable(error.__cause__):
        return True
    if isinstance(
        error,
        OSError
        | redis.exceptions.ConnectionError
        | redis.exceptions.TimeoutError
        | redis.exceptions.OutOfMemoryError
        | redis.exceptions.ReadOnlyError
        | redis.exceptions.MasterDownError
        | redis.exceptions.TryAgainError
        | redis.exceptions.ClusterDownError
        | redis.exceptions.NoPermissionError
        | redis.exceptions.ExecAbortError,
    ):
        return True
    if isinstance(error, redis.exceptions.ResponseError):
        # A pipeline's error reads "Command # 1 (...) of pipeline caused error: OOM ...".
        message = str(error).split("caused error: ", 1)[-1]
        return message.startswith(SERVER_CONDITIONS)
    return False


def task_id(job_id: str, attempt: int) -> str:
    """The task id names the job and the attempt: "j0123456789.0"."""
    return f"{job_id}.{attempt}"


def redis_options(settings: Settings | None = None) -> dict[str, Any]:
    """Connection settings for every Redis pool: fail fast while Redis is away (the callers
    retry), and keep the socket timeout above XREADGROUP's block time (redis-py 8 pitfall);
    the password (ISADEI_REDIS_PASSWORD) and, for rediss://, the CA to trust."""
    options: dict[str, Any] = {
        "socket_connect_timeout": 3,
        "socket_timeout": 15,
        "health_check_interval": 10,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }
    if settings is not None and settings.redis_password is not None:
        options["password"] = settings.redis_password.get_secret_value()
    if settings is not None and settings.redis_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    return options


@dataclass(frozen=True)
class RedisKeys:
    """Every Redis name Isadei uses, under `prefix` (ISADEI_REDIS_PREFIX)."""

    prefix: str

    @property
    def stream(self) -> str:  # the jobs, a Redis stream
        return f"{self.prefix}:jobs"

    @property
    def group(self) -> str:  # the workers' consumer group
        return f"{self.prefix}:workers"

    @property
    def results(self) -> str:  # taskiq's result backend prefix
        return f"{self.prefix}:result"

    @property
    def dead(self) -> str:  # jobs that will not be tried again, for a human
        return f"{self.prefix}:dead"

    def result(self, tid: str) -> str:
        return f"{self.results}:{tid}"

    def progress(self, tid: str) -> str:  # taskiq-redis's name for a task's progress
        return self.result(tid) + "__progress"

    def files(self, job_id: str) -> str:  # a finished job's folder, as one hash
        return f"{self.prefix}:files:{job_id}"

    def submitted(self, tid: str) -> str:  # "this attempt is on the stream"
        return f"{self.prefix}:submitted:{tid}"

    def cancelled(self, job_id: str) -> str:
        return f"{self.prefix}:cancelled:{job_id}"

    def deliveries(self, tid: str) -> str:  # how often workers took this attempt
        return f"{self.prefix}:deliveries:{tid}"

    def worker(self, name: str) -> str:  # a worker's heartbeat
        return f"{self.prefix}:worker:{name}"
