"""PNG plots: training curves, and a spectrogram with its CTC alignment."""

import pathlib

import numpy as np

from asr.posteriors import log_softmax
from asr.text import BLANK


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, path):
    """Loss (train/dev) and dev CER/WER per epoch, side by side."""
    plt = _pyplot()
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(11, 4))
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if history.get(key):
            ax_loss.plot(range(1, len(history[key]) + 1), history[key], style, label=key)
    ax_loss.set(xlabel="epoch", ylabel="CTC loss per utterance", title="loss")
    for key in ("val_cer", "val_wer"):
        if history.get(key):
            ax_err.plot(range(1, len(history[key]) + 1), history[key], marker=".", label=key)
    ax_err.set(xlabel="epoch", ylabel="error rate", title="dev error (greedy)", ylim=(0, None))
    for ax in (ax_loss, ax_err):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)  # a folder the output check found missing
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_alignment(features, logits, vocabulary, path, title="", frame_seconds=0.01):
    """Spectrogram (``(frames, n_features)``) above the per-frame CTC posteriors (blank hidden),
    with the greedy path's characters written where they are emitted."""
    plt = _pyplot()
    probs = np.exp(log_softmax(logits))
    stride = features.shape[0] / max(len(probs), 1)  # input frames per logit frame
    seconds = features.shape[0] * frame_seconds
    fig, (ax_spec, ax_post) = plt.subplots(2, 1, figsize=(14, 6), sharex=True)
    ax_spec.imshow(features.T, origin="lower", aspect="auto", extent=(0, seconds, 0, features.shape[1]))
    ax_spec.set(ylabel="feature bin", title=title)
    ax_post.imshow(probs[:, 1:].T, origin="lower", aspect="auto", cmap="Greys",
                   extent=(0, len(probs) * stride * frame_seconds, 0.5, probs.shape[1] - 0.5))
    best = probs.argmax(axis=1)
    for t, c in enumerate(best):
        if c != BLANK and (t == 0 or best[t - 1] != c):
            x = (t + 0.5) * stride * frame_seconds
            label = vocabulary.symbols[c - 1].replace(" ", "\u2423")
            ax_post.text(x, c, label, color="red", ha="center", va="center", fontsize=8)
            ax_spec.axvline(x, color="white", alpha=0.3, lw=0.5)
    ax_post.set_yticks(range(1, probs.shape[1]))
    ax_post.set_yticklabels([s.replace(" ", "\u2423") for s in vocabulary.symbols], fontsize=6)
    ax_post.set(xlabel="time (s)", ylabel="character posterior")
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)  # a folder the output check found missing
    fig.savefig(path, dpi=100)
    plt.close(fig)
