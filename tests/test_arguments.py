"""Arguments are checked where they enter: the command line refuses a bad value in one line
(exit 2) before any work, and the Python API applies the same rule."""

import pytest
from test_cli import asr

from asr.cli import main
from asr.errors import ConfigError
from asr.inference import check_transcribe_options
from asr.posteriors import check_beam_options


@pytest.mark.parametrize("flags, message", [
    (("--batch-size", "0"), "batch_size=0 must be an integer from 1 to 1024"),
    (("--batch-size", "-3"), "batch_size=-3 must be an integer from 1 to 1024"),
    (("--max-segment-seconds", "inf"), "max_segment_seconds=inf must be from 3 to 600 seconds"),
    (("--max-segment-seconds", "1"), "max_segment_seconds=1.0 must be from 3 to 600 seconds"),
    (("--max-segment-seconds", "nan"), "max_segment_seconds=nan must be from 3 to 600 seconds"),
    (("--beam-width", "100000"), "beam_width=100000 must be an integer from 1 to 1024"),
    (("--lm-weight", "1e308"), "lm_weight=1e+308 must be a number from 0 to 10"),
    (("--word-bonus=-inf",), "word_bonus=-inf must be a number from -20 to 20"),
])
def test_transcribe_flags_are_checked_before_any_work(small_model_path, librivox_dir, flags, message, capsys):
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    status = main(["transcribe", str(small_model_path), str(wav), *flags])  # in this process: no start-up each
    stderr = capsys.readouterr().err
    assert status == 2 and stderr.strip() == f"asr transcribe: error: {message}", stderr


def test_evaluate_flags_are_checked_before_any_work(small_model_path, librivox_dir):
    result = asr("evaluate", small_model_path, librivox_dir, "--batch-size", "0")
    assert result.returncode == 2 and "batch_size=0 must be an integer" in result.stderr


def test_the_api_applies_the_same_rules():
    with pytest.raises(ConfigError, match="batch_size=0"):
        check_transcribe_options(0, 20.0)
    with pytest.raises(ConfigError, match="max_segment_seconds=inf"):
        check_transcribe_options(8, float("inf"))
    with pytest.raises(ConfigError, match="beam_width=True"):
        check_beam_options(True, 0.5, 1.0)
    check_transcribe_options(8, 20.0)
    check_beam_options(1024, 10.0, -20.0)
