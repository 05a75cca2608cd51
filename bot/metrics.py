"""Prometheus metrics of the bot and the workers, served on /metrics (ISADEI_METRICS_PORT).

Each process serves its own: the bot's `isadei_bot_*` (jobs by outcome, jobs in progress by
state, stage latencies as the user saw them), a worker's `isadei_worker_*` (jobs by outcome,
queue depth, jobs in hand, batch sizes, stage latencies inside the worker). Alert on
`isadei_*_redis_up == 0`, on a growing queue depth, and on failed or dead-lettered jobs.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)

# The bot (bot/telegram/)
bot_jobs = Counter(
    "isadei_bot_jobs", "Requests by outcome: accepted, refused, done, failed, cancelled", ["status"]
)
bot_active = Gauge("isadei_bot_active_jobs", "Unfinished jobs by state", ["state"])
bot_stage_seconds = Histogram(
    "isadei_bot_stage_seconds",
    "Seconds per stage of a finished job: queued, composing, rendering, sending, total",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
redis_up = Gauge("isadei_bot_redis_up", "1 while the bot reaches Redis (distributed mode)")

# A worker (bot/queue/worker.py)
worker_jobs = Counter(
    "isadei_worker_jobs",
    "Jobs by outcome: done, reused, failed, timed_out, dead_letter, handed_back, cancelled",
    ["status"],
)
queue_depth = Gauge("isadei_worker_queue_depth", "Jobs in the Redis stream no worker has taken")
in_hand = Gauge("isadei_worker_jobs_in_hand", "Jobs this worker holds (taken, not yet done)")
batch_size = Histogram(
    "isadei_worker_batch_size", "Songs per batched sampling run", buckets=BATCH_BUCKETS
)
worker_stage_seconds = Histogram(
    "isadei_worker_stage_seconds",
    "Seconds per stage inside a worker: wait (for a batch), generate, render, total",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
worker_redis_up = Gauge("isadei_worker_redis_up", "1 while the worker reaches Redis")


def serve(port: int) -> None:
    """Serve /metrics on this port, in a thread."""
    start_http_server(port)
