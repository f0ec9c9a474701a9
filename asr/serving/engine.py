"""The server's transcription engine: a bounded queue of jobs and one worker thread that takes
every job waiting (up to ``max_batch``) and transcribes their files together, so concurrent
requests share forward passes. Each job is prepared (read, cut, features:
``asr.inference.prepare_file``) as soon as it is taken, while the batch waits for the jobs
recent concurrency expects; then one ``finish`` call (``asr.inference.finish_files``) batches
the segments of all of them through the model.

The event loop never computes: a request awaits its job's future. A full queue refuses at once
(``QueueFull``: the app answers 503 with ``Retry-After``), a job whose client went away before it
started is dropped, and ``close`` lets the jobs already queued finish before the worker stops.
"""

import asyncio
import collections
import dataclasses
import logging
import queue
import threading
import time

logger = logging.getLogger("asr.serving")

DEFAULT_QUEUE_SIZE = 32  # jobs waiting: 32 x a 10 s clip is ~1 s of work on 2 cores (~400 audio s/s served)
DEFAULT_MAX_BATCH = 8  # files transcribed together: a forward pass of 8 segments fills 2 cores; more only waits
RETRY_AFTER_SECONDS = 1  # what a 503 tells the client: the queue drains in about that long
# A batch waits up to LINGER_SECONDS for the requests that recent concurrency says are coming (the
# most requests in flight at once over the last CONCURRENCY_WINDOW_SECONDS), preparing those it
# has meanwhile: clients answered together send their next files a few ms apart (a local 10 s
# upload is received and parsed in ~5 ms), and one shared forward pass beats a pass of one now and
# one of three after it. A lone client never waits.
LINGER_SECONDS = 0.02
CONCURRENCY_WINDOW_SECONDS = 1.0


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


class Engine:
    """Transcribes queued files with ``model`` (a ``.keras`` ``AcousticModel`` or an ``OnnxModel``).

    Args:
        prepare: ``fn(model, path) -> item``, the work before the forward pass, per file
            (``asr.inference.prepare_file``).
        finish: ``fn(model, items) -> [Transcription]``, the forward pass and decoding of a batch
            (``asr.inference.finish_files`` with the server's decoder and batch size).
        queue_size: jobs that may wait; one more is refused with ``QueueFull``.
        max_batch: jobs transcribed in one call.
    """

    def __init__(self, model, prepare, finish, queue_size=DEFAULT_QUEUE_SIZE, max_batch=DEFAULT_MAX_BATCH):
        self.model, self._prepare, self._finish = model, prepare, finish
        self.max_batch = max_batch
        self._queue = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asr-serve-engine", daemon=True)
        self.batches = []  # sizes of the batches run (for the load benchmark and tests)
        self.in_flight = 0  # jobs submitted and not yet answered (on the event loop's thread)
        self._recent = collections.deque()  # (time, in_flight) at each submission, for _expected()
        self._thread.start()

    def submit(self, path):
        """Queue ``path``; returns its ``Job`` (await ``job.future``). ``QueueFull`` when full."""
        loop = asyncio.get_running_loop()
        job = Job(path, loop.create_future(), loop)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self._queue.maxsize} requests are waiting already") from None
        self.in_flight += 1
        self._recent.append((job.queued_at, self.in_flight))
        job.future.add_done_callback(self._answered)
        return job

    def _answered(self, future):
        self.in_flight -= 1

    @property
    def waiting(self):
        return self._queue.qsize()

    def _expected(self):
        """How many jobs a batch may expect: the most in flight at once in the recent window."""
        horizon = time.monotonic() - CONCURRENCY_WINDOW_SECONDS
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()
        return max((n for _, n in list(self._recent)), default=1)  # a copy: the event loop's thread appends

    def _first(self):
        """The next job (blocking); None when closing."""
        while True:
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stopping.is_set():
                    return None

    def _take(self, first):
        """``[(job, item)]``: ``first`` and every job waiting, up to ``max_batch``, each prepared as
        it comes, lingering until ``LINGER_SECONDS`` after ``first`` for the jobs recent
        concurrency expects. A job whose client left is answered None and not prepared."""
        expected, deadline, taken = min(self.max_batch, self._expected()), time.monotonic() + LINGER_SECONDS, []
        job = first
        while job is not None:
            if job.cancelled.is_set():
                job.resolve(None)  # nobody waits for it: dropped unheard
            else:
                try:
                    taken.append((job, self._prepare(self.model, job.path)))
                except Exception as error:  # a bug, not bad audio (that is the result's error): the job hears it
                    logger.exception("preparing %s failed", job.path)
                    job.resolve(error=error)
            if len(taken) >= self.max_batch:
                break
            wait = deadline - time.monotonic() if len(taken) < expected else 0
            try:
                job = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                job = None
        return taken

    def _run(self):
        while (first := self._first()) is not None:
            taken = self._take(first)
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
        """Finish the jobs already queued, then stop the worker."""
        self._stopping.set()
        self._thread.join(timeout)
