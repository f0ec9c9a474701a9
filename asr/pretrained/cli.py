"""``asr models``: the shipped models, their size, training and measured accuracy."""

import json
import textwrap

from asr.pretrained.catalog import shipped_models


def add_parser(sub):
    models = sub.add_parser("models", help="list the shipped models (usable by name wherever a model path is)",
                            description="list the models shipped with asr: size, architecture, training data and "
                                        "hours, and greedy CER/WER on test sets none of them trained on. A name "
                                        "works wherever a model path does (asr transcribe NAME a.wav, asr evaluate, "
                                        "asr serve, asr train --init-from NAME, asr.load_model(NAME)).")
    models.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    return models


WIDTH = 100  # characters per line of the listing


def describe(model):
    """A few lines about one shipped model, for people."""
    training = model.training
    sources = ", ".join(f"{s['name']} {s['hours']:.1f} h" for s in training["data"])
    lines = [f"{model.name}  ({model.size_mb():.1f} MB, version {model.version})"]
    for text in (model.description, f"{model.architecture}, {model.parameters / 1e6:.1f}M parameters",
                 f"trained on {sources}: {training['epochs']} epochs{_selected(training)}, "
                 f"{training['cpu_hours']:.1f} CPU-hours"):
        lines += textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)
    lines.append("  greedy CER / WER on speech it never trained on:")
    width = max(len(name) for name in model.results)
    lines += [f"    {name:<{width}}  {r['cer']:.3f} / {r['wer']:.3f}  ({r['utterances']} utterances)"
              for name, r in model.results.items()]
    lines.append(f"  card: {model.card}")
    return "\n".join(lines)


def _selected(training):
    epoch = training.get("selected_epoch")
    return f" (this is epoch {epoch}, the best on dev)" if epoch and epoch != training["epochs"] else ""


def run_models(args):
    models = shipped_models()
    if args.json:
        print(json.dumps([{**m.to_dict(), "size_mb": round(m.size_mb(), 2)} for m in models.values()],
                         indent=2))
    elif not models:
        print("no model is shipped with this installation")
    else:
        print("\n\n".join(describe(model) for model in models.values()))
    return 0
