"""The server's transcription engine: a bounded queue of jobs and one worker thread that takes
every job waiting (up to ``max_batch``) and transcribes their files in one call, so concurrent
requests share forward passes (``asr.inference.transcribe`` batches the segments of all files).

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

DEFAULT_QUEUE_SIZE = 32  # jobs waiting: 32 x a 10 s clip is ~3 s of work on 2 cores (RTF ~0.01)
DEFAULT_MAX_BATCH = 8  # files transcribed together: a forward pass of 8 segments fills 2 cores; more only waits
RETRY_AFTER_SECONDS = 1  # what a 503 tells the client: the queue drains in about that long
# A batch waits up to LINGER_SECONDS for the requests that recent concurrency says are coming (the
# most requests in flight at once over the last CONCURRENCY_WINDOW_SECONDS): clients answered
# together send their next files a few ms apart (a local 10 s upload is received and parsed in
# ~5 ms), and one shared forward pass beats a pass of one now and one of three after it. A lone
# client never waits.
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
        transcribe: ``fn(model, paths) -> [Transcription]`` (``asr.inference.transcribe`` with the
            server's decoder and batch size).
        queue_size: jobs that may wait; one more is refused with ``QueueFull``.
        max_batch: jobs transcribed in one call.
    """

    def __init__(self, model, transcribe, queue_size=DEFAULT_QUEUE_SIZE, max_batch=DEFAULT_MAX_BATCH):
        self.model, self._transcribe = model, transcribe
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
        recent = list(self._recent)  # appended on the event loop's thread
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()
        return max((n for t, n in recent if t >= horizon), default=1)

    def _take(self):
        """Every job waiting, up to ``max_batch``, lingering up to ``LINGER_SECONDS`` for the jobs
        recent concurrency expects (blocks for the first one; None when closing)."""
        while True:
            try:
                jobs = [self._queue.get(timeout=0.1)]
                break
            except queue.Empty:
                if self._stopping.is_set():
                    return None
        expected = min(self.max_batch, self._expected())
        deadline = time.monotonic() + LINGER_SECONDS
        while len(jobs) < self.max_batch:
            wait = deadline - time.monotonic() if len(jobs) < expected else 0
            try:
                jobs.append(self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _run(self):
        while (jobs := self._take()) is not None:
            live = [job for job in jobs if not job.cancelled.is_set()]
            for job in jobs:
                if job.cancelled.is_set():
                    job.resolve(None)  # nobody waits for it: dropped unheard
            if not live:
                continue
            self.batches.append(len(live))
            try:
                results = self._transcribe(self.model, [job.path for job in live])
            except Exception as error:  # a bug, not bad audio (that is each result's error): every job hears it
                logger.exception("transcription failed")
                for job in live:
                    job.resolve(error=error)
                continue
            for job, result in zip(live, results):
                job.resolve(result)

    def close(self, timeout=None):
        """Finish the jobs already queued, then stop the worker."""
        self._stopping.set()
        self._thread.join(timeout)
