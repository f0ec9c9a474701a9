"""Text classification on real data: SMS spam and the UCI sentiment sentences, each on a
fixed stratified held-out split, next to a bag-of-words logistic regression trained in the
same run.

    python recipes/text_classification.py                       # both datasets
    python recipes/text_classification.py --dataset sms --epochs 1 --limit 300   # smoke run

Model: word embedding + BiGRU + (AttentionWithContext, masked max) pooling
(``asr.sequence.models.text_classifier``), early-stopped on 10 % of the training part; the
probabilities of ``--ensemble`` such models (consecutive seeds) are averaged. "combined" is
the mean of that probability and the bag-of-words model's: the recurrent model reads word
order, the n-gram model remembers rare words, and on a few thousand sentences each catches
errors of the other. Writes report.json (accuracy and ROC AUC of model, baseline and
combined per dataset) to --output-dir.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.keras_backend import choose_backend  # noqa: E402

TEST_FRACTION = 0.2  # fixed held-out split (stratified, seed 0)
VALIDATION_FRACTION = 0.1  # of the training part, for early stopping (the test part is never seen)
MAX_TOKENS_PER_TEXT = 80  # longer texts are cut (SMS: 99.9 % are shorter)
PATIENCE = 3  # epochs without a lower validation loss before stopping (best weights restored)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", choices=("sms", "sentiment", "both"), default="both")
    p.add_argument("--data-dir", help="folder holding text/sms_spam and text/sentiment_labelled_sentences "
                                      "(default: $ASR_DATA_DIR)")
    p.add_argument("--output-dir", default="runs/text_classification")
    p.add_argument("--epochs", type=int, default=20, help="at most; early stopping on a validation split")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--pooling", choices=("attention", "max", "attention+max", "last"), default="attention+max")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ensemble", type=int, default=3,
                   help="models (seeds seed, seed+1, ...) whose probabilities are averaged")
    p.add_argument("--limit", type=int, help="use only N texts (smoke runs)")
    return p.parse_args(argv)


def load(name, data_dir):
    from asr.sequence.corpora import read_sentiment_sentences, read_sms_spam

    if name == "sms":
        return read_sms_spam(data_dir / "text" / "sms_spam" / "SMSSpamCollection")
    texts, labels, _ = read_sentiment_sentences(data_dir / "text" / "sentiment_labelled_sentences")
    return texts, labels


def scores(name, probabilities, labels, **extra):
    """Accuracy (threshold 0.5) and ROC AUC of spam/positive ``probabilities``."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    return {"name": name, "accuracy": float(((np.asarray(probabilities) > 0.5) == labels).mean()),
            "roc_auc": float(roc_auc_score(labels, probabilities)), **extra}


def baseline_probabilities(train_texts, train_y, test_texts):
    """Test probabilities of a TF-IDF (1-2 grams) logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    classifier = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(train_texts), train_y)
    return classifier.predict_proba(vectorizer.transform(test_texts))[:, 1]


def model_probabilities(args, train_texts, train_y, test_texts):
    """``(mean, each)``: test probabilities of ``args.ensemble`` models trained with consecutive
    seeds, averaged, and of each model."""
    import keras
    import numpy as np

    from asr.sequence.data import TextVectorizer
    from asr.sequence.models import compile_for_task, text_classifier

    vectorizer = TextVectorizer(max_tokens=20000, min_count=1, max_length=MAX_TOKENS_PER_TEXT).fit(train_texts)
    probs = []
    for seed in range(args.seed, args.seed + args.ensemble):
        keras.utils.set_random_seed(seed)
        network = text_classifier(vectorizer.size, embed_dim=args.embed_dim, units=args.units, pooling=args.pooling,
                                  dropout=args.dropout)
        model = compile_for_task(network, "binary", learning_rate=args.learning_rate, weight_decay=1e-4)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)
        model.fit(vectorizer(train_texts), train_y, epochs=args.epochs, batch_size=args.batch_size,
                  validation_split=VALIDATION_FRACTION, callbacks=[stop], verbose=2)
        probs.append(model.predict(vectorizer(test_texts), verbose=0)[:, 0])
    return np.mean(probs, axis=0), probs


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    choose_backend()
    from sklearn.model_selection import train_test_split

    from asr.paths import default_data_dir

    data_dir = pathlib.Path(args.data_dir) if args.data_dir else default_data_dir()
    report = {}
    for name in (("sms", "sentiment") if args.dataset == "both" else (args.dataset,)):
        try:
            texts, labels = load(name, data_dir)
        except FileNotFoundError as error:
            raise SystemExit(f"--data-dir: {error}") from None
        texts, labels = texts[: args.limit], labels[: args.limit]
        train_t, test_t, train_y, test_y = train_test_split(texts, labels, test_size=TEST_FRACTION,
                                                            stratify=labels, random_state=0)
        model, each = model_probabilities(args, train_t, train_y, test_t)
        baseline = baseline_probabilities(train_t, train_y, test_t)
        singles = [scores("", p, test_y)["accuracy"] for p in each]
        report[name] = {
            "train": len(train_t), "test": len(test_t),
            "model": scores(f"embedding + BiGRU + {args.pooling} pooling, mean of {args.ensemble} seeds", model,
                            test_y, single_model_accuracies=singles),
            "baseline": scores("TF-IDF (1-2 grams) + logistic regression", baseline, test_y),
            "combined": scores("mean of the model's and the baseline's probabilities", (model + baseline) / 2,
                               test_y)}
    out = pathlib.Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({**report, "config": vars(args)}, indent=2), encoding="utf-8")
    for name, r in report.items():
        print(f"{name:>9}: " + " | ".join(f"{key} accuracy {r[key]['accuracy']:.4f} AUC {r[key]['roc_auc']:.4f}"
                                          for key in ("model", "baseline", "combined")))


if __name__ == "__main__":
    main()
