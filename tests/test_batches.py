"""CTCBatches: every utterance once per epoch, buckets, SortaGrad, seeded shuffling, transforms,
speaker cap."""

import numpy as np
import pytest

from asr.batches import CTCBatches
from asr.skip_report import SkipReport
from asr.utterances import UtteranceSet

RNG = np.random.default_rng(0)


def make_set(lengths):
    features = [RNG.normal(size=(n, 3)).astype("float32") for n in lengths]
    labels = [np.arange(1, 1 + n // 10, dtype="int32") for n in lengths]
    return UtteranceSet(features, labels, [{"id": str(i)} for i in range(len(lengths))], SkipReport())


def test_every_utterance_once_per_epoch_last_batch_kept():
    data = make_set(RNG.integers(20, 400, size=37))
    batches = CTCBatches(data, batch_size=8, shuffle=True, seed=1)
    for _ in range(3):
        seen = np.concatenate(batches.batches)
        assert sorted(seen) == list(range(37)) and len(batches) == 5
        x, y = batches[len(batches) - 1]
        assert x["features"].shape[0] in (5, 8)
        batches.on_epoch_end()


def test_batch_contents_and_bucketing():
    data = make_set([30, 300, 35, 310, 40, 320])
    batches = CTCBatches(data, batch_size=3, shuffle=False, pad_multiple=32)
    x, y = batches[0]
    assert list(x["feature_lengths"]) == [30, 35, 40] and x["features"].shape == (3, 64, 3)
    np.testing.assert_array_equal(x["features"][0, :30], data.features[0])
    assert list(y["label_lengths"]) == [3, 3, 4] and y["labels"].shape == (3, 32)  # one label length per bucket
    np.testing.assert_array_equal(y["labels"][2, :4], data.labels[4])
    assert not y["labels"][2, 4:].any()


def test_epoch_frames_count_the_drawn_utterances_and_their_padding():
    data = make_set([30, 300, 35, 310, 40, 320])
    batches = CTCBatches(data, batch_size=3, shuffle=False, pad_multiple=32)
    assert batches.epoch_frames() == (1035, 3 * 64 + 3 * 320)  # buckets [30, 35, 40] -> 64, [300..320] -> 320
    padded = sum(int(np.prod(batches[i][0]["features"].shape[:2])) for i in range(len(batches)))
    assert batches.epoch_frames()[1] == padded  # what the model is fed
    weighted = CTCBatches(data, batch_size=2, seed=0, weights=[1.0, 1 / 3] * 3, pad_multiple=1)
    long_ones = set()
    for epoch in range(3):  # the three short items and one of the long ones, another each epoch
        weighted.set_epoch(epoch)
        long_ones.add(weighted.epoch_frames()[0] - (30 + 35 + 40))
    assert long_ones == {300, 310, 320}


def test_one_shape_per_time_bucket():
    data = make_set(RNG.integers(20, 1000, size=200))
    batches = CTCBatches(data, batch_size=4, seed=0)
    shapes = {}
    for i in range(len(batches)):
        x, y = batches[i]
        shapes.setdefault(x["features"].shape[1], set()).add(y["labels"].shape[1])
    assert all(len(label_shapes) == 1 for label_shapes in shapes.values())


def test_sortagrad_first_epoch_then_shuffled():
    data = make_set(RNG.integers(20, 400, size=40))
    batches = CTCBatches(data, batch_size=4, shuffle=True, sortagrad=True, seed=0)
    first = [int(x["feature_lengths"].max()) for x, _ in (batches[i] for i in range(len(batches)))]
    assert first == sorted(first)
    batches.on_epoch_end()
    second = [int(batches[i][0]["feature_lengths"].max()) for i in range(len(batches))]
    assert second != sorted(second)


def test_shuffling_is_seeded():
    data = make_set(RNG.integers(20, 400, size=40))
    a, b = CTCBatches(data, 4, seed=5), CTCBatches(data, 4, seed=5)
    assert [list(x) for x in a.batches] == [list(x) for x in b.batches]
    assert [list(x) for x in CTCBatches(data, 4, seed=6).batches] != [list(x) for x in a.batches]


def test_transform_is_applied():
    data = make_set([50, 60])
    x, _ = CTCBatches(data, 2, shuffle=False, transform=lambda f, rng: f * 0 + 7)[0]
    assert x["features"][0, 0, 0] == 7 and x["features"][0, 55, 0] == 0


def test_speaker_cap_balances_speakers_and_uses_every_item_evenly():
    speakers = ["heavy"] * 30 + ["other"] * 12 + [f"light{i}" for i in range(10)] + [None] * 3
    data = make_set(RNG.integers(20, 400, size=len(speakers)))
    batches = CTCBatches(data, batch_size=4, seed=2, speakers=speakers, speaker_cap=8)
    assert batches.epoch_size == 8 + 8 + 10 + 3 and len(batches) == 8  # the same every epoch
    counts, heavy_draws = np.zeros(len(speakers), int), []
    for _ in range(15):  # 15 epochs x 8 = 4 passes over "heavy"'s 30 items
        seen = np.concatenate(batches.batches)
        assert len(seen) == len(set(seen)) == batches.epoch_size and len(batches) == 8
        heavy_draws.append(sorted(seen[seen < 30]))
        counts[seen] += 1
        batches.on_epoch_end()
    assert (counts[42:] == 15).all()  # speakers under the cap (and unlabelled items): every epoch
    assert set(counts[:30]) == {4} and set(counts[30:42]) == {10}  # capped speakers: all items, equally often
    assert heavy_draws[0] != heavy_draws[1]


def test_speaker_cap_is_seeded_resumable_and_off_by_default():
    speakers = ["a"] * 20 + ["b"] * 5
    data = make_set(RNG.integers(20, 400, size=25))
    a = CTCBatches(data, 4, seed=1, speakers=speakers, speaker_cap=6)
    b = CTCBatches(data, 4, seed=1, speakers=speakers, speaker_cap=6)
    a.on_epoch_end(), a.on_epoch_end()
    b.set_epoch(2)  # a resumed run: the same batches as one that ran through
    assert [list(x) for x in a.batches] == [list(x) for x in b.batches]
    uncapped = CTCBatches(data, 4, seed=1, speakers=speakers)
    assert [list(x) for x in uncapped.batches] == [list(x) for x in CTCBatches(data, 4, seed=1).batches]
    with pytest.raises(ValueError, match="speaker_cap=-1"):
        CTCBatches(data, 4, speakers=speakers, speaker_cap=-1)
    with pytest.raises(ValueError, match="speakers has 2 labels for 25"):
        CTCBatches(data, 4, speakers=["a", "b"], speaker_cap=3)


def test_empty_set_and_bad_batch_size():
    with pytest.raises(ValueError, match="no utterances"):
        CTCBatches(make_set([]), 4)
    with pytest.raises(ValueError, match="batch_size=0"):
        CTCBatches(make_set([10]), 0)
    with pytest.raises(ValueError, match="2 utterances per epoch cannot fill one batch of 4 devices"):
        CTCBatches(make_set([10, 20]), 4, batch_multiple=4)


def items_of(batches):
    return np.sort(np.concatenate(batches.batches))


def test_sampling_weights_draw_other_items_each_epoch_and_all_in_turn():
    data = make_set([20 + i for i in range(24)])
    weights = [1.0] * 8 + [0.25] * 16  # 8 items always, 4 of the other 16 per epoch
    batches = CTCBatches(data, batch_size=4, seed=3, weights=weights)
    assert batches.epoch_size == 8 + 4 and len(batches) == 3
    drawn = []
    for epoch in range(4):
        batches.set_epoch(epoch)
        items = items_of(batches)
        assert len(items) == 12 and set(range(8)) <= set(items.tolist())
        drawn.append(set(items.tolist()) - set(range(8)))
    assert all(len(d) == 4 for d in drawn) and set().union(*drawn) == set(range(8, 24))  # each once in 4 epochs
    resumed = CTCBatches(data, batch_size=4, seed=3, weights=weights)
    resumed.set_epoch(2)  # a restarted run at epoch 3 gets the same batches
    batches.set_epoch(2)
    assert [b.tolist() for b in resumed.batches] == [b.tolist() for b in batches.batches]
    other = CTCBatches(data, batch_size=4, seed=4, weights=weights)
    assert set(items_of(other).tolist()) - set(range(8)) != drawn[0]  # another seed, other draws


def test_weight_above_one_repeats_items_and_bad_weights_are_refused():
    data = make_set([20 + i for i in range(6)])
    batches = CTCBatches(data, batch_size=4, weights=[2.0] * 3 + [1.0] * 3)
    assert batches.epoch_size == 9 and np.bincount(items_of(batches)).tolist() == [2, 2, 2, 1, 1, 1]
    for weights, match in [([0.0] * 6, "finite numbers > 0"), ([1.0] * 5, "6 finite numbers"),
                           ([float("nan")] * 6, "finite numbers > 0")]:
        with pytest.raises(ValueError, match=match):
            CTCBatches(data, batch_size=4, weights=weights)
    with pytest.raises(ValueError, match="cannot be combined"):
        CTCBatches(data, batch_size=4, weights=[1.0] * 6, speaker_cap=2)


def test_train_weights_map_onto_the_train_data_sources(tmp_path, librispeech_entries):
    from asr.config import TrainConfig
    from asr.corpus import write_manifest
    from asr.train import load_data

    write_manifest(librispeech_entries[:6], tmp_path / "a.jsonl")
    write_manifest(librispeech_entries[6:10], tmp_path / "b.jsonl")
    sources = f"{tmp_path / 'a.jsonl'},{tmp_path / 'b.jsonl'}"
    train, dev, _ = load_data(TrainConfig(train_data=sources, dev_data=str(tmp_path / "b.jsonl"),
                                          train_weights=(1.0, 0.5)))
    assert [e["sampling_weight"] for e in train] == [1.0] * 6 + [0.5] * 4
    with pytest.raises(ValueError, match=r"has 1 values for 2 train_data sources"):
        load_data(TrainConfig(train_data=sources, dev_data=str(tmp_path / "b.jsonl"), train_weights=(0.5,)))
    for bad, match in [(dict(train_weights=(0.0,)), "finite numbers > 0"),
                       (dict(train_weights=(1.0,), speaker_cap=2), "cannot be combined")]:
        with pytest.raises(ValueError, match=match):
            TrainConfig(**bad)


def test_normalization_statistics_follow_the_sampling_weights():
    """A corpus drawn at 0.25 counts a quarter in the stored mean/std (the mixture trained on)."""
    from asr.skip_report import SkipReport
    from asr.train import set_normalization_from
    from asr.utterances import UtteranceSet

    class Model:
        def set_normalization(self, mean, std):
            self.mean, self.std = mean, std

    small, large = np.zeros((100, 2)), np.ones((400, 2))
    entries = [{"sampling_weight": 1.0}, {"sampling_weight": 0.25}]
    model = Model()
    set_normalization_from(model, UtteranceSet([small, large], [None, None], entries, SkipReport()))
    np.testing.assert_allclose(model.mean, [0.5, 0.5])  # 100 rows of 0 and 400 x 0.25 rows of 1
    set_normalization_from(model, UtteranceSet([small, large], [None, None], [{}, {}], SkipReport()))
    np.testing.assert_allclose(model.mean, [0.8, 0.8])  # unweighted: every frame once
