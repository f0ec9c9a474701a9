"""The evaluation job: decode a corpus and report CER/WER with error breakdowns.

>>> report = evaluate(model, entries, decoder="greedy", name="dev-clean-2")
>>> report["cer"]["rate"], report["wer"]["rate"]
"""

import numpy as np

from asr.data import prepare
from asr.metrics import char_errors, edit_counts, word_errors
from asr.transcribe import decode_logits, make_decoder, predict_logits

N_EXAMPLES = 5  # reference/hypothesis pairs shown in a report
N_WORST = 5  # worst utterances (by CER) listed in a report


def score(references, hypotheses, ids=None, n_examples=N_EXAMPLES, n_worst=N_WORST):
    """Corpus CER/WER (with S/D/I counts), a few examples and the worst utterances."""
    ids = ids or [str(i) for i in range(len(references))]
    rows = [{"id": i, "reference": r, "hypothesis": h, "cer": edit_counts(r, h).rate}
            for i, r, h in zip(ids, references, hypotheses)]
    worst = sorted(rows, key=lambda row: row["cer"], reverse=True)[:n_worst]
    return {"utterances": len(rows), "cer": char_errors(references, hypotheses).to_dict(),
            "wer": word_errors(references, hypotheses).to_dict(), "examples": rows[:n_examples],
            "worst": worst}


def evaluate(model, entries, decoder="greedy", batch_size=16, cache_dir=None, name="corpus", progress=False,
             alignment_plot=None):
    """Transcribe manifest ``entries`` with ``model`` and score them against their ``text``.

    Unusable utterances are skipped and counted under ``report["skipped"]``. With
    ``alignment_plot`` (a PNG path), the first utterance's spectrogram and CTC alignment are drawn.
    """
    data = prepare(entries, model.feature_config, model.vocabulary, cache_dir=cache_dir, progress=progress,
                   name=name)
    if len(data) == 0:
        raise ValueError(f"no usable utterances in corpus {name!r}: {data.report}")
    decoder = make_decoder(decoder, model.vocabulary)
    logits = predict_logits(model, data.features, batch_size, progress)
    hypotheses = decode_logits(decoder, logits)
    report = {"corpus": name, "decoder": type(decoder).__name__, "skipped": dict(data.report.skipped),
              **score([e["text"] for e in data.entries], hypotheses, [e["id"] for e in data.entries])}
    if alignment_plot:
        from asr.plots import plot_alignment

        plot_alignment(np.asarray(data.features[0]), logits[0], model.vocabulary, alignment_plot,
                       title=f"{data.entries[0]['id']}: {hypotheses[0]!r}",
                       frame_seconds=model.feature_config.hop_length / model.feature_config.sample_rate)
        report["alignment_plot"] = str(alignment_plot)
    return report
