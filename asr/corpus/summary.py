"""What ``asr data`` prints: a corpus report as a few readable lines."""

from asr.skip_report import MAX_EXAMPLES


def format_report(report):
    """Lines describing one summarised ``CorpusReport``: layout, path, utterances, hours,
    speakers, duration percentiles, unmappable characters, skipped items by reason."""
    s = report.summary
    without = s["utterances_without_speaker"]
    if not s["speakers"]:
        speakers = "no speaker ids"
    else:
        speakers = f"{s['speakers']} speakers" + (f" (+{without} utterances without a speaker id)" if without else "")
    lines = [f"{report.layout}: {report.path}",
             f"  {s['utterances']} utterances, {s['hours']:.2f} h, {speakers}"]
    if s["duration_seconds"]:
        lines.append("  duration (s): " + "  ".join(f"{k} {v:.2f}" for k, v in s["duration_seconds"].items()))
    if s["unmapped_characters"]:
        lines.append("  characters outside the vocabulary: "
                     + ", ".join(f"{ch!r} x{n}" for ch, n in s["unmapped_characters"].items()))
    total = sum(report.skipped.values())
    lines.append(f"  skipped {total}" + (":" if total else ""))
    for reason, n in sorted(report.skipped.items(), key=lambda item: -item[1]):
        examples = ", ".join(report.examples[reason][:MAX_EXAMPLES])
        lines.append(f"    {n} {reason} (e.g. {examples})")
    return lines


def format_total(reports):
    """One line over all sources."""
    utterances = sum(r.summary["utterances"] for r in reports)
    hours = sum(r.summary["hours"] for r in reports)
    skipped = sum(sum(r.skipped.values()) for r in reports)
    return (f"total: {len(reports)} source{'s' if len(reports) != 1 else ''}, {utterances} utterances, "
            f"{hours:.2f} h, skipped {skipped}")
