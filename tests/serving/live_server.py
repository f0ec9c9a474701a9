"""A live ``asr serve`` for the serving tests: a small exported model on a free loopback port,
started by the tests themselves and stopped after them."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from conftest import ROOT

pytest.importorskip("starlette")
pytest.importorskip("onnxruntime")

API_KEY = "test-key-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model, *flags, api_key=API_KEY, timeout=120, tmp=None):
    """``(process, base_url)`` of ``asr serve MODEL`` once ``/health`` answers (``tmp``: its
    temporary folder, where its private uploads folder goes)."""
    port = free_port()
    command = [sys.executable, "-m", "asr", "serve", str(model), "--port", str(port), *map(str, flags)]
    if api_key:
        command += ["--api-key", api_key]
    env = {**os.environ, **({"TMPDIR": str(tmp)} if tmp else {})}
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"asr serve exited {process.returncode}: {process.stderr.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("asr serve did not answer /health in time")


def stop_server(process):
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory):
    """A small cnn_rnn model (normalisation set) exported to ONNX, and its .keras file."""
    pytest.importorskip("tf2onnx")
    from asr.export import export_onnx
    from asr.features import FeatureConfig
    from asr.models import build_model

    folder = tmp_path_factory.mktemp("served")
    model = build_model("cnn_rnn", FeatureConfig("log_mel"), filters=16, units=16, padding="same")
    rng = np.random.default_rng(0)
    model.set_normalization(rng.normal(size=80).astype("float32"), rng.uniform(1, 2, 80).astype("float32"))
    model.save(folder / "small.keras")
    export_onnx(folder / "small.keras", folder / "small.onnx")
    return folder / "small.onnx"


@pytest.fixture(scope="module")
def server_tmp(tmp_path_factory):
    """The served process' temporary folder (its private uploads folder is made inside)."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(onnx_model, server_tmp):
    process, url = start_server(onnx_model, "--read-timeout", 2, "--max-upload-mb", 5, "--max-audio-seconds", 60,
                                tmp=server_tmp)
    yield url
    stop_server(process)
    assert not list(server_tmp.glob("asr-serve-*")), "the uploads folder outlived the server"
