"""The evaluation job: decode corpora and report CER/WER with error breakdowns.

>>> report = evaluate(model, entries, decoder="greedy", name="dev-clean-2")
>>> report["cer"]["rate"], report["wer"]["rate"]
>>> reports = evaluate_with_lm(model, dev_entries, {"test": test_entries}, lm)   # tuned LM beam search
"""

import collections

import numpy as np

from asr.decoding import make_decoder, tune_beam_search
from asr.errors import DataError
from asr.inference import decode_logits, predict_logits
from asr.metrics import char_errors, edit_counts, word_errors
from asr.utterances import prepare

N_EXAMPLES = 5  # reference/hypothesis pairs shown in a report
N_WORST = 5  # worst utterances (by CER) listed in a report
TUNING_UTTERANCES = 60  # dev utterances decoded per grid point when tuning the LM beam search


def score(references, hypotheses, ids=None, n_examples=N_EXAMPLES, n_worst=N_WORST, all_rows=False, groups=None):
    """Corpus CER/WER (with S/D/I counts), a few examples and the worst utterances
    (and with ``all_rows`` every utterance's row under ``"rows"``). ``groups`` (a label per
    utterance, e.g. its source corpus) adds CER/WER per label under ``"by_source"`` when
    there are several."""
    ids = ids or [str(i) for i in range(len(references))]
    rows = [{"id": i, "reference": r, "hypothesis": h, "cer": edit_counts(r, h).rate}
            for i, r, h in zip(ids, references, hypotheses)]
    worst = sorted(rows, key=lambda row: row["cer"], reverse=True)[:n_worst]
    report = {"utterances": len(rows), "cer": char_errors(references, hypotheses).to_dict(),
              "wer": word_errors(references, hypotheses).to_dict(), "examples": rows[:n_examples], "worst": worst}
    if groups is not None and len(set(groups)) > 1:
        report["by_source"] = {}
        for label in dict.fromkeys(groups):
            mine = [i for i, g in enumerate(groups) if g == label]
            refs, hyps = [references[i] for i in mine], [hypotheses[i] for i in mine]
            report["by_source"][label] = {"utterances": len(mine), "cer": char_errors(refs, hyps).to_dict(),
                                          "wer": word_errors(refs, hyps).to_dict()}
    if all_rows:
        report["rows"] = rows
    return report


def corpus_logits(model, entries, batch_size=16, cache_dir=None, name="corpus", progress=False):
    """``(data, logits)``: the usable utterances (``UtteranceSet``) and their unpadded logits."""
    data = prepare(entries, model.feature_config, model.vocabulary, cache_dir=cache_dir, progress=progress,
                   name=name)
    if len(data) == 0:
        raise DataError(f"no usable utterances in corpus {name!r}: {data.report}")
    return data, predict_logits(model, data.features, batch_size, progress)


def compare_decoders(model, entries, decoders, batch_size=16, cache_dir=None, name="corpus", progress=False,
                     alignment_plot=None, all_rows=False, sources=()):
    """One prediction pass, one report per decoder: ``{decoder_name: report}``.

    ``decoders`` maps names to ``"greedy"``, ``"beam"`` or decoder objects. Unusable
    utterances are skipped and counted under each report's ``"skipped"``, with those the
    corpus readers skipped (``sources``: their ``CorpusReport``s, also listed under
    ``"sources"``). Entries with a ``source`` key are also scored per source. With
    ``alignment_plot`` (a PNG path), the first utterance's spectrogram and CTC alignment are drawn.
    """
    data, logits = corpus_logits(model, entries, batch_size, cache_dir, name, progress)
    references, ids = [e["text"] for e in data.entries], [e["id"] for e in data.entries]
    groups = [e.get("source", name) for e in data.entries]
    skipped = collections.Counter(data.report.skipped)
    for source in sources:
        skipped.update(source.skipped)
    reports = {}
    for key, decoder in decoders.items():
        decoder = make_decoder(decoder, model.vocabulary)
        hypotheses = decode_logits(decoder, logits)
        reports[key] = {"corpus": name, "decoder": type(decoder).__name__, "skipped": dict(skipped),
                        **score(references, hypotheses, ids, all_rows=all_rows, groups=groups)}
        if sources:
            reports[key]["sources"] = [source.to_dict() for source in sources]
    if alignment_plot:
        from asr.plots import plot_alignment

        first = next(iter(reports.values()))["examples"][0]
        plot_alignment(np.asarray(data.features[0]), logits[0], model.vocabulary, alignment_plot,
                       title=f"{first['id']}: {first['hypothesis']!r}",
                       frame_seconds=model.feature_config.hop_length / model.feature_config.sample_rate)
        for report in reports.values():
            report["alignment_plot"] = str(alignment_plot)
    return reports


def evaluate(model, entries, decoder="greedy", batch_size=16, cache_dir=None, name="corpus", progress=False,
             alignment_plot=None, all_rows=False, sources=()):
    """Transcribe manifest ``entries`` with one decoder and score them against their ``text``
    (``sources``: the readers' reports, whose skipped items the report counts too)."""
    return compare_decoders(model, entries, {"decoder": decoder}, batch_size, cache_dir, name, progress,
                            alignment_plot, all_rows, sources)["decoder"]


def evaluate_with_lm(model, dev_entries, corpora, lm=None, lexicon=None, beam_width=32, cache_dir=None,
                     engine="auto"):
    """Tune the LM beam search (``lm_weight``, ``word_bonus``) on dev, then score every corpus.

    ``lm``: an ``NGramLM`` or an ARPA path; ``engine``: as for ``make_decoder`` (``"auto"``: the
    compiled flashlight search when installed). Returns ``{"tuning": {...}, corpus_name:
    {"greedy": report, "beam": report}}``; "beam" uses the tuned settings.
    """
    data, logits = corpus_logits(model, dev_entries, cache_dir=cache_dir, name="dev")
    step = max(1, len(logits) // TUNING_UTTERANCES)
    beam = make_decoder("beam", model.vocabulary, beam_width, lm=lm, lexicon=lexicon, engine=engine)
    compiled = beam.compiled  # fast enough to tune at the full width
    best, table = tune_beam_search(logits[::step], [e["text"] for e in data.entries][::step], model.vocabulary,
                                   lm=lm, lexicon=lexicon, beam_width=beam_width if compiled else min(beam_width, 16),
                                   engine=engine)
    beam.set_weights(best["lm_weight"], best["word_bonus"])
    results = {"tuning": {"best": best, "grid": table, "dev_utterances": len(logits[::step]),
                          "engine": type(beam).__name__}}
    for name, entries in corpora.items():
        results[name] = compare_decoders(model, entries, {"greedy": "greedy", "beam": beam}, cache_dir=cache_dir,
                                         name=name)
    return results
