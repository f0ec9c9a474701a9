"""Load on a live ``asr serve``, bounded in count and time, loopback only: 16 clients x 20
files of real speech; every request is answered, with its own file's text (the same as
``asr transcribe`` offline) or a 503 with Retry-After (then the client sends that file again
a moment later, as a client honouring it would), none lost or mixed up; memory bounded."""

import concurrent.futures
import http.client
import json
import time

import pytest
from live_server import API_KEY, onnx_model, start_server, stop_server  # noqa: F401  (fixture)
from test_api import offline  # noqa: F401  (fixture)
from test_hostile import multipart

CLIENTS, REQUESTS = 16, 20
RETRY_PAUSE_SECONDS = 0.05  # a 503's Retry-After says 1 s; the test's clients come back sooner
MAX_TRIES = 200  # per file: far more than the queue's refusals at this load need
MAX_RSS_MB = 1500


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_sixteen_clients_get_their_own_answers_or_503(onnx_model, offline, tmp_path):
    process, url = start_server(onnx_model, "--queue-size", 8, "--max-batch", 8, tmp=tmp_path)
    host, port = url.removeprefix("http://").split(":")
    files = list(offline)
    bodies = {path: multipart({"model": "m"}, payload=open(path, "rb").read()) for path in files}

    def client(index):
        connection, answers = http.client.HTTPConnection(host, int(port), timeout=120), []
        for request in range(REQUESTS):
            path = files[(index + request) % len(files)]
            content_type, body = bodies[path]
            for _ in range(MAX_TRIES):
                connection.request("POST", "/v1/audio/transcriptions", body=body,
                                   headers={"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}"})
                response = connection.getresponse()
                data = response.read()
                answers.append((path, response.status, json.loads(data), response.getheader("Retry-After")))
                if response.status != 503:
                    break
                time.sleep(RETRY_PAUSE_SECONDS)
        connection.close()
        return answers

    try:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for result in pool.map(client, range(CLIENTS)) for a in result]
        seconds = time.monotonic() - start
        memory = rss_mb(process.pid)
    finally:
        stop_server(process)
    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {200, 503}, statuses
    for path, status, body, retry_after in answers:
        if status == 200:
            assert body["text"] == offline[path]["text"], path  # its own file's text, never another's
        else:
            assert retry_after == "1" and body["error"]["code"] == "server_busy"
    served = sum(status == 200 for _, status, _, _ in answers)
    assert served == CLIENTS * REQUESTS, f"{served} files of {CLIENTS * REQUESTS} served"  # each, in the end
    assert memory < MAX_RSS_MB, f"{memory:.0f} MB"
    print(f"{served} files served in {seconds:.1f} s after {len(answers) - served} x 503, RSS now {memory:.0f} MB")


@pytest.mark.parametrize("kind", ["disconnect"])
def test_a_client_that_goes_away_does_not_stop_the_others(onnx_model, offline, tmp_path, kind):
    process, url = start_server(onnx_model, tmp=tmp_path)
    host, port = url.removeprefix("http://").split(":")
    path = next(iter(offline))
    content_type, body = multipart({"model": "m"}, payload=open(path, "rb").read())
    try:
        for _ in range(4):  # send, then hang up before the answer
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("POST", "/v1/audio/transcriptions", body=body,
                               headers={"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}"})
            connection.sock.close()
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/v1/audio/transcriptions", body=body,
                           headers={"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["text"] == offline[path]["text"]
    finally:
        stop_server(process)


def test_shutdown_finishes_the_requests_in_flight(onnx_model, librivox_dir, tmp_path):
    import urllib.request

    import numpy as np
    import soundfile as sf

    speech = np.concatenate([sf.read(p, dtype="float32")[0] for p in sorted(librivox_dir.glob("*.wav"))] * 6)
    sf.write(tmp_path / "long.wav", speech, 16000)  # ~3 minutes: long enough to be in flight
    process, url = start_server(onnx_model, "--max-audio-seconds", 600, tmp=tmp_path)
    host, port = url.removeprefix("http://").split(":")
    content_type, body = multipart({"model": "m"}, payload=(tmp_path / "long.wav").read_bytes())

    def request(_):
        connection = http.client.HTTPConnection(host, int(port), timeout=300)
        connection.request("POST", "/v1/audio/transcriptions", body=body,
                           headers={"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(request, i) for i in range(3)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url + "/health") as response:
                if json.loads(response.read())["in_flight"] >= 1:
                    break
            time.sleep(0.05)
        process.terminate()  # SIGTERM while the long files are being transcribed
        results = [future.result() for future in pending]
    process.wait(120)
    assert [status for status, _ in results] == [200, 200, 200], results
    assert all(body["text"] == results[0][1]["text"] for _, body in results)
