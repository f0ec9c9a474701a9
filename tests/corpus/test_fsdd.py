"""Free Spoken Digit reader and its customary split."""

from conftest import DATA_DIR, require

from asr.corpus.fsdd import read_fsdd, split_fsdd


def test_fsdd_reader_and_split():
    entries, report = read_fsdd(require(DATA_DIR / "fsdd"))
    assert len(entries) == 3000 and not report.skipped
    train, dev, test = split_fsdd(entries)
    assert (len(train), len(dev), len(test)) == (2400, 300, 300)
    assert {e["text"] for e in test} == set("zero one two three four five six seven eight nine".split())
    assert all(e["index"] < 5 for e in test)
