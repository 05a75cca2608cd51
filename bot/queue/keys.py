"""What the bot and the workers agree on in Redis: the task's name, every key name (all under
one prefix, so several deployments can share a server), and how to connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

TASK_NAME = "isadei.compose_job"
MARKER_TTL_S = 7 * 86400  # a queued job may wait long; a week is plenty
# Connection trouble, as redis-py reports it (OSError: refused, reset, unreachable).
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def task_id(job_id: str, attempt: int) -> str:
    """The task id names the job and the attempt: "j0123456789.0"."""
    return f"{job_id}.{attempt}"


def redis_options() -> dict[str, Any]:
    """Connection settings for every Redis pool: fail fast while Redis is away (the callers
    retry), and keep the socket timeout above XREADGROUP's block time (redis-py 8 pitfall)."""
    return {
        "socket_connect_timeout": 3,
        "socket_timeout": 15,
        "health_check_interval": 10,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }


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
