"""asr.dsp reproduces the libraries the toolkit's features were defined with (librosa,
python_speech_features: test-only dependencies) on real speech."""

import numpy as np
import pytest
import soundfile as sf

from asr import dsp
from asr.features import log_mel, mfcc
from asr.segments import TOP_DB, VAD_FRAME, VAD_HOP

librosa = pytest.importorskip("librosa")
psf = pytest.importorskip("python_speech_features")


@pytest.fixture(scope="module")
def speech(librivox_dir):
    audio, rate = sf.read(sorted(librivox_dir.glob("*.wav"))[0], dtype="float32")
    assert rate == 16000
    return audio


@pytest.mark.parametrize("n_fft, win_length, n_mels, rate", [(400, 400, 80, 16000), (512, 320, 40, 16000),
                                                             (256, 200, 64, 8000)])
def test_log_mel_equals_librosa(speech, n_fft, win_length, n_mels, rate):
    audio = speech if rate == 16000 else speech[::2]
    ours = log_mel(audio, rate, n_mels, n_fft, win_length, 160)
    mel = librosa.feature.melspectrogram(y=audio, sr=rate, n_fft=n_fft, win_length=win_length, hop_length=160,
                                         n_mels=n_mels, power=2.0)
    np.testing.assert_allclose(ours, np.log(mel.T + 1e-10), rtol=1e-4, atol=2e-4)
    np.testing.assert_allclose(dsp.mel_filters(rate, n_fft, n_mels), librosa.filters.mel(sr=rate, n_fft=n_fft,
                                                                                          n_mels=n_mels),
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dsp.mel_frequencies(n_mels, 0.0, rate / 2),
                               librosa.mel_frequencies(n_mels, fmin=0.0, fmax=rate / 2), rtol=1e-10)


@pytest.mark.parametrize("n_mels, win_length, hop_length", [(26, 400, 160), (40, 320, 80)])
def test_mfcc_equals_python_speech_features(speech, n_mels, win_length, hop_length):
    ours = mfcc(speech, 16000, 13, 512, win_length, hop_length, n_mels)
    theirs = psf.mfcc(speech, samplerate=16000, winlen=win_length / 16000, winstep=hop_length / 16000, numcep=13,
                      nfilt=n_mels, nfft=512)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
    short = speech[20000:20300]  # shorter than a frame: one zero-padded frame, as in python_speech_features
    np.testing.assert_allclose(dsp.htk_mfcc(short, 16000, 400, 160, 512, 26, 13), psf.mfcc(short, 16000), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("orig, target", [(16000, 8000), (8000, 16000), (44100, 16000), (48000, 16000)])
def test_resample_equals_librosa_soxr_hq(speech, orig, target):
    ours = dsp.resample(speech, orig, target)
    theirs = librosa.resample(speech, orig_sr=orig, target_sr=target, res_type="soxr_hq")
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("top_db", [TOP_DB, 20])
def test_nonsilent_intervals_equal_librosa_split(speech, top_db):
    padded = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(12000, np.float32)])
    for audio in (padded, speech, speech[: len(speech) // 3]):
        ours = dsp.nonsilent_intervals(audio, top_db, VAD_FRAME, VAD_HOP)
        theirs = librosa.effects.split(audio, top_db=top_db, frame_length=VAD_FRAME, hop_length=VAD_HOP)
        np.testing.assert_array_equal(ours, theirs)
    assert len(dsp.nonsilent_intervals(padded, top_db, VAD_FRAME, VAD_HOP)) >= 1
