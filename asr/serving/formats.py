"""The response formats of ``POST /v1/audio/transcriptions``, as the OpenAI API gives them:
``json`` (``{"text"}``), ``text``, ``srt``, ``vtt`` and ``verbose_json`` (language, duration,
segments, and with ``timestamp_granularities[]=word`` the words with their times)."""

from asr.alignment import subtitle_cues, to_srt, to_vtt

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("word", "segment")
MEDIA_TYPES = {"json": "application/json", "verbose_json": "application/json", "text": "text/plain",
               "srt": "text/plain", "vtt": "text/vtt"}
LANGUAGE = "english"  # verbose_json names the language in words, as Whisper's API does


def verbose_json(result, granularities):
    """The ``verbose_json`` body of one ``Transcription`` (segments always unless only words are
    asked for; words with ``word`` granularity)."""
    body = {"task": "transcribe", "language": LANGUAGE, "duration": round(result.duration, 3), "text": result.text}
    if "segment" in granularities or not granularities:
        body["segments"] = [{"id": i, "seek": 0, "start": segment["start"], "end": segment["end"],
                             "text": segment["text"], "tokens": [], "temperature": 0.0,
                             "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0}
                            for i, segment in enumerate(result.segments)]
    if "word" in granularities:
        body["words"] = [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3),
                          "confidence": round(w.confidence, 3)} for w in result.words]
    return body


def render(result, response_format, granularities=()):
    """``(body, media_type)``: a dict for the JSON formats, a string for the others."""
    if response_format == "json":
        body = {"text": result.text}
    elif response_format == "verbose_json":
        body = verbose_json(result, granularities)
    elif response_format == "text":
        body = result.text + "\n"
    else:
        body = (to_srt if response_format == "srt" else to_vtt)(subtitle_cues(result.words))
    return body, MEDIA_TYPES[response_format]
