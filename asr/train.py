"""The training job: data -> features -> model -> CTC fit -> checkpoints, history, plots.

>>> from asr.train import TrainConfig, train
>>> result = train(TrainConfig(train_data="LibriSpeech/train-clean-5", output_dir="runs/x", epochs=10))

Everything a run needs is in ``TrainConfig`` (saved as ``config.json`` beside the results).
Each finished epoch writes its checkpoint and commits it in ``state.json`` (``asr.files``);
``resume=True`` continues from the committed one, under the rule of ``asr.resume``. A
non-finite loss stops training with ``TrainingDiverged`` and leaves
the last good checkpoint untouched.
"""

import dataclasses
import logging
import pathlib

import keras
import numpy as np

from asr import distributed, files
from asr.averaging import average_checkpoints
from asr.batches import CTCBatches
from asr.callbacks import Checkpoint, DevMetrics, EpochAudio, StopOnNaN, TimeBudget
from asr.config import TrainConfig  # noqa: F401  (re-exported: asr.train.TrainConfig)
from asr.corpus import load_sources, speaker_split
from asr.corpus.sources import split_sources
from asr.errors import AsrError, ConfigError, DataError
from asr.features import FeatureStats
from asr.models import AcousticModel, build_model, load_model
from asr.noise import NoiseBank
from asr.optim import make_optimizer
from asr.plots import plot_history
from asr.pretrained.init import freeze_layers, load_weights_by_name
from asr.resume import check_resume, rebuild_optimizer, record_changes, recorded_config
from asr.utterances import prepare

logger = logging.getLogger("asr")


class TrainingDiverged(AsrError, RuntimeError):
    """The loss became NaN/inf; the message names the epoch/batch and the last good checkpoint."""


def load_data(config):
    """``(train_entries, dev_entries, reports)`` from the config's data sources (one
    ``CorpusReport`` per corpus read, train's first)."""
    if not config.train_data:
        raise ConfigError("TrainConfig train_data is empty: pass corpus folders or files (see asr data)")
    train_entries, reports = load_sources(config.train_data, max_duration=config.max_duration, progress=True)
    if not train_entries:  # the readers skipped everything: say why, with their counts
        raise DataError(f"no usable utterances in {config.train_data!r}: " + "; ".join(map(str, reports)))
    _attach_weights(config, train_entries, reports)
    if config.dev_data:
        dev_entries, dev_reports = load_sources(config.dev_data, max_duration=config.max_duration, progress=True)
        reports += dev_reports
    else:
        train_entries, dev_entries = speaker_split(train_entries, config.dev_speakers, config.seed)
    for report in reports:
        logger.info("%s", report)
    return train_entries, dev_entries, reports


def _attach_weights(config, entries, reports):
    """Each entry's ``sampling_weight``: its train_data source's ``train_weights`` value."""
    if not config.train_weights:
        return
    arguments = split_sources(config.train_data)
    if len(config.train_weights) != len(arguments):
        raise ConfigError(f"TrainConfig train_weights={list(config.train_weights)} has {len(config.train_weights)} "
                          f"values for {len(arguments)} train_data sources {arguments}: give one per source")
    weight = {report.name: config.train_weights[report.argument] for report in reports}
    for entry in entries:
        entry["sampling_weight"] = weight[entry["source"]]


def _build(config, feature_config):
    """A new model (bf16 compute under ``mixed_precision``; logits and CTC stay float32)."""
    if config.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        return build_model(config.model, feature_config, spec_augment=config.spec_augment or None,
                           utterance_norm=config.utterance_norm, intermediate_ctc=config.intermediate_ctc,
                           **config.model_params)
    finally:
        keras.config.set_dtype_policy("float32")


def _start_model(config, output_dir, state, resume):
    """``(model, init_report)``: the checkpoint's model on resume; else a new model, with the
    ``init_from`` model's weights, features and statistics when given (``init_report``: what
    was loaded, re-initialised and frozen; None without ``init_from``)."""
    if resume:
        model = load_model(output_dir / state["checkpoint"])
        if config.freeze:
            freeze_layers(model, config.freeze_names())
        return model, None
    if not config.init_from:
        return _build(config, config.feature_config()), None
    base = load_model(config.init_from, compile=False)
    theirs, ours = base.feature_config, config.feature_config()
    if (theirs.kind, theirs.n_features) != (ours.kind, ours.n_features):
        raise ConfigError(f"init_from {config.init_from!r} takes {theirs.kind} features of {theirs.n_features} "
                          f"dimensions; the run asks for {ours.kind} of {ours.n_features} (--features, --n-mels): "
                          "give the base's")
    if base.utterance_norm != config.utterance_norm:
        raise ConfigError(f"init_from {config.init_from!r} has utterance_norm={base.utterance_norm!r}; the run asks "
                          f"for {config.utterance_norm!r}")
    model = _build(config, base.feature_config)
    report = {"init_from": config.init_from, **load_weights_by_name(model, base, config.reinit_names())}
    if base.vocabulary != model.vocabulary:
        logger.warning("init_from: the base model's vocabulary differs: its output layer starts fresh")
    report["frozen"] = freeze_layers(model, config.freeze_names())
    stuck = sorted(set(report["frozen"]) & set(report["reinitialised"]))
    if stuck:
        raise ConfigError(f"freeze={config.freeze!r} holds layers that start fresh ({', '.join(stuck)}): they would "
                          "never learn; leave them out of freeze")
    logger.info("init_from %s: %d layers loaded, %d re-initialised (%s), %d frozen", config.init_from,
                len(report["loaded"]), len(report["reinitialised"]), ", ".join(report["reinitialised"]) or "none",
                len(report["frozen"]))
    return model, report


def with_base_architecture(config, output_dir=None, resume=False):
    """``config`` with its empty ``model`` filled in: on resume the run's recorded architecture,
    else the ``init_from`` model's architecture and (when none are given) its ``model_params``."""
    if config.model:
        return config
    if resume:
        recorded = recorded_config(output_dir)
        return dataclasses.replace(config, model=recorded.model, model_params=config.model_params or
                                   recorded.model_params)
    base = load_model(config.init_from, compile=False)
    return dataclasses.replace(config, model=base.architecture, model_params=config.model_params or base.params)


def set_normalization_from(model, train_set):
    """Store the training set's per-dimension feature mean/std in the model: those of the mixture
    it trains on, each utterance counted by its ``sampling_weight`` (``train_weights``), so that a
    large corpus drawn at 0.1 does not set the statistics of a small one drawn in full."""
    stats = FeatureStats()
    for features, entry in zip(train_set.features, train_set.entries):
        stats.update(features, entry.get("sampling_weight", 1.0))
    model.set_normalization(*stats.result())


def export_inference_model(model, path):
    """Save ``model`` without optimizer state (a fresh, uncompiled copy with the same weights)."""
    fresh = AcousticModel.from_config(model.get_config())
    fresh.set_weights(model.get_weights())
    files.save_model_atomic(fresh, path)
    return path


def _datasets(config, model, feature_config, train_entries, dev_entries):
    common = dict(feature_config=feature_config, vocabulary=model.vocabulary, cache_dir=config.cache_dir or None,
                  output_lengths=model.output_lengths, progress=True)
    train_set = prepare(train_entries, name="train", speeds=config.speed_perturb or (1.0,), **common)
    dev_set = prepare(dev_entries, name="dev", **common)
    for data, source in ((train_set, config.train_data), (dev_set, config.dev_data or config.train_data)):
        logger.info("%s", data.report)
        if len(data) == 0:
            raise DataError(f"no usable utterances in {str(source)!r}: {data.report}")
    return train_set, dev_set


def train(config, resume=False, verbose="auto", overwrite=False):
    """Run one training job; returns a dict of output paths and final dev metrics.

    A new run needs an ``output_dir`` that holds no run; ``overwrite=True`` deletes an earlier
    run's files there first (``asr.files.claim_run_folder``). ``resume=True`` continues it.

    With several devices or processes (``config.devices``, the ``KERAS_DISTRIBUTION_*``
    environment) it trains data-parallel (``asr.distributed``); every process runs this
    function and only process 0 writes files.
    """
    topology = distributed.setup(config.devices)  # before anything touches the backend
    if config.batch_size % topology.n_devices:
        raise ConfigError(f"batch_size={config.batch_size} must be a multiple of the {topology.n_devices} devices "
                          "it is split over")
    output_dir = pathlib.Path(config.output_dir)
    if topology.is_chief and resume:
        files.remove_temporary_files(output_dir)
    elif topology.is_chief:
        files.claim_run_folder(output_dir, overwrite)
    keras.utils.set_random_seed(config.seed)
    config = with_base_architecture(config.with_absolute_paths(), output_dir, resume)
    state, changes = check_resume(config, output_dir) if resume else ({"epoch": -1, "history": {}}, {})
    train_entries, dev_entries, reports = load_data(config)
    model, init_report = _start_model(config, output_dir, state, resume)
    feature_config = model.feature_config
    noise = NoiseBank.from_folder(config.noise_dir, feature_config) if config.noise_dir else None  # before the work
    train_set, dev_set = _datasets(config, model, feature_config, train_entries, dev_entries)
    if not resume and not config.init_from:
        set_normalization_from(model, train_set)
    batches = _batches(config, train_set, topology, state["epoch"] + 1, noise)
    if changes:
        logger.info("resuming with changed settings (from epoch %d): %s", state["epoch"] + 2, changes)
    if topology.is_chief:
        _write_run_files(output_dir, config, reports + [train_set.report, dev_set.report], batches, topology)
        if init_report is not None:
            files.write_json_atomic(output_dir / files.INIT_REPORT, init_report)
    if resume:
        rebuild_optimizer(model, config, steps_per_epoch=len(batches))
    else:
        model.compile(optimizer=make_optimizer(config, steps_per_epoch=len(batches)))
    budget = TimeBudget(config.time_budget, config.epochs, len(batches), topology) if config.time_budget else None
    stop = (TimeBudget(config.stop_after, config.epochs, len(batches), topology, plan_schedule=False)
            if config.stop_after else None)
    nan_guard = StopOnNaN()
    checkpoint = Checkpoint(output_dir, nan_guard, state, topology=topology, keep_last=config.average_last,
                            extra_state={"config_changes": record_changes(state, changes)})
    callbacks = [EpochAudio(batches, feature_config.frames_per_second), budget, stop,
                 DevMetrics(_dev_subset(config, dev_set), config.batch_size), nan_guard, checkpoint]
    _fit(model, batches, [c for c in callbacks if c is not None], config.epochs, state["epoch"] + 1,
         verbose if topology.is_chief else 0)
    if nan_guard.failed_at is not None:
        raise TrainingDiverged(_divergence_message(nan_guard.failed_at, output_dir, checkpoint.files["checkpoint"]))
    result = _finish(output_dir, checkpoint, topology)
    return {**result, **_stops(config, budget, stop), **({"init": init_report} if init_report is not None else {})}


def _stops(config, budget, stop):
    """Which time limit ended the run early, logged and as result fields ({} for neither)."""
    stopped = {}
    if budget is not None and budget.stopped_after is not None:
        logger.info("time budget of %g min: stopped after epoch %d of %d", config.time_budget,
                    budget.stopped_after + 1, config.epochs)
        stopped["stopped_by_budget_after_epoch"] = budget.stopped_after + 1
    if stop is not None and stop.stopped_after is not None:
        logger.info("stop_after %g min: stopped after epoch %d of %d (continue with --resume)", config.stop_after,
                    stop.stopped_after + 1, config.epochs)
        stopped["stopped_after_epoch"] = stop.stopped_after + 1
    return stopped


def _dev_subset(config, dev_set):
    """``config.dev_subset`` utterances spread evenly over the dev set (scored after each epoch)."""
    return dev_set.subset(np.unique(np.linspace(0, len(dev_set) - 1, config.dev_subset).round().astype(int)))


def _fit(model, batches, callbacks, epochs, initial_epoch, verbose):
    """``model.fit`` over ``batches`` (as a ``tf.data`` pipeline on TensorFlow, reshuffled each epoch)."""
    data = batches
    if keras.backend.backend() == "tensorflow":
        from asr.tf_dataset import ReshuffleEachEpoch, to_tf_dataset

        data = to_tf_dataset(batches)
        callbacks = [ReshuffleEachEpoch(batches), *callbacks]
    model.fit(data, epochs=epochs, initial_epoch=initial_epoch, shuffle=False, callbacks=callbacks, verbose=verbose)


def _divergence_message(failed_at, output_dir, checkpoint):
    epoch, batch, loss = failed_at
    text = f"loss became {loss} at epoch {epoch + 1}, batch {batch + 1}; training stopped. "
    if checkpoint is None:
        return text + "No epoch had finished, so there is no checkpoint: start again with a lower --learning-rate."
    return text + (f"The last good checkpoint is {output_dir / checkpoint} (continue with --resume and a lower "
                   "--learning-rate: the rate may change on resume).")


def _write_run_files(output_dir, config, reports, batches, topology):
    """``config.json`` (the settings in effect) and ``data_report.json`` (what was read and skipped)."""
    files.write_json_atomic(output_dir / files.CONFIG, config.to_dict())
    files.write_json_atomic(output_dir / files.DATA_REPORT, [r.to_dict() for r in reports] + [
        {"name": "batches", "devices": topology.n_devices, "processes": topology.process_count,
         "items_per_epoch": batches.epoch_size, "batches_per_epoch": len(batches),
         "utterances_cut_per_epoch": batches.trimmed_per_epoch}])


def _batches(config, train_set, topology, epoch, noise=None):
    """The training batches, split over ``topology``'s devices and processes, at ``epoch``
    (``noise``: the ``NoiseBank`` of ``config.noise_dir``)."""
    augment = config.feature_augment(noise)
    if noise is not None:
        logger.info("noise: %d recordings from %s, into %.0f%% of the utterances at %g-%g dB SNR", len(noise.names),
                    config.noise_dir, 100 * config.noise_prob, *config.noise_snr_db)
    batches = CTCBatches(train_set, config.batch_size, shuffle=True, sortagrad=config.sortagrad, seed=config.seed,
                         workers=config.workers, transform=augment if augment.active else None,
                         batch_multiple=topology.n_devices, shard_index=topology.process_index,
                         shard_count=topology.process_count, speaker_cap=config.speaker_cap,
                         speakers=[entry.get("speaker") for entry in train_set.entries],
                         weights=[e["sampling_weight"] for e in train_set.entries] if config.train_weights else None)
    batches.set_epoch(epoch)
    if config.speaker_cap or config.train_weights:
        logger.info("%s: %d of %d training items per epoch", f"speaker cap {config.speaker_cap}" if
                    config.speaker_cap else f"weights {list(config.train_weights)}", batches.epoch_size, len(train_set))
    if batches.trimmed_per_epoch:
        logger.info("the last batch of each epoch is cut by %d utterance(s) to split over %d devices",
                    batches.trimmed_per_epoch, topology.n_devices)
    return batches


def _finish(output_dir, checkpoint, topology):
    """Export the final model for inference (the average of the checkpoints kept for
    ``average_last``, when more than one, else the best, else the last checkpoint); write
    history and the training curve."""
    distributed.barrier(topology, "finish")  # process 0's last checkpoint files are complete
    recent = checkpoint.files["recent_checkpoints"]
    if len(recent) > 1:
        logger.info("final model: the average of %d checkpoints (%s)", len(recent), ", ".join(recent))
        final = average_checkpoints([output_dir / name for name in recent])
    else:
        final = load_model(output_dir / (checkpoint.files["best_checkpoint"] or checkpoint.files["checkpoint"]))
    distributed.save_model(final, output_dir / files.FINAL_MODEL, topology, export_inference_model)
    history = checkpoint.history
    if topology.is_chief:
        files.write_json_atomic(output_dir / files.HISTORY, {**history, **checkpoint.extra_state})
        plot_history(history, output_dir / files.TRAINING_CURVE)
    last = {k: v[-1] for k, v in history.items() if v}
    return {"model": str(output_dir / files.FINAL_MODEL), "history": history, "final": last,
            "best_val_cer": min(history.get("val_cer", [np.nan]))}
