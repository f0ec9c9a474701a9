"""``asr lm build``: the Kneser-Ney trainer against KenLM's lmplz and KenLM's own scoring,
pruning, perplexity, and the command's files and messages."""

import json
import pathlib

import pytest
from conftest import DATA_DIR, require

from asr.cli import main
from asr.lm import NGramLM
from asr.lm_build import build_lm, perplexity, read_sentences

LMPLZ = pathlib.Path(__file__).parent / "data" / "lmplz"
CV_TEXT = DATA_DIR / "text" / "lm" / "commonvoice_v1.txt"


def cv_lines(n):
    return require(CV_TEXT).read_text(encoding="utf-8").splitlines()[:n]


def assert_same_model(ours, theirs, tolerance=1e-5):
    """Every n-gram in both, probabilities and back-off weights equal (lmplz computes in float32)."""
    assert ours.order == theirs.order
    for n in range(1, ours.order + 1):
        assert set(ours.probs[n]) == set(theirs.probs[n]), n
        worst = max(abs(ours.probs[n][g] - p) for g, p in theirs.probs[n].items())
        assert worst < tolerance, (n, worst)
        if n < ours.order:  # lmplz writes 0 for n-grams that are no context; we leave them out
            for g in theirs.probs[n]:
                assert abs(ours.backoffs[n].get(g, 0.0) - theirs.backoffs[n].get(g, 0.0)) < tolerance, g


@pytest.mark.parametrize("lines, order, prune, reference, estimated", [
    (300, 3, (), "cv300-o3.arpa", [True] * 3),
    (300, 4, (0, 1), "cv300-o4-prune01.arpa", [True] * 4),
    (120, 4, (0, 1), "cv120-o4-prune01-fallback.arpa", [True, True, False, False]),
])
def test_estimates_what_lmplz_estimates(lines, order, prune, reference, estimated):
    lm = NGramLM.train(cv_lines(lines), order=order, prune=prune)
    assert_same_model(lm, NGramLM.read_arpa(LMPLZ / reference))
    assert list(lm.info["discounts_estimated"].values()) == estimated
    if not all(estimated):
        assert lm.info["discounts"][4] == [0.5, 1.0, 1.5]


def test_kenlm_scores_our_arpa_as_we_do(tmp_path):
    pytest.importorskip("flashlight.lib.text.decoder")
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import Dictionary

    lm = NGramLM.train(cv_lines(300), order=4, prune=(0, 1))
    lm.write_arpa(tmp_path / "lm.arpa")
    words = Dictionary()
    for word in ["<unk>", *sorted(lm.vocabulary - {"<s>", "<unk>"})]:
        words.add_entry(word)
    kenlm = KenLM(str(tmp_path / "lm.arpa"), words)
    for sentence in ["when he speaks in our language", "night fell and zebras entered", "the the the"]:
        state, total = kenlm.start(False), 0.0
        for word in sentence.split():
            state, score = kenlm.score(state, words.get_index(word if word in lm.vocabulary else "<unk>"))
            total += score
        total += kenlm.finish(state)[1]
        assert total == pytest.approx(lm.sentence_log10_prob(sentence), abs=1e-4), sentence


@pytest.mark.parametrize("prune", [(), (0, 1), (0, 1, 2)])
def test_pruned_models_stay_normalised(prune):
    lm = NGramLM.train(cv_lines(300), order=3, prune=prune)
    words = sorted(lm.vocabulary - {"<s>"})
    contexts = [(), ("<s>",), ("and",), ("of", "the"), ("<s>", "the"), ("zebra", "unseen")]
    for context in contexts:
        assert sum(10 ** lm.log10_prob(w, context) for w in words) == pytest.approx(1.0, abs=1e-6), context
    if prune:
        assert len(lm.probs[2]) < len(NGramLM.train(cv_lines(300), order=3).probs[2])


def test_prune_thresholds_are_checked():
    for prune, match in [((1,), "unigrams cannot be pruned"), ((0, 2, 1), "must not decrease"),
                         ((0, -1), "counts >= 0"), ((0, 1, 1, 1), "4 thresholds for an order-3 model")]:
        with pytest.raises(ValueError, match=match):
            NGramLM.train(["a b c", "a b d"], order=3, prune=prune)


def test_perplexity_follows_kenlms_convention():
    lm = NGramLM.train(["a b", "a c", "b c a"], order=2)
    result = perplexity(lm, ["a b", "a zebra"])
    log10_prob = lm.sentence_log10_prob("a b") + lm.sentence_log10_prob("a zebra")
    assert result["tokens"] == 6 and result["oov"] == 1 and result["oov_rate"] == 0.25  # 4 words + 2 </s>
    assert result["perplexity"] == pytest.approx(10 ** (-log10_prob / 6))


def test_build_lm_normalises_and_excludes(tmp_path):
    (tmp_path / "a.txt").write_text("The CAT sat, on 2 mats!\n\n   \nthe dog sat\n", encoding="utf-8")
    (tmp_path / "m.jsonl").write_text(json.dumps({"path": "x.wav", "text": "a cat ran"}) + "\n")
    sentences, counts = read_sentences([tmp_path / "a.txt", tmp_path / "m.jsonl"])
    assert sentences == ["the cat sat on two mats", "the dog sat", "a cat ran"]
    assert counts[str(tmp_path / "a.txt")] == {"lines": 4, "sentences": 2, "empty": 2}
    lm, report = build_lm(sentences, order=2, exclude=["The dog sat."], dev=["the cat ran"])
    assert report["sentences"] == 2 and report["excluded_sentences"] == 1 and "dog" not in lm.vocabulary
    assert report["dev"]["tokens"] == 4 and report["ngrams"][1] == len(lm.probs[1])


def test_asr_lm_build_command(tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("\n".join(cv_lines(300)) + "\n", encoding="utf-8")
    (tmp_path / "dev.txt").write_text("\n".join(cv_lines(320)[300:]) + "\n", encoding="utf-8")
    out = tmp_path / "lm.arpa"
    args = [str(text), "--order", "4", "--prune", "0", "1", "-o", str(out), "--dev-text", str(tmp_path / "dev.txt"),
            "--lexicon", str(tmp_path / "words.txt")]
    assert main(["lm", "build", *args]) == 0
    assert "dev perplexity" in capsys.readouterr().err
    assert_same_model(NGramLM.read_arpa(out), NGramLM.read_arpa(LMPLZ / "cv300-o4-prune01.arpa"))
    words = (tmp_path / "words.txt").read_text().split()
    assert "night" in words and "<s>" not in words and len(words) == len(set(words))
    before = out.read_bytes()
    assert main(["lm", "build", *args]) == 2  # nothing a user owns is overwritten
    assert "exists: pass --overwrite" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["lm", "build", *args, "--overwrite", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ngrams"] == {"1": 886, "2": 370, "3": 242, "4": 185} and report["dev"]["sentences"] == 20


@pytest.mark.parametrize("flags, message", [
    (["--order", "0"], "--order 0 must be 1-10"),
    (["--prune", "1"], "unigrams cannot be pruned"),
    (["--dev-text", "missing.txt"], "text file not found: 'missing.txt'"),
    (["-o", "lm.bin"], "must end in .arpa"),
    (["--exclude", "latin1.txt"], "latin1.txt: not a UTF-8 text file"),
])
def test_bad_arguments_are_one_line_before_any_work(tmp_path, capsys, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    pathlib.Path("t.txt").write_text("a b c\n")
    pathlib.Path("latin1.txt").write_bytes("caf\u00e9 au lait\n".encode("latin-1"))
    argv = ["lm", "build", "t.txt", *(flags if "-o" in flags else ["-o", "lm.arpa", *flags])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not pathlib.Path("lm.arpa").exists()
