"""``asr lm build TEXT... --order N [--prune T...] -o lm.arpa``: the toolkit's own Kneser-Ney
trainer on the command line (``asr.lm_build``), with the dev perplexity it reaches."""

import json
import sys

from asr import outputs
from asr.errors import ConfigError

MAX_ORDER = 10  # an n-gram order beyond this is a typo: word n-grams stop helping long before


def add_parser(sub):
    """``asr lm`` and its one subcommand, ``build``."""
    lm = sub.add_parser("lm", help="word language models: 'asr lm build TEXT... -o lm.arpa' estimates one")
    build = lm.add_subparsers(dest="lm_command", required=True, metavar="{build}",
                              help="build: estimate an LM from text files").add_parser(
        "build", help="estimate a word n-gram LM from text",
        description="estimate a word n-gram LM (modified Kneser-Ney, as KenLM's lmplz) from text files and write "
                    "it as ARPA; decoders read it with --lm")
    build.add_argument("text", nargs="+", metavar="TEXT", help="text files, one sentence a line (or .jsonl "
                                                               "manifests: their text fields); normalised as "
                                                               "transcripts are")
    build.add_argument("-o", "--output", required=True, metavar="LM.arpa", help="ARPA file to write")
    build.add_argument("--order", type=int, default=3, help=f"n-gram order, 1-{MAX_ORDER} (default: 3)")
    build.add_argument("--prune", type=int, nargs="+", metavar="T", default=[0],
                       help="per order, drop n-grams seen at most T times (lmplz's --prune: 0 1 drops singletons "
                            "of order >= 2; non-decreasing, the last repeats, unigrams never; default: 0)")
    build.add_argument("--dev-text", action="append", default=[], metavar="FILE",
                       help="text whose perplexity is reported (repeatable; default: none)")
    build.add_argument("--exclude", action="append", default=[], metavar="FILE",
                       help="text whose sentences are removed from the training text, e.g. the test sets' "
                            "transcripts (repeatable; default: none)")
    build.add_argument("--lexicon", metavar="WORDS.txt", help="also write the LM's words, one a line (a lexicon "
                                                              "for --lexicon; default: none)")
    build.add_argument("--overwrite", action="store_true", help="replace existing --output / --lexicon files")
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    return build


def run_build(args):
    from asr.files import write_text_atomic
    from asr.lm_build import build_lm, format_report, read_sentences

    if not 1 <= args.order <= MAX_ORDER:
        raise ConfigError(f"--order {args.order} must be 1-{MAX_ORDER}")
    if not args.output.endswith(".arpa"):
        raise ConfigError(f"--output {args.output!r} must end in .arpa (an ARPA text file)")
    outputs.check_outputs_apart({"--output": args.output, "--lexicon": args.lexicon},
                                {"TEXT": args.text, "--dev-text": args.dev_text, "--exclude": args.exclude})
    if args.lexicon == "-":
        raise ConfigError("--lexicon '-': the report goes to the terminal; give the word list a file")
    outputs.check_output_file(args.output, args.overwrite, "--output")
    if args.lexicon:
        outputs.check_output_file(args.lexicon, args.overwrite, "--lexicon")
    from asr.kneser_ney import check_prune

    check_prune(args.prune, args.order)
    exclude, dev = read_sentences(args.exclude)[0], read_sentences(args.dev_text)[0]
    sentences, files = read_sentences(args.text)
    lm, report = build_lm(sentences, args.order, args.prune, exclude=exclude, dev=dev)
    lm.write_arpa(args.output)
    report = {"output": args.output, "files": files, **report}
    if args.lexicon:
        words = sorted(lm.words)
        write_text_atomic(args.lexicon, "\n".join(words) + "\n")
        report["lexicon"] = args.lexicon
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(format_report(report, args.output)), file=sys.stderr)
