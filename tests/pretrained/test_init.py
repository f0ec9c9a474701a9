"""Fine-tuning (``--init-from``, ``--freeze``) and ``--stop-after``: weights loaded by name and
shape, the base's features and statistics kept, a new vocabulary's output layer fresh, frozen
blocks unchanged by training, and a long run split over invocations on one schedule."""

import json
from dataclasses import replace

import numpy as np
import pytest
from keras import ops

from asr.errors import ConfigError
from asr.features import FeatureConfig
from asr.files import run_files
from asr.models import build_model, load_model
from asr.pretrained.init import freeze_layers, load_weights_by_name
from asr.text import Vocabulary
from asr.train import TrainConfig, train

PARAMS = {"filters": 8, "units": 8, "padding": "same"}
RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, librispeech_dir):
    from test_train import tiny_corpus as make  # the same 8 + 4 real utterances

    return make.__wrapped__(tmp_path_factory, librispeech_dir)


@pytest.fixture(scope="module")
def base_path(tiny_corpus, tmp_path_factory):
    """A trained cnn_rnn base (2 epochs, mfcc) and its file."""
    folder = tmp_path_factory.mktemp("base")
    train(config(tiny_corpus, folder, model="cnn_rnn", model_params=PARAMS, epochs=2), verbose=0)
    return folder / "run" / "model.keras"


def config(corpus, folder, **overrides):
    values = dict(train_data=str(corpus / "train.jsonl"), dev_data=str(corpus / "dev.jsonl"), features="mfcc",
                  epochs=1, batch_size=4, output_dir=str(folder / "run"), cache_dir=str(corpus / "cache"))
    return TrainConfig(**{**values, **overrides})


def weights(model):
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in model.layers if layer.weights}


def test_weights_load_by_name_and_shape_and_a_new_vocabulary_starts_its_output_layer_fresh():
    base = build_model("cnn_rnn", FeatureConfig("mfcc"), **PARAMS)
    base.set_normalization(RNG.normal(size=13), RNG.uniform(1, 2, 13))
    model = build_model("cnn_rnn", FeatureConfig("mfcc"), vocabulary=Vocabulary("abc "), **PARAMS)
    report = load_weights_by_name(model, base)
    assert report["reinitialised"] == {"logits": "weight shapes [(8, 5), (5,)] differ from the base's [(8, 29), (29,)]"}
    assert "normalize" in report["loaded"] and "gru_1" in report["loaded"]
    for name, values in weights(model).items():
        if name != "logits":
            for got, want in zip(values, weights(base)[name]):
                np.testing.assert_array_equal(got, want)
    other = build_model("bidirectional_rnn", FeatureConfig("spectrogram"), units=3)
    with pytest.raises(ConfigError, match="no layer of the base model"):
        load_weights_by_name(other, base)


def test_reinit_keeps_the_named_blocks_fresh_and_loads_the_rest():
    base = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4], conv_kernels=[5], conv_strides=[2],
                       units=4, n_layers=2)
    model = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4], conv_kernels=[5], conv_strides=[2],
                        units=4, n_layers=2)
    fresh = weights(model)
    report = load_weights_by_name(model, base, ["bigru_2", "logits"])
    assert report["reinitialised"] == {name: "named by reinit" for name in ("bigru_2", "bigru_2_bn", "logits")}
    assert "bigru_1" in report["loaded"] and "conv_1" in report["loaded"]
    for name, values in weights(model).items():
        want = fresh[name] if name in report["reinitialised"] else weights(base)[name]
        for got, expected in zip(values, want):
            np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(weights(model)["logits"][0], weights(base)["logits"][0])  # really not the base's
    with pytest.raises(ConfigError, match="reinit: 'top' names no layer.*bigru_1, bigru_2, conv_1, logits"):
        load_weights_by_name(model, base, ["top"])


def test_freeze_covers_a_block_and_its_parts_and_names_the_blocks_when_wrong():
    model = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4], conv_kernels=[5], conv_strides=[2],
                        units=4, n_layers=2)
    assert freeze_layers(model, ["conv", "bigru_1"]) == ["conv_1", "conv_1_bn", "bigru_1", "bigru_1_bn"]
    assert not model.get_layer("bigru_1").trainable and model.get_layer("bigru_2").trainable
    with pytest.raises(ConfigError, match="'gru' names no layer.*bigru_1, bigru_2, conv_1, logits"):
        freeze_layers(model, ["gru"])


def test_init_from_trains_from_the_base_keeps_its_statistics_and_holds_frozen_blocks(base_path, tiny_corpus,
                                                                                     tmp_path):
    base = load_model(base_path, compile=False)
    result = train(config(tiny_corpus, tmp_path, init_from=str(base_path), freeze="conv_1"), verbose=0)
    run = tmp_path / "run"
    report = json.loads((run / "init_from.json").read_text())
    assert report == result["init"] and report["reinitialised"] == {}
    assert report["frozen"] == ["conv_1", "conv_1_bn"] and "logits" in report["loaded"]
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["model"] == "cnn_rnn" and recorded["model_params"] == PARAMS  # the base's, filled in
    tuned = load_model(result["model"], compile=False)
    np.testing.assert_array_equal(ops.convert_to_numpy(tuned.get_layer("normalize").mean),
                                  ops.convert_to_numpy(base.get_layer("normalize").mean))
    for name in ("conv_1", "conv_1_bn"):
        for got, want in zip(weights(tuned)[name], weights(base)[name]):
            np.testing.assert_array_equal(got, want)  # frozen: BatchNorm's moving statistics too
    assert not np.array_equal(weights(tuned)["gru_1"][0], weights(base)["gru_1"][0])

    resumed = train(config(tiny_corpus, tmp_path, init_from=str(base_path), freeze="conv_1", epochs=2), resume=True,
                    verbose=0)
    assert len(resumed["history"]["loss"]) == 2
    again = load_model(run / "checkpoint-e0002.keras", compile=False)
    np.testing.assert_array_equal(weights(again)["conv_1"][0], weights(base)["conv_1"][0])


def test_init_from_refuses_other_features_and_freeze_without_a_base(base_path, tiny_corpus, tmp_path):
    with pytest.raises(ConfigError, match="takes mfcc features of 13 dimensions; the run asks for log_mel of 80"):
        train(config(tiny_corpus, tmp_path, init_from=str(base_path), features="log_mel"), verbose=0)
    with pytest.raises(ConfigError, match="freeze='conv' needs init_from"):
        TrainConfig(freeze="conv")
    with pytest.raises(ConfigError, match="reinit='logits' needs init_from"):
        TrainConfig(reinit="logits")
    with pytest.raises(ConfigError, match=r"holds layers that start fresh \(gru_1, gru_1_bn\): they would never learn"):
        train(config(tiny_corpus, tmp_path / "both", init_from=str(base_path), reinit="gru_1", freeze="gru"),
              verbose=0)
    assert run_files(tmp_path / "both" / "run") == []  # refused before the run: the same folder takes the next try
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        train(config(tiny_corpus, tmp_path, init_from=str(tmp_path / "nope.keras")), verbose=0)


def test_stop_after_ends_the_invocation_on_the_whole_runs_schedule(tiny_corpus, tmp_path):
    cfg = config(tiny_corpus, tmp_path, model="cnn_rnn", model_params=PARAMS, epochs=4, stop_after=1e-4,
                 learning_rate=1e-3, final_lr_ratio=0.1, warmup_epochs=0.0)
    first = train(cfg, verbose=0)
    assert first["stopped_after_epoch"] == 1 and len(first["history"]["loss"]) == 1
    assert "planned_epochs" not in first["history"]
    second = train(cfg, resume=True, verbose=0)
    history = second["history"]
    assert len(history["loss"]) == 2 and second["stopped_after_epoch"] == 2
    steps = 4 * 2  # 8 utterances in batches of 4, 4 epochs: the schedule of the whole run
    assert history["learning_rate"][1] == pytest.approx(1e-4 + 9e-4 * 0.5 * (1 + np.cos(np.pi * 4 / steps)), rel=1e-5)
    third = train(replace(cfg, stop_after=0.0), resume=True, verbose=0)
    assert len(third["history"]["loss"]) == 4 and third["history"]["learning_rate"][-1] == pytest.approx(1e-4, rel=1e-5)
