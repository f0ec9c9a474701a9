"""Train a character CTC model on Mini LibriSpeech (or any LibriSpeech-layout folder),
evaluate it, and write model, reports and plots to one folder.

    python recipes/librispeech_mini.py                       # downloads Mini LibriSpeech (~460 MB)
    python recipes/librispeech_mini.py --data-dir ../shared/data/librispeech-sample --epochs 2

Without train-clean-5/dev-clean-2 in --data-dir, speakers are held out for dev
(--dev-speakers). Outputs in --output-dir: model.keras, config.json, history.json,
training_curve.png, report.json (dev and out-of-domain CER/WER, greedy and beam),
alignment.png.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.backend import choose_backend  # noqa: E402

DEFAULT_OUTPUT = "runs/librispeech_mini"
DEFAULT_DOWNLOAD = pathlib.Path.home() / ".cache" / "asr" / "mini_librispeech"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="LibriSpeech-layout folder (default: download Mini LibriSpeech)")
    p.add_argument("--download-dir", default=str(DEFAULT_DOWNLOAD))
    p.add_argument("--output-dir", default=DEFAULT_OUTPUT)
    p.add_argument("--model", default="deepspeech")
    p.add_argument("--model-params", type=json.loads, default={}, metavar="JSON")
    p.add_argument("--features", default="log_mel", choices=("spectrogram", "mfcc", "log_mel"))
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--max-duration", type=float, default=20.0, help="seconds")
    p.add_argument("--dev-speakers", type=int, default=1)
    p.add_argument("--ood-dir", help="folder of wav + txt scored as out-of-domain (default: shared LibriVox set)")
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.info("Keras backend: %s", choose_backend())
    from asr.corpus import default_data_dir, read_transcribed_folder
    from asr.corpus.download import resolve_mini_librispeech
    from asr.evaluate import evaluate
    from asr.train import TrainConfig, load_data, train
    from asr.models import load_model

    train_source, dev_source = resolve_mini_librispeech(args.data_dir, args.download_dir)
    config = TrainConfig(train_data=str(train_source), dev_data=str(dev_source or ""),
                         dev_speakers=args.dev_speakers, output_dir=args.output_dir, model=args.model,
                         model_params=args.model_params, features=args.features, epochs=args.epochs,
                         batch_size=args.batch_size, learning_rate=args.learning_rate,
                         max_duration=args.max_duration)
    result = train(config, resume=args.resume)
    model = load_model(result["model"], compile=False)
    _, dev_entries, _ = load_data(config)
    out = pathlib.Path(args.output_dir)
    report = {"dev": {"greedy": evaluate(model, dev_entries, "greedy", name="dev", progress=True,
                                         alignment_plot=out / "alignment.png"),
                      "beam": evaluate(model, dev_entries, "beam", name="dev")}}
    ood_dir = pathlib.Path(args.ood_dir) if args.ood_dir else default_data_dir() / "pocketsphinx-librivox"
    if ood_dir.is_dir():
        ood_entries, _ = read_transcribed_folder(ood_dir)
        report["out_of_domain"] = evaluate(model, ood_entries, "greedy", name=str(ood_dir))
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for name, r in [("dev greedy", report["dev"]["greedy"]), ("dev beam", report["dev"]["beam"])] + (
            [("out-of-domain greedy", report["out_of_domain"])] if "out_of_domain" in report else []):
        print(f"{name:>22}: CER {r['cer']['rate']:.3f}  WER {r['wer']['rate']:.3f}  ({r['utterances']} utt)")
    print(f"model: {result['model']}\nreport: {out / 'report.json'}")


if __name__ == "__main__":
    main()
