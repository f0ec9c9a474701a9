"""The engine's batching: jobs waiting are transcribed together, each prepared as it is taken,
a batch lingers for the jobs recent concurrency says are coming, and a lone client's job never
waits for company."""

import asyncio
import time

from asr.serving import engine as engine_module
from asr.serving.engine import Engine


class Recorder:
    """``prepare`` and ``finish`` functions that record what they were given; each path's answer
    is its text."""

    def __init__(self, seconds=0.01):
        self.seconds, self.prepared, self.calls = seconds, [], []

    def prepare(self, model, path):
        self.prepared.append((time.monotonic(), path))
        return f"features of {path}"

    def finish(self, model, items):
        self.calls.append((time.monotonic(), list(items)))
        time.sleep(self.seconds)
        return [item.replace("features", "text") for item in items]


def run(scenario):
    recorder = Recorder()
    engine = Engine(None, recorder.prepare, recorder.finish, queue_size=16, max_batch=8)
    try:
        asyncio.run(scenario(engine))
    finally:
        engine.close(timeout=5)
    return engine.batches, recorder


async def answers(jobs):
    return await asyncio.gather(*(job.future for job in jobs))


def test_a_batch_lingers_for_the_clients_recent_concurrency_expects():
    marks = {}

    async def scenario(engine):
        assert await answers([engine.submit(f"a{i}") for i in range(4)]) == [f"text of a{i}" for i in range(4)]
        first = engine.submit("b0")  # four clients answered together send again a few ms apart
        await asyncio.sleep(0.005)
        marks["rest"] = time.monotonic()
        rest = [engine.submit(f"b{i}") for i in range(1, 4)]
        assert await answers([first, *rest]) == [f"text of b{i}" for i in range(4)]

    batches, recorder = run(scenario)
    assert sum(batches[:-1]) == 4 and batches[-1] == 4  # the second round is one batch of four
    assert recorder.calls[-1][1] == [f"features of b{i}" for i in range(4)]
    prepared = {path: when for when, path in recorder.prepared}
    assert prepared["b0"] < marks["rest"]  # b0 was prepared while the batch waited for the others


def test_a_lone_client_does_not_wait(monkeypatch):
    monkeypatch.setattr(engine_module, "LINGER_SECONDS", 5.0)  # a wait would show

    async def scenario(engine):
        for i in range(3):
            start = time.monotonic()
            assert await answers([engine.submit(f"a{i}")]) == [f"text of a{i}"]
            assert time.monotonic() - start < 2.5

    batches, _ = run(scenario)
    assert batches == [1, 1, 1]


def test_concurrency_is_forgotten_after_its_window(monkeypatch):
    monkeypatch.setattr(engine_module, "CONCURRENCY_WINDOW_SECONDS", 0.2)
    monkeypatch.setattr(engine_module, "LINGER_SECONDS", 5.0)

    async def scenario(engine):
        await answers([engine.submit(f"a{i}") for i in range(4)])
        await asyncio.sleep(0.3)
        start = time.monotonic()
        await answers([engine.submit("late")])  # alone now: no wait for the three that left
        assert time.monotonic() - start < 2.5

    batches, _ = run(scenario)
    assert batches[-1] == 1
