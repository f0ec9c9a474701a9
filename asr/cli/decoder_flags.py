"""The decoding flags that ``asr evaluate`` and ``asr transcribe`` share: added to a parser, checked
before a model loads, and turned into a decoder over the model's vocabulary."""

from asr.errors import ConfigError


def decoder_arguments(parser):
    """``--decoder``, ``--beam-width``, ``--lm``, ``--lm-weight``, ``--word-bonus``, ``--lexicon``,
    ``--beam-engine`` and ``--batch-size``."""
    from asr.posteriors import MAX_BEAM_WIDTH, MAX_LM_WEIGHT, MAX_WORD_BONUS

    parser.add_argument("--decoder", choices=("greedy", "beam"),
                        help="default: beam with --lm or --lexicon, else greedy")
    parser.add_argument("--beam-width", type=int, default=32,
                        help=f"hypotheses kept per frame, 1-{MAX_BEAM_WIDTH} (default: 32)")
    parser.add_argument("--lm", help="word n-gram LM in ARPA format (beam decoder)")
    parser.add_argument("--lm-weight", type=float, default=0.5,
                        help=f"LM log-probability weight, 0-{MAX_LM_WEIGHT:g} (default: 0.5)")
    parser.add_argument("--word-bonus", type=float, default=1.0,
                        help=f"score added per word, natural-log units, within +-{MAX_WORD_BONUS:g} (default: 1.0)")
    parser.add_argument("--lexicon", help="text file, one allowed word per line (beam decoder)")
    parser.add_argument("--beam-engine", choices=("auto", "numpy", "flashlight"), default="auto",
                        help="beam search implementation: flashlight-text (compiled, KenLM) when installed, "
                             "else NumPy (default: auto)")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="utterances (segments) per forward pass, 1-1024 (default: 16)")


def check_decoder_arguments(args):
    """The decoding flags' rules, checked before any model is loaded (the API applies the same)."""
    from asr.posteriors import check_beam_options

    check_beam_options(args.beam_width, args.lm_weight, args.word_bonus)


def decoder_from_args(args, vocabulary):
    """The decoder the decoding flags ask for (``decoder_arguments``), over ``vocabulary``."""
    from asr.decoding import make_decoder

    if args.decoder == "greedy" and (args.lm or args.lexicon):
        raise ConfigError("--lm and --lexicon are used by the beam decoder: drop --decoder greedy")
    args.decoder = args.decoder or ("beam" if args.lm or args.lexicon else "greedy")
    return make_decoder(args.decoder, vocabulary, beam_width=args.beam_width, lm=args.lm,
                        lm_weight=args.lm_weight, word_bonus=args.word_bonus, lexicon=args.lexicon,
                        engine=args.beam_engine)
