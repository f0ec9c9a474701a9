"""``asr data``, ``asr data download``, ``asr train``, ``asr evaluate`` and ``asr export``: each
takes the parsed arguments, checks them before the long work starts, and prints what it did."""

import json
import os
import pathlib
import sys

from asr import outputs
from asr.cli.arguments import dataclass_from_args
from asr.cli.decoder_flags import check_decoder_arguments, decoder_from_args
from asr.errors import AsrError, ConfigError

PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # what matplotlib writes without extra packages


def run_data(args):
    """Read and describe every source; with ``--manifest``, write what was read."""
    from asr.corpus import load_sources, write_manifest
    from asr.corpus.summary import format_report, format_total

    to_stdout = args.manifest == "-"  # the Unix convention: the manifest on standard output, reports on stderr
    manifest = pathlib.Path(args.manifest) if args.manifest and not to_stdout else None
    if manifest is not None:
        outputs.check_outputs_apart({"--manifest": manifest}, {"PATH": [_source_path(s) for s in args.sources]})
        outputs.check_output_file(manifest, args.overwrite, "--manifest")
    entries, reports = load_sources(args.sources, layout=args.layout, max_duration=args.max_duration,
                                    progress=not args.quiet)
    if manifest is not None:  # and none of the files the readers found inside folders
        outputs.check_outputs_apart({"--manifest": manifest}, {"PATH": [report.path for report in reports]})
    shown = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print(json.dumps([report.to_dict() for report in reports], indent=2), file=shown)
    else:
        print("\n".join([line for report in reports for line in format_report(report)] + [format_total(reports)]),
              file=shown)
    rows = [{k: v for k, v in e.items() if k != "source"} for e in entries]
    if to_stdout:
        sys.stdout.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    elif manifest is not None:
        write_manifest(rows, manifest)
        print(f"{len(entries)} utterances -> {manifest}", file=sys.stderr)


def _source_path(source):
    """The path of a ``[LAYOUT:]PATH`` source argument."""
    from asr.corpus.sources import parse_source

    try:
        return parse_source(source)[1]
    except AsrError:
        return source


def run_data_download(args):
    """List the catalogue, or fetch one corpus (its parts) and say where it landed."""
    from asr.corpus.catalogue import describe, load_catalogue
    from asr.corpus.download import fetch

    if args.list or not args.name:
        print("\n".join(line for corpus in load_catalogue().values() for line in describe(corpus)))
        return
    for folder in fetch(args.name, args.part, args.to, progress=not args.quiet):
        print(folder)


def run_train(args):
    from asr.distributed import ENV_JOB_ADDRESSES, ENV_NUM_PROCESSES, ENV_PROCESS_ID
    from asr.train import TrainConfig, train

    for variable, value in ((ENV_JOB_ADDRESSES, args.job_addresses), (ENV_NUM_PROCESSES, args.num_processes),
                            (ENV_PROCESS_ID, args.process_id)):
        if value is not None:
            os.environ[variable] = str(value)
    base = TrainConfig.from_json(args.config) if args.config else None
    if args.resume and base is None:  # continue the recorded run: flags change only what they name
        output_dir = pathlib.Path(args.output_dir or TrainConfig().output_dir)
        if (output_dir / "config.json").is_file():
            base = TrainConfig.from_json(output_dir / "config.json")
    config = dataclass_from_args(TrainConfig, args, base)
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues the run in --output-dir and --overwrite deletes it: choose one")
    result = train(config, resume=args.resume, overwrite=args.overwrite)
    print(json.dumps({"model": result["model"], "final": result["final"], "best_val_cer": result["best_val_cer"]},
                     indent=2))


def run_evaluate(args):
    from asr.corpus import load_sources
    from asr.evaluate import evaluate
    from asr.files import write_text_atomic
    from asr.inference import check_batch_size
    from asr.onnx_runtime import load_model

    check_decoder_arguments(args)
    check_batch_size(args.batch_size)
    if args.output == "-":  # the Unix convention: standard output
        args.output = None
    outputs.check_outputs_apart({"--output": args.output, "--alignment-plot": args.alignment_plot,
                                 "--hypotheses": args.hypotheses},
                                {"MODEL": [args.model], "DATA": [_source_path(s) for s in args.data]})
    if args.hypotheses and args.hypotheses != "-":
        outputs.check_output_file(args.hypotheses, args.overwrite, "--hypotheses")
    if args.hypotheses == "-" and not args.output:
        raise ConfigError("--hypotheses '-' and the report both go to standard output: give --output a file")
    if args.alignment_plot == "-":
        raise ConfigError("--alignment-plot '-': a picture does not go to standard output; give it a file")
    if args.output:
        outputs.check_output_file(args.output, args.overwrite, "--output")
    if args.alignment_plot:
        outputs.check_output_file(args.alignment_plot, args.overwrite, "--alignment-plot")
        if pathlib.Path(args.alignment_plot).suffix.lower() not in PLOT_FORMATS:
            raise ConfigError(f"--alignment-plot {args.alignment_plot!r} must end in one of {PLOT_FORMATS}")
    model = load_model(args.model, compile=False)
    entries, sources = load_sources(args.data, progress=True)
    decoder = decoder_from_args(args, model.vocabulary)
    report = evaluate(model, entries, decoder, args.batch_size, name=",".join(args.data), progress=True,
                      alignment_plot=args.alignment_plot, sources=sources, all_rows=bool(args.hypotheses))
    if args.hypotheses:
        _write_hypotheses(report.pop("rows"), entries, args.hypotheses)
    if report["skipped"]:
        print(f"asr evaluate: skipped {sum(report['skipped'].values())} utterances: "
              + ", ".join(f"{n} {reason}" for reason, n in report["skipped"].items()), file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.output:
        write_text_atomic(args.output, text)
        print(f"CER {report['cer']['rate']:.4f}  WER {report['wer']['rate']:.4f}  -> {args.output}")
    else:
        print(text)


def _write_hypotheses(rows, entries, path):
    """One JSON line per scored utterance (``--hypotheses``), atomically, or to standard output."""
    from asr.files import write_text_atomic
    from asr.metrics import word_errors

    by_id = {str(entry["id"]): entry for entry in entries}
    lines = []
    for row in rows:
        entry = by_id.get(row["id"], {})
        lines.append(json.dumps({"id": row["id"], "source": entry.get("source"), "reference": row["reference"],
                                 "hypothesis": row["hypothesis"], "cer": row["cer"],
                                 "wer": word_errors([row["reference"]], [row["hypothesis"]]).rate,
                                 "duration": entry.get("duration")}, ensure_ascii=False) + "\n")
    if path == "-":
        sys.stdout.write("".join(lines))
    else:
        write_text_atomic(path, "".join(lines))


def run_export(args):
    from asr.export import export_onnx

    if not args.output.endswith(".onnx"):
        raise ConfigError(f"output {args.output!r} must end in .onnx")
    outputs.check_outputs_apart({"OUTPUT": args.output}, {"MODEL": [args.model]})
    outputs.check_output_file(args.output, args.overwrite, "OUTPUT")
    print(export_onnx(args.model, args.output, overwrite=args.overwrite, weights=args.weights,
                      recurrence=args.recurrence))
