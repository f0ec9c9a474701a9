"""``asr serve`` through the real ``openai`` client: every response format, word times, the text
equal to ``asr transcribe``'s offline, and the server's refusals mapped onto the client's errors."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

openai = pytest.importorskip("openai")
from live_server import API_KEY, onnx_model, server, server_tmp  # noqa: E402,F401  (fixtures)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def offline(onnx_model, librivox_dir):
    """Each LibriVox file's text from ``asr transcribe`` (jsonl), by path."""
    wavs = sorted(librivox_dir.glob("*.wav"))[:3]
    done = subprocess.run([sys.executable, "-m", "asr", "transcribe", str(onnx_model), *map(str, wavs), "--format",
                           "jsonl", "-q"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return {row["path"]: row for row in map(json.loads, done.stdout.splitlines())}


def transcribe(client, path, **options):
    with open(path, "rb") as f:
        return client.audio.transcriptions.create(model="whisper-1", file=f, **options)


def test_every_response_format_gives_the_offline_text(client, offline):
    for path, expected in offline.items():
        assert transcribe(client, path).text == expected["text"]
        assert transcribe(client, path, response_format="text").strip() == expected["text"]
        srt = transcribe(client, path, response_format="srt")
        vtt = transcribe(client, path, response_format="vtt")
        words = " ".join(w["word"] for w in expected["words"])
        if words:
            assert srt.startswith("1\n00:00:") and " --> " in srt
            assert vtt.startswith("WEBVTT\n\n00:00:")
        verbose = transcribe(client, path, response_format="verbose_json", timestamp_granularities=["word", "segment"],
                             language="en", prompt="ignored", temperature=0.0)
        assert verbose.text == expected["text"] and verbose.language == "english"
        assert abs(verbose.duration - expected["duration"]) < 0.01
        assert [(w.word, w.start, w.end) for w in verbose.words] == [(w["word"], w["start"], w["end"])
                                                                     for w in expected["words"]]
        assert [s.text for s in verbose.segments] == [s["text"] for s in expected["segments"]]


def test_models_health_and_page(client, server):
    import urllib.request

    assert [m.id for m in client.models.list()] == ["small"]
    with urllib.request.urlopen(server + "/health") as response:  # no key needed
        assert json.loads(response.read())["status"] == "ok"
    with urllib.request.urlopen(server + "/") as response:
        page = response.read().decode()
    assert "Transcribe speech" in page and "http" not in page.split("<script>")[0].lower().replace(
        'name="viewport"', "")  # no third-party resources


def test_refusals_map_onto_the_clients_errors(client, server, tmp_path, librivox_dir):
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    wrong_key = openai.OpenAI(base_url=server + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        transcribe(wrong_key, wav)
    with pytest.raises(openai.BadRequestError, match="language 'fr' is not served"):
        transcribe(client, wav, language="fr")
    with pytest.raises(openai.BadRequestError, match="response_format 'xml'"):
        transcribe(client, wav, response_format="xml")
    with pytest.raises(openai.BadRequestError, match="needs response_format verbose_json"):
        transcribe(client, wav, timestamp_granularities=["word"])
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(openai.BadRequestError, match="is empty"):
        transcribe(client, tmp_path / "empty.wav")
    (tmp_path / "notes.wav").write_text("not audio at all\n" * 20)
    with pytest.raises(openai.BadRequestError, match="cannot read audio file 'notes.wav'") as error:
        transcribe(client, tmp_path / "notes.wav")
    assert "asr-serve-" not in str(error.value)  # the server's temporary path is never shown


def test_binding_beyond_this_machine_without_a_key_warns(onnx_model, monkeypatch, caplog):
    import uvicorn

    from asr.cli import main
    from asr.serving.cli import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("ASR_API_KEY", raising=False)
    assert main(["serve", str(onnx_model), "--host", "0.0.0.0"]) == 0
    assert calls[-1]["host"] == "0.0.0.0" and "without an API key" in caplog.text
    caplog.clear()
    monkeypatch.setenv("ASR_API_KEY", "k")
    assert main(["serve", str(onnx_model), "--host", "0.0.0.0"]) == 0 and "without an API key" not in caplog.text
    assert main(["serve", str(onnx_model)]) == 0 and calls[-1]["host"] == "127.0.0.1"  # the default
    assert main(["serve", str(onnx_model), "--port", "0"]) == 2


def test_the_model_gets_the_threads_asked_for(onnx_model, monkeypatch):
    import uvicorn

    import asr.onnx_runtime
    from asr.cli import main
    from asr.serving.cli import DEFAULT_THREADS

    loaded, load = [], asr.onnx_runtime.load_model

    def recorded(path, **kwargs):
        loaded.append(load(path, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    monkeypatch.setattr(asr.onnx_runtime, "load_model", recorded)
    assert main(["serve", str(onnx_model)]) == 0 and main(["serve", str(onnx_model), "--threads", "3"]) == 0
    threads = [model.session.get_session_options().intra_op_num_threads for model in loaded]
    assert threads == [DEFAULT_THREADS, 3] and DEFAULT_THREADS >= 1
    assert main(["serve", str(onnx_model), "--threads", "-1"]) == 2


def test_a_keras_model_is_served_too(onnx_model, offline, tmp_path):
    from live_server import start_server, stop_server

    process, url = start_server(onnx_model.with_suffix(".keras"), tmp=tmp_path)
    try:
        client = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0, timeout=120)
        path = next(iter(offline))
        assert transcribe(client, path).text == offline[path]["text"]  # the exported graph's text, from Keras
    finally:
        stop_server(process)
