"""``asr serve``: an OpenAI-compatible transcription server (``POST /v1/audio/transcriptions``)
with a web page, for ``.onnx`` models (ONNX Runtime, no Keras) and ``.keras`` models.

Modules: ``app`` (routes and the form's checks), ``engine`` (the bounded queue and the batching
worker), ``guards`` (API key, upload size and pace), ``formats`` (the response formats),
``errors`` (OpenAI-style errors), ``cli`` (the command). Needs the ``[server]`` extra.
"""
