"""The server's transcription engine: a bounded queue of jobs and a two-stage pipeline. The
preparer thread reads each job's file, cuts it and computes its features
(``asr.inference.prepare_file``) as soon as the job arrives; the runner thread takes every
prepared job waiting (up to ``max_batch``) and transcribes them in one ``finish`` call
(``asr.inference.finish_files``), so concurrent requests share forward passes. The stages
overlap: while one batch is in the model (ONNX Runtime and XLA release the GIL) the next files
are prepared on the other core, and the jobs that arrive meanwhile make the next batch. A lone
client's job never waits for company.

The event loop never computes: a request awaits its job's future. A full queue refuses at once
(``QueueFull``: the app answers 503 with ``Retry-After``), a job whose client went away before
its stage starts is dropped, and ``close`` lets the jobs already queued finish before the
threads stop.
"""

import asyncio
import dataclasses
import logging
import queue
import threading
import time

logger = logging.getLogger("asr.serving")

DEFAULT_QUEUE_SIZE = 32  # jobs waiting: 32 x a 10 s clip is ~1 s of work on 2 cores (~400 audio s/s served)
DEFAULT_MAX_BATCH = 8  # files transcribed together: a forward pass of 8 segments fills 2 cores; more only waits
RETRY_AFTER_SECONDS = 1  # what a 503 tells the client: the queue drains in about that long
POLL_SECONDS = 0.1  # how often an idle stage looks whether the engine is closing


class QueueFull(Exception):
    """The job queue is full: the request is refused now rather than left waiting."""


@dataclasses.dataclass
class Job:
    """One request's file and where its result goes (``future``, resolved on the event loop)."""

    path: str
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)
    queued_at: float = dataclasses.field(default_factory=time.monotonic)

    def resolve(self, result=None, error=None):
        def set_result():
            if not self.future.done():
                if error is not None:
                    self.future.set_exception(error)
                else:
                    self.future.set_result(result)

        self.loop.call_soon_threadsafe(set_result)

    def dropped(self):
        """True (and answered None) when its client left: nobody waits for its work."""
        if self.cancelled.is_set():
            self.resolve(None)
            return True
        return False


class Engine:
    """Transcribes queued files with ``model`` (a ``.keras`` ``AcousticModel`` or an ``OnnxModel``).

    Args:
        prepare: ``fn(model, path) -> item``, the work before the forward pass, per file
            (``asr.inference.prepare_file``).
        finish: ``fn(model, items) -> [Transcription]``, the forward pass and decoding of a batch
            (``asr.inference.finish_files`` with the server's decoder and batch size).
        queue_size: jobs that may wait to be prepared; one more is refused with ``QueueFull``.
        max_batch: jobs transcribed in one call, and prepared jobs that may wait for the runner
            (beyond that the preparer waits, and jobs stay in the bounded queue).
    """

    def __init__(self, model, prepare, finish, queue_size=DEFAULT_QUEUE_SIZE, max_batch=DEFAULT_MAX_BATCH):
        self.model, self._prepare, self._finish = model, prepare, finish
        self.max_batch = max_batch
        self._queue = queue.Queue(maxsize=queue_size)
        self._ready = queue.Queue(maxsize=max_batch)  # (job, item) prepared; None: the preparer has stopped
        self._stopping = threading.Event()
        self.batches = []  # sizes of the batches run (for the load benchmark and tests)
        self.in_flight = 0  # jobs submitted and not yet answered (on the event loop's thread)
        self._threads = [threading.Thread(target=target, name=f"asr-serve-{name}", daemon=True)
                         for name, target in (("prepare", self._prepare_jobs), ("run", self._run_batches))]
        for thread in self._threads:
            thread.start()

    def submit(self, path):
        """Queue ``path``; returns its ``Job`` (await ``job.future``). ``QueueFull`` when full."""
        loop = asyncio.get_running_loop()
        job = Job(path, loop.create_future(), loop)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self._queue.maxsize} requests are waiting already") from None
        self.in_flight += 1
        job.future.add_done_callback(self._answered)
        return job

    def _answered(self, future):
        self.in_flight -= 1

    @property
    def waiting(self):
        """Jobs not yet in a batch: queued or prepared."""
        return self._queue.qsize() + self._ready.qsize()

    def _prepare_jobs(self):
        """The preparer: each queued job's ``prepare``, in arrival order, until closed and drained."""
        while True:
            try:
                job = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._stopping.is_set():
                    break
                continue
            if job.dropped():
                continue
            try:
                self._ready.put((job, self._prepare(self.model, job.path)))
            except Exception as error:  # a bug, not bad audio (that is the result's error): the job hears it
                logger.exception("preparing %s failed", job.path)
                job.resolve(error=error)
        self._ready.put(None)

    def _take(self):
        """``(taken, last)``: the prepared jobs waiting, at least one unless ``last`` (the
        preparer has stopped and nothing is left), at most ``max_batch``; blocks for the first."""
        taken, entry = [], self._ready.get()
        while entry is not None:
            if not entry[0].dropped():
                taken.append(entry)
            if len(taken) >= self.max_batch:
                return taken, False
            try:
                entry = self._ready.get_nowait()
            except queue.Empty:
                return taken, False
        return taken, True

    def _run_batches(self):
        """The runner: ``finish`` of every batch ``_take`` gives, each job answered with its result."""
        last = False
        while not last:
            taken, last = self._take()
            if not taken:
                continue
            self.batches.append(len(taken))
            try:
                results = self._finish(self.model, [item for _, item in taken])
            except Exception as error:  # a bug, not bad audio (that is each result's error): every job hears it
                logger.exception("transcription failed")
                for job, _ in taken:
                    job.resolve(error=error)
                continue
            for (job, _), result in zip(taken, results):
                job.resolve(result)

    def close(self, timeout=None):
        """Finish the jobs already queued, then stop both stages."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
