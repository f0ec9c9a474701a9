"""Data-parallel training (asr.distributed): batch sharding rules in NumPy, then real runs of
``asr train`` on JAX with 2 virtual CPU devices, and a 2-process job on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from asr.batches import CTCBatches
from asr.config import TrainConfig
from asr.skip_report import SkipReport
from asr.utterances import UtteranceSet

TINY_MODEL = json.dumps({"conv_filters": [8], "units": 8, "n_layers": 1, "dropout": 0.0})
UTTERANCES = 12  # shortest real utterances of one speaker: 3 batches of 4


def utterance_set(lengths):
    rng = np.random.default_rng(0)
    return UtteranceSet([rng.normal(size=(n, 3)).astype("float32") for n in lengths],
                        [np.array([1, 2], "int32")] * len(lengths), [{"id": str(i)} for i in range(len(lengths))],
                        SkipReport())


def test_shards_are_disjoint_and_share_the_global_shapes():
    data = utterance_set([30, 50, 70, 90, 110, 130, 150, 170])
    shards = [CTCBatches(data, 4, shuffle=True, seed=3, pad_multiple=16, batch_multiple=2, shard_index=i,
                         shard_count=2) for i in range(2)]
    whole = CTCBatches(data, 4, shuffle=True, seed=3, pad_multiple=16, batch_multiple=2)
    for index in range(len(whole)):
        (x0, y0), (x1, y1), (x, y) = shards[0][index], shards[1][index], whole[index]
        assert x0["features"].shape == x1["features"].shape == (2,) + x["features"].shape[1:]
        np.testing.assert_array_equal(np.concatenate([x0["features"], x1["features"]]), x["features"])
        np.testing.assert_array_equal(np.concatenate([y0["labels"], y1["labels"]]), y["labels"])


def test_last_batch_is_cut_to_the_device_count_and_counted():
    data = utterance_set(range(20, 20 + 11 * 7, 7))  # 11 utterances, batches of 4 on 2 devices: 4 + 4 + 3 -> 2
    batches = CTCBatches(data, 4, shuffle=True, seed=0, batch_multiple=2)
    assert batches.trimmed_per_epoch == 1
    seen = []
    for _ in range(4):
        sizes = [len(batches.batches[i]) for i in range(len(batches))]
        assert sorted(sizes) == [2, 4, 4]
        seen.append(set(range(11)) - {int(i) for b in batches.batches for i in b})
        batches.on_epoch_end()
    assert all(len(cut) == 1 for cut in seen) and len({frozenset(cut) for cut in seen}) > 1  # not always the same
    with pytest.raises(ValueError, match="batch_size=3 must be a multiple of batch_multiple=2"):
        CTCBatches(data, 3, batch_multiple=2)


def test_devices_setting_is_checked():
    assert TrainConfig(devices=2).devices == "2" and TrainConfig(devices="ALL").devices == "all"
    with pytest.raises(ValueError, match="devices='two'"):
        TrainConfig(devices="two")


def _jax_env(**extra):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    return {**env, **extra}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, librispeech_entries):
    from asr.corpus import write_manifest

    folder = tmp_path_factory.mktemp("distributed")
    shortest = sorted(librispeech_entries, key=lambda e: e["duration"])[:UTTERANCES]
    write_manifest(shortest, folder / "train.jsonl")
    write_manifest(shortest[:4], folder / "dev.jsonl")
    return folder


def train_command(manifest, output_dir, *flags):
    return [sys.executable, "-m", "asr", "train", "--train-data", str(manifest / "train.jsonl"), "--dev-data",
            str(manifest / "dev.jsonl"), "--output-dir", str(output_dir), "--batch-size", "4", "--epochs", "1",
            "--no-sortagrad", "--model-params", TINY_MODEL, "--features", "mfcc", "--dev-subset", "4",
            "--cache-dir", str(manifest / "cache"), *flags]


def run(command, env, timeout=300):
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def history(output_dir):
    return json.loads((output_dir / "history.json").read_text())


def test_two_devices_train_like_one_checkpoint_once_and_resume(manifest, tmp_path):
    env = _jax_env()
    run(train_command(manifest, tmp_path / "one", "--devices", "1"), env)
    run(train_command(manifest, tmp_path / "two", "--devices", "2"), env)
    one, two = history(tmp_path / "one"), history(tmp_path / "two")
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    np.testing.assert_allclose(two["val_loss"], one["val_loss"], rtol=1e-4)
    report = json.loads((tmp_path / "two" / "data_report.json").read_text())[-1]
    assert report == {"name": "batches", "devices": 2, "processes": 1, "items_per_epoch": UTTERANCES,
                      "batches_per_epoch": 3, "utterances_cut_per_epoch": 0}
    assert sorted(p.name for p in (tmp_path / "two").glob("*.keras")) == ["best-e0001.keras",
                                                                          "checkpoint-e0001.keras", "model.keras"]
    run(train_command(manifest, tmp_path / "two", "--devices", "2", "--resume", "--epochs", "2"), env)
    resumed = history(tmp_path / "two")
    assert len(resumed["loss"]) == 2 and resumed["loss"][0] == two["loss"][0]


def test_more_devices_than_jax_on_other_backends_is_a_clear_error(manifest, tmp_path):
    env = {**_jax_env(), "KERAS_BACKEND": "torch"}
    result = subprocess.run(train_command(manifest, tmp_path / "torch", "--devices", "2"), capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 2 and "needs the JAX backend" in result.stderr and "Traceback" not in result.stderr


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_on_localhost_train_one_job(manifest, tmp_path):
    port = free_port()
    env = {**_jax_env(), "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
    outputs = [tmp_path / "job", tmp_path / "job"]  # one shared output folder: only process 0 writes
    procs = [subprocess.Popen(train_command(manifest, outputs[i], "--devices", "all", "--job-addresses",
                                            f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i),
                                            "--time-budget", "30"),  # process 0's plan, broadcast
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for i in range(2)]
    results = []
    for proc in procs:
        try:
            stdout, stderr = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise
        assert proc.returncode == 0, stderr[-3000:]
        results.append(json.loads(stdout[stdout.index("{"):]))
    assert results[0]["final"]["loss"] == pytest.approx(results[1]["final"]["loss"], rel=1e-6)
    report = json.loads((tmp_path / "job" / "data_report.json").read_text())[-1]
    assert report["devices"] == 2 and report["processes"] == 2
    assert history(tmp_path / "job")["planned_epochs"] == [1]
    single = tmp_path / "single"
    run(train_command(manifest, single, "--devices", "2"), _jax_env())
    assert history(single)["loss"][0] == pytest.approx(results[0]["final"]["loss"], rel=1e-4)
