"""Signal processing in NumPy (and soxr for resampling): what the features and the pause
finder need, with the exact conventions the toolkit's models were trained with.

These reproduce librosa's ``melspectrogram`` (centred frames, zero padding, periodic Hann,
Slaney mel filters), ``resample(res_type="soxr_hq")`` and ``effects.split``, and
python_speech_features' ``mfcc`` (tests compare them with those libraries, where installed),
without their import cost: librosa pulls numba, llvmlite and SciPy (~370 MB, ~4.5 s to
import), which dominated a cold ``asr transcribe model.onnx`` and the light install.
"""

import functools

import numpy as np

# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
SLANEY_HZ_PER_MEL = 200.0 / 3  # 66.7 Hz per mel on the linear part
SLANEY_LOG_START_HZ = 1000.0
SLANEY_LOG_START_MEL = SLANEY_LOG_START_HZ / SLANEY_HZ_PER_MEL  # 15 mels
SLANEY_LOG_STEP = np.log(6.4) / 27.0  # 27 mels per factor 6.4 (1 kHz -> 6.4 kHz)
SOXR_QUALITY = "HQ"  # soxr's high quality: librosa's default resampler (res_type="soxr_hq")
POWER_FLOOR = 1e-10  # librosa's amin**2 in amplitude_to_db: -100 dB


def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    logarithmic = SLANEY_LOG_START_MEL + np.log(np.maximum(hz, 1e-12) / SLANEY_LOG_START_HZ) / SLANEY_LOG_STEP
    return np.where(hz >= SLANEY_LOG_START_HZ, logarithmic, hz / SLANEY_HZ_PER_MEL)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    logarithmic = SLANEY_LOG_START_HZ * np.exp(SLANEY_LOG_STEP * (mel - SLANEY_LOG_START_MEL))
    return np.where(mel >= SLANEY_LOG_START_MEL, logarithmic, mel * SLANEY_HZ_PER_MEL)


def mel_frequencies(n, fmin, fmax):
    """``n`` frequencies in Hz evenly spaced on the Slaney mel scale from ``fmin`` to ``fmax``."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n))


@functools.lru_cache(maxsize=16)
def mel_filters(sample_rate, n_fft, n_mels):
    """Slaney-normalised triangular mel filters from 0 Hz to Nyquist, float32 ``(n_mels, n_fft // 2 + 1)``
    (each filter's area is constant: weights scaled by 2 / its bandwidth in Hz)."""
    edges = mel_frequencies(n_mels + 2, 0.0, sample_rate / 2)
    ramps = edges[:, None] - np.fft.rfftfreq(n_fft, 1.0 / sample_rate)[None, :]
    widths = np.diff(edges)
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def periodic_hann(length):
    """The Hann window of ``length`` samples as an FFT uses it (periodic: sin^2(pi n / length))."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)).astype(np.float32)


def centered_power_spectrum(audio, n_fft, win_length, hop_length):
    """|STFT|^2 of float32 ``audio`` with frames centred on multiples of ``hop_length``
    (``n_fft // 2`` zeros padded at each end), a periodic Hann window of ``win_length``
    centred in ``n_fft``: float32 ``(1 + len(audio) // hop_length, n_fft // 2 + 1)``."""
    window = np.zeros(n_fft, np.float32)
    start = (n_fft - win_length) // 2
    window[start:start + win_length] = periodic_hann(win_length)
    padded = np.pad(np.asarray(audio, np.float32), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length]
    spectrum = np.fft.rfft(frames * window, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def mel_power(audio, sample_rate, n_fft, win_length, hop_length, n_mels):
    """Mel power spectrogram, ``(frames, n_mels)`` float32 (librosa.feature.melspectrogram's values)."""
    power = centered_power_spectrum(audio, n_fft, win_length, hop_length)
    return power @ mel_filters(sample_rate, n_fft, n_mels).T


@functools.lru_cache(maxsize=16)
def _htk_filters(n_filters, n_fft, sample_rate):
    """python_speech_features' triangles on FFT-bin edges of the HTK mel scale, ``(n_filters, n_fft // 2 + 1)``."""
    top = 2595.0 * np.log10(1.0 + (sample_rate / 2) / 700.0)
    edges_hz = 700.0 * (10.0 ** (np.linspace(0.0, top, n_filters + 2) / 2595.0) - 1.0)
    bins = np.floor((n_fft + 1) * edges_hz / sample_rate)
    filters = np.zeros((n_filters, n_fft // 2 + 1))
    for j, (low, centre, high) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:])):
        rise, fall = np.arange(int(low), int(centre)), np.arange(int(centre), int(high))
        filters[j, rise] = (rise - low) / (centre - low)
        filters[j, fall] = (high - fall) / (high - centre)
    return filters


@functools.lru_cache(maxsize=16)
def _dct_matrix(n_in, n_out):
    """Orthonormal DCT-II as a matrix: ``x @ M`` gives the first ``n_out`` coefficients."""
    n = np.arange(n_in)
    matrix = np.cos(np.pi * np.arange(n_out)[None, :] * (2 * n[:, None] + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    matrix[:, 0] /= np.sqrt(2.0)
    return matrix


def htk_mfcc(audio, sample_rate, win_length, hop_length, n_fft, n_filters, n_mfcc, preemphasis=0.97, lifter=22):
    """MFCC as python_speech_features computes it (rectangular frames, zero-padded to whole
    frames, pre-emphasis, HTK mel filters, log, DCT-II, sinusoidal lifter, log frame energy
    in c0): float64 ``(frames, n_mfcc)``."""
    audio = np.asarray(audio, np.float64)
    emphasised = np.append(audio[0], audio[1:] - preemphasis * audio[:-1])
    n_frames = 1 if len(audio) <= win_length else 1 + int(np.ceil((len(audio) - win_length) / hop_length))
    padded = np.pad(emphasised, (0, (n_frames - 1) * hop_length + win_length - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_length)[::hop_length]
    power = np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2 / n_fft
    tiny = np.finfo(float).eps
    energy = power.sum(axis=1)
    energy = np.where(energy == 0, tiny, energy)
    bands = power @ _htk_filters(n_filters, n_fft, sample_rate).T
    cepstra = np.log(np.where(bands == 0, tiny, bands)) @ _dct_matrix(n_filters, n_mfcc)
    cepstra *= 1 + (lifter / 2.0) * np.sin(np.pi * np.arange(n_mfcc) / lifter)
    cepstra[:, 0] = np.log(energy)
    return cepstra


def resample(audio, orig_sample_rate, sample_rate):
    """Resample mono ``audio`` with soxr's high quality, to ``ceil(len * ratio)`` samples (librosa's length)."""
    import soxr

    out = soxr.resample(audio, orig_sample_rate, sample_rate, quality=SOXR_QUALITY)
    n_samples = int(np.ceil(len(audio) * float(sample_rate) / orig_sample_rate))
    return np.pad(out, (0, max(0, n_samples - len(out))))[:n_samples]


def nonsilent_intervals(audio, top_db, frame_length, hop_length):
    """``(n, 2)`` sample intervals ``[start, end)`` whose centred-frame RMS is within ``top_db``
    of the loudest frame's (librosa.effects.split)."""
    padded = np.pad(np.asarray(audio, np.float32), frame_length // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    power = np.mean(frames**2, axis=1)
    loud = 10 * np.log10(np.maximum(POWER_FLOOR, power)) - 10 * np.log10(np.maximum(POWER_FLOOR, power.max()))
    voiced = np.concatenate([[False], loud > -top_db, [False]])
    edges = np.flatnonzero(np.diff(voiced.astype(np.int8)))  # starts and ends, alternating
    return np.minimum(edges * hop_length, len(audio)).reshape(-1, 2)
