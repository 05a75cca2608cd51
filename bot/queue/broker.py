"""The broker for a configuration: the one place that knows the two modes.

Embedded (ISADEI_REDIS_URL unset): taskiq's InMemoryBroker runs the compose task inside the
bot's process (bot/queue/embedded.py). Distributed: a Redis stream (taskiq-redis's
RedisStreamBroker: acknowledged, redelivered) and a Redis result backend with a TTL; the
`isadei worker` processes take the jobs (bot/queue/worker.py).
"""

from __future__ import annotations

from taskiq import AsyncBroker, InMemoryBroker
from taskiq.serializers import JSONSerializer

from bot.queue.embedded import register_compose_task
from bot.queue.keys import RedisKeys, redis_options
from bot.settings import Settings


def make_broker(settings: Settings) -> AsyncBroker:
    """A new broker for these settings (nothing connects until `startup`)."""
    if settings.embedded:
        broker = InMemoryBroker(max_stored_results=1000)
        register_compose_task(broker, settings)
        return broker
    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    keys = RedisKeys(settings.redis_prefix)
    backend = RedisAsyncResultBackend(
        settings.redis_url,
        result_ex_time=settings.result_ttl_s,
        prefix_str=keys.results,
        serializer=JSONSerializer(),  # not taskiq-redis's default pickle: Redis is not trusted
        **redis_options(settings),
    )
    # consumer_id "0": a group made after jobs were queued (a restarted Redis) still sees them.
    broker = RedisStreamBroker(
        settings.redis_url,
        queue_name=keys.stream,
        consumer_group_name=keys.group,
        consumer_id="0",
        idle_timeout=int(settings.idle_timeout_s * 1000),
        **redis_options(settings),
    )
    # JSON both ways, said here rather than left to taskiq's defaults: nothing is unpickled.
    return broker.with_serializer(JSONSerializer()).with_result_backend(backend)
