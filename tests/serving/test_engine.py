"""The engine's batching: jobs waiting are transcribed together, a batch lingers for the jobs
recent concurrency says are coming, and a lone client's job never waits for company."""

import asyncio
import time

from asr.serving import engine as engine_module
from asr.serving.engine import Engine


class Recorder:
    """A transcribe function that records the batches it was given and answers each path."""

    def __init__(self, seconds=0.01):
        self.seconds, self.calls = seconds, []

    def __call__(self, model, paths):
        self.calls.append((time.monotonic(), list(paths)))
        time.sleep(self.seconds)
        return [f"text of {p}" for p in paths]


def run(scenario):
    recorder = Recorder()
    engine = Engine(None, recorder, queue_size=16, max_batch=8)
    try:
        asyncio.run(scenario(engine))
    finally:
        engine.close(timeout=5)
    return engine.batches, recorder


async def answers(jobs):
    return await asyncio.gather(*(job.future for job in jobs))


def test_a_batch_lingers_for_the_clients_recent_concurrency_expects():
    async def scenario(engine):
        assert await answers([engine.submit(f"a{i}") for i in range(4)]) == [f"text of a{i}" for i in range(4)]
        first = engine.submit("b0")  # four clients answered together send again a few ms apart
        await asyncio.sleep(0.005)
        rest = [engine.submit(f"b{i}") for i in range(1, 4)]
        assert await answers([first, *rest]) == [f"text of b{i}" for i in range(4)]

    batches, recorder = run(scenario)
    assert sum(batches[:-1]) == 4 and batches[-1] == 4  # the second round is one batch of four
    assert recorder.calls[-1][1] == ["b0", "b1", "b2", "b3"]


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
