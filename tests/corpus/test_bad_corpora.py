"""Bad corpus files: a whole-file problem is one error naming the file (and what was expected);
a bad line or clip is skipped and counted with its file and line, and the good ones are kept."""

import shutil

import pytest
from conftest import DATA_DIR, require

from asr.corpus import load_entries, read_common_voice, read_common_voice_csv
from asr.errors import DataError

CV_SAMPLE = DATA_DIR / "commonvoice-en" / "cv-corpus-6.1-sample"
HEADER = "client_id\tpath\tsentence\tup_votes\n"


@pytest.fixture
def clips(tmp_path):
    """A release-layout folder with two real clips: (folder, [clip names])."""
    names = sorted(p.name for p in require(CV_SAMPLE / "clips").glob("*.opus"))[:2]
    (tmp_path / "clips").mkdir()
    for name in names:
        shutil.copy(CV_SAMPLE / "clips" / name, tmp_path / "clips" / name)
    return tmp_path, names


def write_tsv(folder, rows, header=HEADER, encoding="utf-8", newline="\n"):
    data = (header + "".join(rows)).replace("\n", newline).encode(encoding)
    (folder / "validated.tsv").write_bytes(data)
    return folder / "validated.tsv"


def test_bad_rows_are_skipped_and_counted_with_file_and_line(clips):
    folder, (a, b) = clips
    tsv = write_tsv(folder, [
        f"s1\t{a}\tGood one.\t2\n",
        "s1\tmissing.opus\tNo clip here.\t2\n",
        f"s2\t{b}\t  \t2\n",  # empty sentence
        f"s2\t{a}\tThe same clip id again.\t2\n",
        "s3\t../validated.tsv\tEscapes the clips folder.\t2\n",
        f"s3\t{folder / 'clips' / 'absolute.opus'}\tAn absolute path.\t2\n",
        f"s4\t{b}\tToo\tmany\tfields\n",
        "s4\tgreek.opus\tΩμέγα only Greek.\t2\n",
    ])
    entries, report = read_common_voice(tsv)
    assert [e["text"] for e in entries] == ["good one"]
    assert report.skipped == {"missing or unreadable audio": 1, "empty transcript": 1,
                              "duplicate id (the first is kept)": 1,
                              "no audio path, or one outside the corpus folder": 2,
                              "line has 5 fields, the header 4": 1, "transcript not encodable": 1}
    assert report.examples["missing or unreadable audio"] == ["validated.tsv:3 (missing.opus)"]
    assert report.examples["no audio path, or one outside the corpus folder"][0] == \
        "validated.tsv:6 (../validated.tsv)"
    assert set(report.unmapped) == set("ωμεγα")  # accents dropped by normalisation, the letters themselves not


def test_bom_crlf_and_a_non_utf8_line(clips):
    folder, (a, b) = clips
    tsv = folder / "validated.tsv"
    tsv.write_bytes(b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode()
                    + f"s1\t{a}\tCaf\xe9 line\t1\r\n".encode("latin-1")
                    + f"s1\t{b}\tFine line\t1\r\n".encode())
    entries, report = read_common_voice(tsv)
    assert [e["text"] for e in entries] == ["fine line"] and entries[0]["speaker"] == "s1"
    assert report.skipped == {"line is not valid UTF-8": 1} and report.examples["line is not valid UTF-8"] == \
        ["validated.tsv:2"]


@pytest.mark.parametrize("header, match", [
    ("client_id\tfile\tsentence\n", r"missing column\(s\) \['path'\]; expected \['client_id', 'path', 'sentence'\], "
                                    r"found \['client_id', 'file', 'sentence'\]"),
    ("client_id,path,sentence\n", r"missing column\(s\) .*separated by ',', expected '\\t'"),
    ("", r"empty file"),
])
def test_bad_header_is_one_error_naming_the_file(clips, header, match):
    tsv = write_tsv(clips[0], [], header=header)
    with pytest.raises(DataError, match="validated.tsv: " + match):
        read_common_voice(tsv)


def test_kaggle_csv_with_a_wrong_delimiter_and_re_encoded_clips(clips, tmp_path):
    folder, (a, _) = clips
    csv_path = folder / "cv-valid-test.csv"
    csv_path.write_text("filename\ttext\n")
    with pytest.raises(DataError, match=r"cv-valid-test.csv: missing column\(s\).*separated by '\\t', expected ','"):
        read_common_voice_csv(csv_path)
    mp3_name = "clips/" + a.replace(".opus", ".mp3")  # the list names MP3s, the folder holds Opus re-encodes
    csv_path.write_text(f"filename,text,duration\n{mp3_name},\"hello, world\",nan\n")
    entries, report = read_common_voice_csv(csv_path)
    assert entries[0]["path"].endswith(a) and entries[0]["text"] == "hello world"


@pytest.mark.parametrize("layout", ["release", "kaggle", "audiofolder"])
def test_a_field_over_the_csv_limit_skips_its_row_only(tmp_path, layout):
    """Common Voice TSV, Kaggle CSV and audiofolder metadata.csv: a 200,000-character field is one
    skipped, counted row; the rows after it are read."""
    clip = sorted(require(CV_SAMPLE / "clips").glob("*.opus"))[0]
    (tmp_path / "clips").mkdir()
    shutil.copy(clip, tmp_path / "clips" / "a.opus")
    shutil.copy(clip, tmp_path / "clips" / "b.opus")
    huge = "x" * 200_000
    if layout == "release":
        table = tmp_path / "validated.tsv"
        table.write_text(HEADER + f"s1\ta.opus\t{huge}\t1\ns2\tb.opus\tfine words\t1\n")
    elif layout == "kaggle":
        table = tmp_path / "cv-valid-dev.csv"
        table.write_text(f"filename,text\nclips/a.opus,{huge}\nclips/b.opus,fine words\n")
    else:
        table = tmp_path / "metadata.csv"
        table.write_text(f"file_name,transcription\nclips/a.opus,{huge}\nclips/b.opus,fine words\n")
    entries, report = load_entries(str(table if layout == "kaggle" else tmp_path))
    assert [e["text"] for e in entries] == ["fine words"]
    assert report.skipped == {"a field over 131,072 characters": 1}


def test_links_out_of_a_corpus_are_refused_and_subfolders_are_named(tmp_path, librivox_dir):
    wavs = sorted(librivox_dir.glob("*.wav"))[:3]
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    shutil.copy(wavs[0], corpus / "a.wav")
    (corpus / "a.txt").write_text("hello\n")
    shutil.copy(wavs[1], outside / "secret.wav")
    (corpus / "b.wav").symlink_to(outside / "secret.wav")
    (corpus / "b.txt").write_text("linked\n")
    (corpus / "more").mkdir()
    shutil.copy(wavs[2], corpus / "more" / "c.wav")
    (corpus / "more" / "c.txt").write_text("nested\n")
    entries, report = load_entries(str(corpus))
    assert [e["id"] for e in entries] == ["a"]
    assert report.skipped["a link to outside the corpus folder"] == 1
    (reason,) = [r for r in report.skipped if r.startswith("subfolder not read")]
    assert report.examples[reason] == ["more/"]

    books = tmp_path / "books" / "19" / "198"  # LibriSpeech layout: a chapter's audio linked from elsewhere
    books.mkdir(parents=True)
    (books / "19-198.trans.txt").write_text("19-198-0001 HELLO\n19-198-0002 THERE\n")
    shutil.copy(wavs[0], books / "19-198-0001.wav")
    (books / "19-198-0002.wav").symlink_to(outside / "secret.wav")
    entries, report = load_entries(str(tmp_path / "books"))
    assert [e["id"] for e in entries] == ["19-198-0001"] and report.skipped == {
        "no audio path, or one outside the corpus folder": 1}
