"""Hostile requests to a live ``asr serve``: each gets an OpenAI-style JSON error with the right
status, never a stack trace, and the server goes on answering; uploads never stay on disk."""

import http.client
import json
import socket
import time
import uuid

import numpy as np
import soundfile as sf
from live_server import API_KEY, onnx_model, server, server_tmp  # noqa: F401  (fixtures)
from test_header_claims import forged_mp3

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def multipart(fields, file_name="a.wav", payload=b"", boundary=None):
    """A multipart/form-data body: ``(content_type, bytes)``."""
    boundary = boundary or uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    if file_name is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + payload + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()


def post(url, body, content_type, headers=AUTH, path="/v1/audio/transcriptions"):
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request("POST", path, body=body, headers={"Content-Type": content_type, **headers})
    response = connection.getresponse()
    status, data = response.status, response.read()
    connection.close()
    return status, json.loads(data) if data.startswith(b"{") else data


def read_reply(sock):
    """A whole HTTP response from a raw socket: the headers, then as many body bytes as they announce
    (the body may come in a packet of its own)."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def assert_error(status_and_body, status, words):
    got, body = status_and_body
    assert got == status, (got, body)
    assert set(body["error"]) == {"message", "type", "param", "code"} and words in body["error"]["message"], body
    assert "Traceback" not in json.dumps(body)


def test_each_bad_request_is_one_json_error(server, tmp_path, librivox_dir):
    wav = sorted(librivox_dir.glob("*.wav"))[0].read_bytes()
    assert_error(post(server, b"{}", "application/json"), 415, "expected a multipart/form-data upload")
    assert_error(post(server, *reversed(multipart({"model": "m"}, file_name=None))), 400, "missing the 'file'")
    assert_error(post(server, *reversed(multipart({}, payload=wav))), 400, "missing the 'model'")
    content_type, body = multipart({"model": "m"}, payload=wav)
    assert_error(post(server, body[: len(body) // 2], content_type), 400, "cut short")  # truncated
    assert_error(post(server, b"--zz\r\nContent-Disposition: nonsense\r\n\r\nx", content_type), 400, "")
    assert_error(post(server, *reversed(multipart({"model": "m"}, payload=wav)), headers={}), 401, "API key")
    assert_error(post(server, *reversed(multipart({"model": "m"}, payload=wav)),
                      headers={"Authorization": "Bearer " + API_KEY[:-1] + "x"}), 401, "API key")
    forged = forged_mp3(tmp_path / "liar.mp3").read_bytes()
    assert_error(post(server, *reversed(multipart({"model": "m"}, "liar.mp3", forged))), 400,
                 "its header claims 1,799,999.9 s")
    long_audio = tmp_path / "long.flac"
    sf.write(long_audio, np.zeros(16000 * 61, "float32"), 16000)
    assert_error(post(server, *reversed(multipart({"model": "m"}, "long.flac", long_audio.read_bytes()))), 413,
                 "over the limit of 60 s")


def test_a_huge_upload_is_refused_before_it_is_read(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:  # claims 200 MB, sends a little
        s.sendall(f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
                  "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 209715200\r\n\r\n".encode()
                  + b"x" * 1000)
        start = time.monotonic()
        reply = read_reply(s)
        assert time.monotonic() - start < 5 and reply.startswith("HTTP/1.1 413"), reply
        assert "over the limit of 5 MB" in reply
    content_type, body = multipart({"model": "m"}, payload=b"\0" * (6 * 2**20))  # chunked: no length to check
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request("POST", "/v1/audio/transcriptions", body=iter([body[i: i + 65536]
                                                                      for i in range(0, len(body), 65536)]),
                       headers={"Content-Type": content_type, **AUTH}, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413 and b"over the limit" in response.read()


def test_a_stalled_upload_times_out_and_the_server_goes_on(server, librivox_dir):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
                  "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n".encode())
        start = time.monotonic()
        reply = read_reply(s)  # the server's read timeout is 2 s in these tests
        assert 1.5 < time.monotonic() - start < 10 and reply.startswith("HTTP/1.1 408"), reply
    wav = sorted(librivox_dir.glob("*.wav"))[0].read_bytes()
    status, body = post(server, *reversed(multipart({"model": "m"}, payload=wav)))
    assert status == 200 and "text" in body


def test_uploads_are_private_and_never_left_behind(server, server_tmp):
    """After every request above (good, refused, cut short, stalled), the uploads folder is empty,
    and only its owner may enter it."""
    (folder,) = server_tmp.glob("asr-serve-*")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert not list(folder.iterdir())
