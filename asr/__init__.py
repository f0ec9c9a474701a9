"""asr: character CTC speech recognition acoustic models in Keras 3.

Data flow (one tensor layout, ``(batch, time, features)``; lengths travel with tensors)::

    audio file  --asr.audio.load_audio----------> float32 mono at the model's sample rate
                --asr.features.extract_features-> (time, n_features)          NumPy
                --asr.utterances.prepare--------> UtteranceSet: features (cached) + labels
                --asr.batches.CTCBatches--------> features (B, T, F), feature_lengths (B,),
                                                  labels (B, L), label_lengths (B,)
                --asr.models.build_model--------> logits (B, T', vocab)      T' = model.output_lengths(T)
                --asr.ctc.ctc_loss--------------> keras.ops.ctc_loss with true lengths, blank = 0
                --asr.decoding------------------> list[str]                  greedy | beam (+ n-gram LM)
                --asr.metrics-------------------> CER / WER

Text and tabular sequence tasks live apart, in ``asr.sequence``; both sides share
``asr.layers`` and ``asr.padding``.

Heavy modules (Keras) load lazily, so ``import asr`` is cheap and the command line can
choose the Keras backend before Keras is imported.

Example::

    from asr import load_model, transcribe
    model = load_model("runs/librispeech_mini/model.keras")
    for result in transcribe(model, ["a.wav", "b.flac"]):   # one result per file, in order
        print(result.text if result.ok else result.error)
"""

import importlib

from asr import registration

# Names served lazily from their modules. None may equal a submodule's name: importing
# ``asr.X`` sets the package attribute ``X`` to the module, which would hide a function ``X``
# (hence ``asr.inference.transcribe``; training and evaluation live in ``asr.train``/``asr.evaluate``).

__version__ = "0.1.0"

_LAZY = {
    "load_model": "asr.onnx_runtime",  # .keras -> AcousticModel, .onnx -> OnnxModel (Keras-free)
    "AcousticModel": "asr.models.acoustic",
    "build_model": "asr.models",
    "transcribe": "asr.inference",
    "load_audio": "asr.audio",
    "FeatureConfig": "asr.features",
    "extract_features": "asr.features",
    "Vocabulary": "asr.text",
    "normalize_transcript": "asr.text",
    "TrainConfig": "asr.train",
    "GreedyDecoder": "asr.decoding",
    "BeamSearchDecoder": "asr.decoding",
    "cer": "asr.metrics",
    "wer": "asr.metrics",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module 'asr' has no attribute {name!r}")


registration.install()  # Keras' own load_model finds asr's classes, without importing Keras here
