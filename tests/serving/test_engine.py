"""The engine's pipeline: jobs are prepared as they arrive, also while a batch is in the model;
the jobs prepared meanwhile make the next batch (at most ``max_batch``); a lone client's job
never waits for company; a job whose client left is dropped unprepared; a full queue refuses;
``close`` finishes what was queued."""

import asyncio
import threading
import time

import pytest

from asr.serving.engine import Engine, QueueFull


class Recorder:
    """``prepare`` and ``finish`` functions that record what they were given and when; each
    path's answer is its text. ``finish`` takes ``seconds``, or until ``release`` is set."""

    def __init__(self, seconds=0.01):
        self.seconds, self.prepared, self.calls = seconds, [], []
        self.in_finish, self.release = threading.Event(), None

    def prepare(self, model, path):
        self.prepared.append((time.monotonic(), path))
        return f"features of {path}"

    def finish(self, model, items):
        self.calls.append((time.monotonic(), list(items)))
        self.in_finish.set()
        if self.release is not None:
            assert self.release.wait(5)
            self.release = None
        time.sleep(self.seconds)
        return [item.replace("features", "text") for item in items]


def run(scenario, recorder=None, queue_size=16, max_batch=8):
    recorder = recorder or Recorder()
    engine = Engine(None, recorder.prepare, recorder.finish, queue_size=queue_size, max_batch=max_batch)
    try:
        asyncio.run(scenario(engine, recorder))
    finally:
        engine.close(timeout=5)
    return engine.batches, recorder


async def answers(jobs):
    return await asyncio.gather(*(job.future for job in jobs))


async def until(event):
    while not event.is_set():
        await asyncio.sleep(0.001)


def test_jobs_prepared_while_a_batch_runs_make_the_next_batch():
    marks = {}

    async def scenario(engine, recorder):
        recorder.release = threading.Event()
        first = engine.submit("a")
        await until(recorder.in_finish)  # "a" is in the model
        rest = [engine.submit(f"b{i}") for i in range(3)]
        while len(recorder.prepared) < 4:
            await asyncio.sleep(0.001)
        marks["prepared"] = time.monotonic()
        recorder.release.set()
        assert await answers([first, *rest]) == ["text of a", "text of b0", "text of b1", "text of b2"]

    batches, recorder = run(scenario)
    assert batches == [1, 3]
    assert recorder.calls[1][1] == [f"features of b{i}" for i in range(3)]
    assert recorder.calls[1][0] > marks["prepared"]  # prepared during the first batch, not after it


def test_a_batch_holds_at_most_max_batch_jobs():
    async def scenario(engine, recorder):
        recorder.release = threading.Event()
        first = engine.submit("a")
        await until(recorder.in_finish)
        rest = [engine.submit(f"b{i}") for i in range(7)]
        while len(recorder.prepared) < 4:  # the runner's inbox holds max_batch: the preparer waits
            await asyncio.sleep(0.001)
        recorder.release.set()
        assert await answers([first, *rest]) == ["text of a"] + [f"text of b{i}" for i in range(7)]

    batches, _ = run(scenario, max_batch=3)
    assert batches[0] == 1 and max(batches) == 3 and sum(batches) == 8


def test_a_lone_client_does_not_wait():
    async def scenario(engine, recorder):
        for i in range(3):
            start = time.monotonic()
            assert await answers([engine.submit(f"a{i}")]) == [f"text of a{i}"]
            assert time.monotonic() - start < 1.0

    batches, _ = run(scenario)
    assert batches == [1, 1, 1]


def test_a_job_whose_client_left_is_dropped_unprepared():
    async def scenario(engine, recorder):
        recorder.release = threading.Event()
        first = engine.submit("a")
        await until(recorder.in_finish)
        gone, kept = engine.submit("gone"), engine.submit("kept")
        gone.cancelled.set()
        recorder.release.set()
        assert await answers([first, gone, kept]) == ["text of a", None, "text of kept"]

    _, recorder = run(scenario)
    assert "gone" not in [path for _, path in recorder.prepared]


def test_a_full_queue_refuses_at_once_and_close_finishes_the_queued_jobs():
    results = {}

    async def scenario(engine, recorder):
        recorder.release = threading.Event()
        first = engine.submit("a")
        await until(recorder.in_finish)
        held = []
        for i in range(5):  # b0, b1 prepared (the runner's inbox holds 2), b2 with the preparer, b3, b4 queued
            held.append(engine.submit(f"b{i}"))
            while i < 3 and len(recorder.prepared) < i + 2:
                await asyncio.sleep(0.001)
        with pytest.raises(QueueFull, match="2 requests are waiting already"):
            engine.submit("c")
        threading.Timer(0.05, recorder.release.set).start()
        await asyncio.get_running_loop().run_in_executor(None, engine.close)  # returns once all are answered
        results["answers"] = await answers([first, *held])

    run(scenario, queue_size=2, max_batch=2)
    assert results["answers"] == ["text of a"] + [f"text of b{i}" for i in range(5)]
