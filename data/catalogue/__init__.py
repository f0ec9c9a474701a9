"""The corpus catalogue: one JSON file per corpus ``asr data download`` knows (read by
``asr.corpus.catalogue``; installed with the package as ``asr.catalogue``)."""
