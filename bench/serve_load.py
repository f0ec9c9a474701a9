"""``asr serve`` under load against ``asr transcribe`` of the same files, in the same run.

    python bench/serve_load.py --model model.onnx                       # 1, 4 and 16 clients
    python bench/serve_load.py --model model.onnx --smoke               # a few requests, for CI

The files: the held-out LibriSpeech speaker's utterances cut or padded to 10-second clips
(``--clip-seconds``). First ``asr transcribe`` of all of them in one process (the batch command's
throughput, audio seconds per second, start-up excluded); then a live server on a free loopback
port, and for each client count, every client sending its share of the clips one after another.
Printed and recorded per count: throughput (audio s/s) and its ratio to the batch command's,
latency p50/p95, 503s, lost requests and the server's memory (RSS). Targets (2 CPU cores):
at 4 clients >= 0.8 of the batch throughput and p95 <= 0.5 s for a 10-second clip; at 16,
nothing lost and memory under 1.5 GB. Results: bench/results/serve_load.json.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

TARGETS = {"throughput_ratio_4": 0.8, "p95_seconds_4": 0.5, "rss_mb_16": 1500}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help=".onnx (or .keras) model")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--clips", type=int, default=48, help="clips sent at each client count")
    p.add_argument("--clip-seconds", type=float, default=10.0)
    p.add_argument("--max-batch", type=int, default=8, help="the server's --max-batch (1: no shared forward passes)")
    p.add_argument("--smoke", action="store_true", help="6 clips, 1 and 2 clients; nothing written unless --output")
    p.add_argument("--output", help="JSON results (default: bench/results/serve_load.json)")
    return p.parse_args(argv)


def make_clips(folder, count, seconds):
    """``count`` WAV clips of ``seconds`` of real speech (the shared sample's speaker 4088, looped)."""
    import soundfile as sf

    from asr.corpus import load_entries
    from asr.paths import default_data_dir

    entries = load_entries(default_data_dir() / "librispeech-sample" / "LibriSpeech" / "train-clean-100" / "4088")[0]
    speech = np.concatenate([sf.read(e["path"], dtype="float32")[0] for e in entries[: count + 8]])
    length = int(seconds * 16000)
    paths = []
    for i in range(count):
        start = (i * length) % max(len(speech) - length, 1)
        paths.append(folder / f"clip{i:03d}.wav")
        sf.write(paths[-1], speech[start: start + length], 16000)
    return paths


def batch_command(model, paths):
    """``asr transcribe`` of every clip in one process: ``(texts by path, audio s/s)`` (start-up excluded:
    the model is loaded first, then the clock runs)."""
    code = f"""
import json, sys, time
import asr.cli  # first, as the asr command: its settings (one OpenBLAS thread) before NumPy loads
from asr.inference import transcribe
from asr.onnx_runtime import load_model
model = load_model({str(model)!r}, compile=False)
paths = {[str(p) for p in paths]!r}
transcribe(model, paths[:1])
start = time.perf_counter()
results = transcribe(model, paths)
print(json.dumps({{"seconds": time.perf_counter() - start, "texts": {{r.path: r.text for r in results}},
                  "audio": sum(r.duration for r in results)}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["texts"], result["audio"] / result["seconds"]


def start_server(model, folder, max_batch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "asr", "serve", str(model), "--port", str(port),
                                "--queue-size", "64", "--max-batch", str(max_batch)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": str(folder)})
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("serve_load.py: error: asr serve did not start")


def request(port, path):
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--{boundary}\r\n'
            f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n\r\n').encode() \
        + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.perf_counter()
    connection.request("POST", "/v1/audio/transcriptions", body=body,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    data = json.loads(response.read())
    connection.close()
    return response.status, data, time.perf_counter() - start


def load(port, paths, clients, expected, seconds):
    """Every client sends its share of ``paths`` in turn; the numbers of one client count."""
    shares = [paths[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        answers = [a for share in pool.map(lambda s: [(p, *request(port, p)) for p in s], shares) for a in share]
    wall = time.perf_counter() - start
    ok = [(p, data, latency) for p, status, data, latency in answers if status == 200]
    wrong = sum(data["text"] != expected[str(p)] for p, data, _ in ok)
    latencies = np.array([latency for _, _, latency in ok]) if ok else np.array([np.nan])
    return {"clients": clients, "requests": len(paths), "answered": len(answers), "served": len(ok),
            "busy_503": sum(status == 503 for _, status, _, _ in answers), "wrong_text": int(wrong),
            "throughput": round(len(ok) * seconds / wall, 1),
            "p50_seconds": round(float(np.percentile(latencies, 50)), 3),
            "p95_seconds": round(float(np.percentile(latencies, 95)), 3)}


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main(argv=None):
    args = parse_args(argv)
    clients, count = ([1, 2], 6) if args.smoke else (args.clients, args.clips)
    with tempfile.TemporaryDirectory() as folder:
        paths = make_clips(pathlib.Path(folder), count, args.clip_seconds)
        expected, batch_throughput = batch_command(args.model, paths)
        print(f"asr transcribe: {batch_throughput:.1f} audio s/s")
        process, port = start_server(args.model, folder, args.max_batch)
        try:
            request(port, paths[0])  # the first request warms the model up, as the batch command's did
            rows = []
            for n in clients:
                row = load(port, paths, n, expected, args.clip_seconds)
                row.update(throughput_ratio=round(row["throughput"] / batch_throughput, 3), rss_mb=round(rss_mb(
                    process.pid)))
                rows.append(row)
                print(f"{n:>3} clients: {row['throughput']:.1f} audio s/s ({row['throughput_ratio']:.2f}x the batch "
                      f"command), p50 {row['p50_seconds']:.3f} s, p95 {row['p95_seconds']:.3f} s, "
                      f"{row['busy_503']} x 503, {row['answered'] - row['served'] - row['busy_503']} other, "
                      f"{row['wrong_text']} wrong, RSS {row['rss_mb']} MB")
        finally:
            process.terminate()
            process.wait(60)
    from asr.serving.cli import DEFAULT_THREADS

    report = {"model": str(args.model), "clip_seconds": args.clip_seconds, "max_batch": args.max_batch,
              "server_threads": DEFAULT_THREADS,
              "batch_throughput": round(batch_throughput, 1), "rows": rows, "targets": TARGETS,
              **machine_facts("onnxruntime")}
    write_result(args.output if (args.output or args.smoke) else ROOT / "bench" / "results" / "serve_load.json",
                 report)


if __name__ == "__main__":
    main()
