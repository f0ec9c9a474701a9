import numpy as np
import pytest

from asr.averaging import average_checkpoints, average_weights
from asr.callbacks import Checkpoint, StopOnNaN
from asr.errors import ConfigError
from asr.features import FeatureConfig
from asr.models import build_model, load_model


def test_average_weights_means_floats_and_keeps_the_last_integers():
    first = [np.full((2, 3), 1.0, np.float32), np.array([7], np.int64)]
    second = [np.full((2, 3), 4.0, np.float32), np.array([9], np.int64)]
    averaged = average_weights([first, second])
    np.testing.assert_array_equal(averaged[0], np.full((2, 3), 2.5))
    assert averaged[0].dtype == np.float32
    assert averaged[1].tolist() == [9]
    np.testing.assert_array_equal(average_weights([first])[0], first[0])  # one list: itself


def test_average_weights_checks_its_input():
    with pytest.raises(ValueError, match="at least one"):
        average_weights([])
    with pytest.raises(ValueError, match=r"weight list 1 has shapes \[\(3,\)\]"):
        average_weights([[np.zeros(2)], [np.zeros(3)]])


def _model(units):
    return build_model("rnn", FeatureConfig("log_mel"), units=units)


def test_average_checkpoints_is_the_mean_model_and_reloads(tmp_path):
    models = [_model(4), _model(4), _model(4)]
    paths = []
    for i, model in enumerate(models):
        model.set_weights([np.full_like(w, float(i)) if w.dtype.kind == "f" else w for w in model.get_weights()])
        paths.append(tmp_path / f"e{i}.keras")
        model.save(paths[-1])
    averaged = average_checkpoints(paths)
    assert all(np.allclose(w, 1.0) for w in averaged.get_weights() if w.dtype.kind == "f")
    inputs = {"features": np.random.default_rng(0).normal(size=(1, 20, 80)).astype("float32"),
              "feature_lengths": np.array([20], "int32")}
    averaged.save(tmp_path / "mean.keras")
    reloaded = load_model(tmp_path / "mean.keras")  # safe_mode
    np.testing.assert_allclose(reloaded.predict_on_batch(inputs), averaged.predict_on_batch(inputs), atol=1e-6)


def test_average_checkpoints_refuses_a_different_model(tmp_path):
    _model(4).save(tmp_path / "a.keras")
    _model(6).save(tmp_path / "b.keras")
    with pytest.raises(ConfigError, match=r"b\.keras: its weights do not match those of .*a\.keras"):
        average_checkpoints([tmp_path / "a.keras", tmp_path / "b.keras"])
    with pytest.raises(ConfigError, match="no checkpoint files"):
        average_checkpoints([])


def test_resumed_checkpoint_window_shrinks_to_keep_last(tmp_path):
    state = {"checkpoint": "c", "recent_checkpoints": ["a", "b", "c"]}
    assert Checkpoint(tmp_path, StopOnNaN(), state, keep_last=2).files["recent_checkpoints"] == ["b", "c"]
    assert Checkpoint(tmp_path, StopOnNaN(), state, keep_last=5).files["recent_checkpoints"] == ["a", "b", "c"]
