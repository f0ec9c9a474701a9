"""Modified Kneser-Ney estimation of a word n-gram model, as KenLM's ``lmplz`` estimates it.

>>> probs, backoffs, info = estimate(["the cat sat", "the dog sat"], order=3)
>>> probs[2][("the", "cat")], backoffs[1][("the",)]        # log10, back-off form (ARPA)

Chen & Goodman's interpolated modified Kneser-Ney (1998, eq. 26), with lmplz's conventions:

* Adjusted counts: the highest order keeps raw counts; a lower-order n-gram counts its
  distinct left extensions, except n-grams starting with ``<s>`` (nothing precedes them),
  which keep raw counts.
* Three discounts per order, ``D1, D2, D3+``, from that order's counts of adjusted counts
  ``t1..t4``: ``Y = t1 / (t1 + 2 t2)``, ``Dk = k - (k + 1) Y t(k+1) / tk``. Where they cannot
  be estimated (tiny or artificial text: a ``tk`` is zero or a ``Dk`` leaves ``[0, k]``) the
  order uses ``FALLBACK_DISCOUNTS`` (lmplz's ``--discount_fallback``) and ``info`` says so.
* Unigrams interpolate with the uniform distribution over the vocabulary (``<unk>`` and
  ``</s>`` included, ``<s>`` not); ``<unk>`` gets only that share; ``<s>`` has probability 1.
* Back-off weight of a context = its interpolation weight ``gamma``, so the back-off form is
  exactly the interpolated model. ``</s>`` and ``<unk>`` are never contexts.
* Pruning (lmplz's ``--prune``): an n-gram whose raw count is at most its order's threshold
  is dropped and its mass moved to its context's back-off weight; thresholds are per order,
  non-decreasing, the last repeating, and unigrams are never pruned (threshold 0).
"""

import collections
import math

from asr.errors import ConfigError

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
SPECIAL = frozenset((BOS, EOS, UNK))  # markers, never words: dropped from the text (lmplz's --skip_symbols)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # D1, D2, D3+ where they cannot be estimated (lmplz's defaults)
LOG10_ZERO = -99.0  # ARPA's "impossible"


def check_prune(prune, order):
    """Per-order pruning thresholds ``(t1, ..., t_order)`` from a user's list (else ConfigError)."""
    prune = tuple(prune or (0,))
    if any(not isinstance(t, int) or isinstance(t, bool) or t < 0 for t in prune):
        raise ConfigError(f"prune={list(prune)!r}: thresholds must be counts >= 0")
    if prune[0] != 0:
        raise ConfigError(f"prune={list(prune)!r}: unigrams cannot be pruned (the first threshold must be 0)")
    if len(prune) > order:
        raise ConfigError(f"prune={list(prune)!r}: {len(prune)} thresholds for an order-{order} model")
    if any(b < a for a, b in zip(prune, prune[1:])):
        raise ConfigError(f"prune={list(prune)!r}: thresholds must not decrease with the order")
    return prune + (prune[-1],) * (order - len(prune))


def count_ngrams(sentences, order):
    """Raw counts ``{n: Counter(ngram tuple)}`` of whitespace-tokenised sentences between
    ``<s>`` and ``</s>`` (``<s>`` itself is not a unigram event; the markers inside a sentence
    are dropped)."""
    counts = {n: collections.Counter() for n in range(1, order + 1)}
    for sentence in sentences:
        words = (BOS, *(w for w in sentence.split() if w not in SPECIAL), EOS)
        for n in range(1, order + 1):
            counts[n].update(words[i: i + n] for i in range(1 if n == 1 else 0, len(words) - n + 1))
    return counts


def adjusted_counts(counts, order):
    """Kneser-Ney counts: distinct left extensions below the top order (raw for ``<s> ...``)."""
    adjusted = {order: counts[order]}
    for n in range(order - 1, 0, -1):
        left = collections.Counter(ngram[1:] for ngram in counts[n + 1])
        adjusted[n] = collections.Counter({g: c if g[0] == BOS else left[g] for g, c in counts[n].items()})
    return adjusted


def discounts(adjusted_counts_of_order):
    """``((D1, D2, D3+), estimated)`` from one order's adjusted counts."""
    t = collections.Counter(c for c in adjusted_counts_of_order.values() if c <= 4)
    if any(t[k] == 0 for k in (1, 2, 3, 4)):
        return FALLBACK_DISCOUNTS, False
    y = t[1] / (t[1] + 2 * t[2])
    amounts = tuple(k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3))
    if any(not 0 <= d <= k for k, d in zip((1, 2, 3), amounts)):
        return FALLBACK_DISCOUNTS, False
    return amounts, True


def _discount(amounts, count):
    return 0.0 if count == 0 else amounts[min(count, 3) - 1]


def _context_weights(adjusted, kept, amounts):
    """Interpolation weight ``gamma(h)`` and denominator per context of one order: the
    discounted mass of kept n-grams plus all the mass of pruned ones, over ``sum_w a(h w)``."""
    totals, mass = collections.Counter(), collections.Counter()
    for ngram, count in adjusted.items():
        h = ngram[:-1]
        totals[h] += count
        mass[h] += _discount(amounts, count) if ngram in kept else count
    return {h: mass[h] / totals[h] for h in totals}, totals


def estimate(sentences, order=3, prune=()):
    """``(probs, backoffs, info)``: log10 ``probs[n][ngram]`` and ``backoffs[n][context]``
    (ARPA back-off form) and ``info`` (discounts per order, whether each was estimated,
    n-gram counts before and after pruning)."""
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ConfigError(f"order={order!r} must be a positive integer")
    thresholds = check_prune(prune, order)
    raw = count_ngrams(sentences, order)
    if not raw[1]:
        raise ConfigError("cannot train a language model on no text")
    adjusted = adjusted_counts(raw, order)
    info = {"order": order, "prune": list(thresholds), "tokens": sum(raw[1].values()), "discounts": {},
            "discounts_estimated": {}, "ngrams_counted": {n: len(raw[n]) for n in raw}}
    probs, gammas, lower = {}, {}, None
    vocab_size = len(raw[1]) + 1  # the words and </s>, + <unk>; <s> is never predicted
    for n in range(1, order + 1):
        amounts, estimated = discounts(adjusted[n])
        info["discounts"][n], info["discounts_estimated"][n] = list(amounts), estimated
        kept = {g for g in adjusted[n] if n == 1 or raw[n][g] > thresholds[n - 1]}
        gamma, totals = _context_weights(adjusted[n], kept, amounts)
        probs[n] = {}
        for ngram in kept:
            h, count = ngram[:-1], adjusted[n][ngram]
            lower_p = 1.0 / vocab_size if lower is None else lower[ngram[1:]]
            probs[n][ngram] = (count - _discount(amounts, count)) / totals[h] + gamma[h] * lower_p
        if n == 1:
            probs[1].setdefault((UNK,), 0.0)
            probs[1][(UNK,)] += gamma[()] / vocab_size
        gammas[n - 1] = gamma
        lower = probs[n]
    log_probs, backoffs = _to_log10(probs, gammas, order)
    info["ngrams"] = {n: len(log_probs[n]) for n in log_probs}
    return log_probs, backoffs, info


def _to_log10(probs, gammas, order):
    """ARPA form: log10 probabilities (``<s>``: probability 1, as lmplz writes it) and log10
    back-off weights of the kept n-grams that are contexts."""
    log_probs = {n: {g: min(0.0, math.log10(p)) if p > 0 else LOG10_ZERO for g, p in probs[n].items()}
                 for n in probs}
    log_probs[1][(BOS,)] = 0.0
    backoffs = {}
    for n in range(1, order):
        backoffs[n] = {g: math.log10(gammas[n][g]) for g in log_probs[n]
                       if g in gammas[n] and g[-1] not in (EOS, UNK) and gammas[n][g] > 0}
    return log_probs, backoffs
