"""The worker (bot/queue/worker.py) against a real Redis, in this process; and batched generation.

Also home of the stand-in engine the distributed tests run: `python -m tests.test_worker`
is `isadei worker` with it (fast fake songs, real small files; words in a request steer it:
"fail always" raises, "slow" takes 8 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path

import prometheus_client
import pytest

from bot.queue.client import QueueClient
from bot.queue.engine import Engine
from bot.queue.keys import task_id
from bot.queue.results import scratch_of, write_result
from bot.settings import Settings
from composer.request import SongRequest
from tests.fake_bot_api import FAKE_DELAY_ENV, fake_song

# -- the stand-in engine (module level: the spawned render processes import it by name) --

GENERATE_CALLS: list[int] = []  # batch sizes seen by standin_generate in this process
HANG = threading.Event()  # "hang" in a request: generation blocks until this is set


def standin_load(device: str) -> str:
    return "cpu (stand-in)"


def standin_generate(requests: list[dict], seeds: list[int]) -> list[dict]:
    """One "sampling run" for the batch: it costs the same for one song or sixteen."""
    GENERATE_CALLS.append(len(requests))
    texts = [(r.get("text") or "").lower() for r in requests]
    if any("hang" in t for t in texts):  # a deadlocked generation: never returns
        HANG.wait()
    time.sleep(
        8.0 if any("slow" in t for t in texts) else float(os.environ.get(FAKE_DELAY_ENV, "0.2"))
    )
    if any("fail always" in t for t in texts):
        raise ValueError("the stand-in composer was asked to fail")
    return [{"request": r, "seed": s} for r, s in zip(requests, seeds, strict=True)]


def standin_render(song: dict, out_dir: str) -> dict:
    """Real small MIDI/MP3/PNG files and the JSON, as composer.render writes them."""
    out = Path(out_dir)
    scratch = scratch_of(out)
    request = SongRequest.from_json(song["request"])
    rendered = fake_song(scratch, request, song["seed"], ("Intro", "Verse", "Chorus", "Coda"))
    return write_result(rendered, scratch, out)


STANDIN = Engine(load=standin_load, generate=standin_generate, render=standin_render)


# -- batched generation with the real composer and a small random network --


def test_batched_generation_matches_one_by_one(monkeypatch: pytest.MonkeyPatch):
    """Six requests in batched sampling runs: fewer forward passes than one by one, same songs."""
    import torch

    import composer.compose
    from bot.queue.engine import generate_songs
    from composer.model import ModelConfig, TuneLSTM
    from composer.sampler import Grammar

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: threads only fight over the cores
    torch.manual_seed(0)
    model = TuneLSTM(ModelConfig(n_embd=16, n_hidden=32, n_layer=1)).eval()
    passes: list[int] = []  # the batch size of every forward pass
    forward = model.forward
    monkeypatch.setattr(
        model,
        "forward",
        lambda ids, state=None: (passes.append(ids.shape[0]), forward(ids, state))[1],
    )
    monkeypatch.setattr(composer.compose, "default_model", lambda: (model, Grammar()))

    styles = ["folk", "waltz", "jig", "reel", "lullaby", "march"]
    requests = [{"style": s, "length_seconds": 20, "text": s} for s in styles]
    seeds = list(range(11, 17))
    try:
        batched = generate_songs(requests, seeds)
        batch_passes = list(passes)
        alone_passes = []
        for request, seed, together in zip(requests, seeds, batched, strict=True):
            passes.clear()
            (alone,) = generate_songs([request], [seed])
            alone_passes.append(len(passes))
            assert alone.sections == together.sections and alone.title == together.title
    finally:
        torch.set_num_threads(threads)
    # The first takes of all the songs the shared network writes (not the march: it has a
    # network of its own) share each forward pass (with a style-guidance twin for each song
    # not in the folk style), then all their varied repeats share another run: far fewer
    # passes than the songs one after the other.
    from composer.styles import STYLES

    shared = [s for s in styles if not STYLES[s].own_network]
    assert len(shared) == 5
    assert batch_passes[0] == len(shared) + sum(s != "folk" for s in shared)
    assert max(batch_passes) >= len(shared)
    assert len(batch_passes) < sum(alone_passes) / 2


# -- the worker, in this process, against a real Redis --


def worker_settings(redis_server, tmp_path: Path, **overrides) -> Settings:
    values = {
        "redis_url": redis_server.url,
        "data_dir": tmp_path / "data",
        "idle_timeout_s": 2.0,
        "heartbeat_s": 0.3,
        "batch_wait_ms": 200.0,
        "max_batch": 8,
        "render_processes": 1,
        "shutdown_grace_s": 10.0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def bot_queue(redis_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of a bot with ISADEI_REDIS_URL pointed at the test Redis."""
    monkeypatch.setenv(FAKE_DELAY_ENV, "0.2")
    GENERATE_CALLS.clear()
    return worker_settings(redis_server, tmp_path)


REQUEST = {"style": "waltz", "length_seconds": 20, "text": "a waltz"}


async def wait_done(queue: QueueClient, tids: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not all([(await queue.poll(tid)).ready for tid in tids]):
        assert time.monotonic() < deadline, "jobs not done in time"
        await asyncio.sleep(0.05)


def test_worker_batches_jobs_and_reuses_finished_ones(bot_queue: Settings, redis_server):
    from bot.queue.worker import Worker

    async def scenario() -> None:
        queue = QueueClient(bot_queue)
        await queue.start()
        ids = [f"jbatch{i}" for i in range(6)]
        for i, job_id in enumerate(ids):  # queued before the worker starts: they come at once
            await queue.submit(job_id, {**REQUEST, "text": f"waltz {i}"}, i, 0)
        worker = Worker(bot_queue, STANDIN)
        running = asyncio.create_task(worker.run())
        tids = [task_id(job_id, 0) for job_id in ids]
        await wait_done(queue, tids)
        assert sum(GENERATE_CALLS) == 6 and len(GENERATE_CALLS) < 6  # batched
        for job_id, tid in zip(ids, tids, strict=True):
            result, error = await queue.fetch(tid, job_id)
            assert error is None and result["batch_size"] > 1
            assert Path(result["mp3"]).read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
            assert Path(result["mp3"]).parent == bot_queue.songs_dir / job_id
            assert result["worker_timings"]["generate"] > 0.1
        # Delivered again (a bot retry, a redelivery): the stored files are reused.
        await queue.submit(ids[0], REQUEST, 0, 1)
        await wait_done(queue, [task_id(ids[0], 1)])
        result, _ = await queue.fetch(task_id(ids[0], 1), ids[0])
        assert result["reused"] is True and sum(GENERATE_CALLS) == 6
        await asyncio.sleep(2 * bot_queue.heartbeat_s)
        beat = json.loads(redis_server.client().get(f"isadei:worker:{worker.name}"))
        assert beat["jobs"] == 7 and beat["device"] == "cpu (stand-in)"
        worker.stop()
        await running
        assert not redis_server.client().exists(f"isadei:worker:{worker.name}")
        assert redis_server.client().xlen("isadei:jobs") == 0  # done jobs leave the stream

    asyncio.run(scenario())
    exposed = prometheus_client.generate_latest().decode()
    assert 'isadei_worker_jobs_total{status="reused"}' in exposed
    assert "isadei_worker_batch_size_count" in exposed


def test_failures_dead_letters_and_timeouts(bot_queue: Settings, redis_server, monkeypatch):
    from bot.queue.worker import Worker

    settings = worker_settings(redis_server, bot_queue.data_dir.parent, job_timeout_s=5.0)
    r = redis_server.client()

    async def scenario() -> None:
        queue = QueueClient(bot_queue)
        await queue.start()
        worker = Worker(settings, STANDIN)
        running = asyncio.create_task(worker.run())
        # One bad request in a batch fails alone; on the bot's last attempt it is dead-lettered.
        await queue.submit("jgood", REQUEST, 1, 0)
        await queue.submit("jbad", {**REQUEST, "text": "fail always"}, 2, 1, final=True)
        await wait_done(queue, ["jgood.0", "jbad.1"])
        assert (await queue.fetch("jgood.0", "jgood"))[1] is None
        _, error = await queue.fetch("jbad.1", "jbad")
        assert "asked to fail" in error
        # A job that was delivered too often (it kept killing workers) is not run again.
        r.set("isadei:deliveries:jpoison.0", settings.max_deliveries)
        await queue.submit("jpoison", REQUEST, 3, 0)
        await wait_done(queue, ["jpoison.0"])
        assert "delivered 4 times" in (await queue.fetch("jpoison.0", "jpoison"))[1]
        # A job that takes too long gets an error result; the bot retries or apologises.
        await queue.submit("jslow", {**REQUEST, "text": "slow"}, 4, 0)
        await wait_done(queue, ["jslow.0"])
        assert "timed out" in (await queue.fetch("jslow.0", "jslow"))[1]
        worker.stop()
        await running

    asyncio.run(scenario())
    dead = [
        {k.decode(): v.decode() for k, v in fields.items()} for _, fields in r.xrange("isadei:dead")
    ]
    assert [d["job"] for d in dead] == ["jbad", "jpoison"]
    assert json.loads(dead[0]["request"])["text"] == "fail always"
    assert all(d["worker"] and d["error"] for d in dead)


def test_stop_finishes_the_batch_in_hand_and_hands_back_the_rest(
    bot_queue: Settings, redis_server, monkeypatch
):
    from bot.queue.worker import Worker

    monkeypatch.setenv(FAKE_DELAY_ENV, "1.0")
    settings = worker_settings(
        redis_server, bot_queue.data_dir.parent, max_batch=2, batch_wait_ms=50.0
    )
    r = redis_server.client()

    async def scenario() -> None:
        queue = QueueClient(bot_queue)
        await queue.start()
        ids = [f"jstop{i}" for i in range(5)]
        for i, job_id in enumerate(ids):
            await queue.submit(job_id, REQUEST, i, 0)
        first = Worker(settings, STANDIN)
        running = asyncio.create_task(first.run())
        while not GENERATE_CALLS:  # the first batch is being generated
            await asyncio.sleep(0.02)
        first.stop()  # as SIGTERM does
        await running
        done = [job_id for job_id in ids if (await queue.poll(f"{job_id}.0")).ready]
        assert done == ids[:2]  # the batch in hand was finished...
        assert r.xlen("isadei:jobs") == 3  # ...the rest is back on the queue, for anyone
        assert r.xpending("isadei:jobs", "isadei:workers")["pending"] == 0
        second = Worker(settings, STANDIN)
        running = asyncio.create_task(second.run())
        await wait_done(queue, [f"{job_id}.0" for job_id in ids])
        second.stop()
        await running

    asyncio.run(scenario())
    assert sorted(GENERATE_CALLS) == [1, 2, 2]
    assert {int(r.get(f"isadei:deliveries:jstop{i}.0")) for i in range(5)} == {1}


if __name__ == "__main__":  # `python -m tests.test_worker`: a worker with the stand-in engine
    from bot.queue.worker import main

    main(Settings(), STANDIN)


# -- issue 11: Redis with a password and TLS; a job id that is a path --


def tls_redis(tmp_path: Path, password: str):
    """A redis-server on 127.0.0.1 that speaks only TLS (a CA made here) and wants AUTH."""
    import shutil
    import subprocess

    from tests.conftest import free_port

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ca",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.pem")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", "server.pem", "--tls-key-file", "server.key",
         "--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no",
         "--requirepass", password, "--save", "", "--appendonly", "no"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return proc, f"rediss://127.0.0.1:{port}/0", tmp_path / "ca.pem"


def test_redis_with_a_password_over_tls(tmp_path: Path, monkeypatch):
    """Remote workers: rediss:// with the CA to trust (ISADEI_REDIS_CA_FILE) and AUTH
    (ISADEI_REDIS_PASSWORD). Without the password the bot only hears "busy"."""
    from bot.queue.client import QueueUnavailable
    from bot.queue.worker import Worker

    monkeypatch.setenv(FAKE_DELAY_ENV, "0.1")
    proc, url, ca = tls_redis(tmp_path, "s3cret-pass")
    common = {"redis_url": url, "redis_ca_file": ca, "idle_timeout_s": 2.0, "heartbeat_s": 0.3}
    settings = Settings(**common, data_dir=tmp_path / "bot", redis_password="s3cret-pass")
    worker_side = Settings(**common, data_dir=tmp_path / "w", redis_password="s3cret-pass",
                           batch_wait_ms=20.0, render_processes=1, shutdown_grace_s=5.0)

    async def scenario() -> None:
        stranger = QueueClient(Settings(**common, data_dir=tmp_path / "x"))
        with pytest.raises(QueueUnavailable, match="(?i)auth"):
            await stranger.submit("jnopass", REQUEST, 1, 0)
        await stranger.shutdown()
        queue = QueueClient(settings)
        await queue.start()
        await queue.submit("jtls", REQUEST, 1, 0)
        worker = Worker(worker_side, STANDIN)
        running = asyncio.create_task(worker.run())
        await wait_done(queue, ["jtls.0"])
        result, error = await queue.fetch("jtls.0", "jtls")
        assert error is None and Path(result["mp3"]).exists()
        worker.stop()
        await running
        await queue.shutdown()

    try:
        asyncio.run(scenario())
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_job_id_that_is_a_path_is_dead_lettered(bot_queue: Settings, redis_server):
    """A message written straight into the stream with job id "../../x": the worker writes
    nothing outside its folder; the message goes to the dead letters."""
    from taskiq.kicker import AsyncKicker

    from bot.queue.keys import TASK_NAME
    from bot.queue.worker import Worker

    r = redis_server.client()

    async def scenario() -> None:
        queue = QueueClient(bot_queue)
        await queue.start()
        kicker = AsyncKicker(TASK_NAME, queue.broker, {}).with_task_id("evil.0")
        await kicker.kiq("../../escaped", REQUEST, 1)
        await queue.submit("jfine", REQUEST, 2, 0)
        worker = Worker(bot_queue, STANDIN)
        running = asyncio.create_task(worker.run())
        await wait_done(queue, ["jfine.0"])
        worker.stop()
        await running
        await queue.shutdown()

    asyncio.run(scenario())
    dead = [{k.decode(): v.decode() for k, v in f.items()} for _, f in r.xrange("isadei:dead")]
    assert len(dead) == 1 and "not a job id" in dead[0]["error"]
    assert not (bot_queue.data_dir / "escaped").exists()
    assert not (bot_queue.data_dir.parent / "escaped").exists()
    assert r.xlen("isadei:jobs") == 0
