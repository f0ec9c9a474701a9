"""The toolkit's error types.

Every error that describes bad input or a failed run derives from ``AsrError``; the command
line and the recipes show those as one line (``asr train: error: ...``) and let anything
else, a bug, surface with its traceback. Argument and data errors are also ``ValueError``s,
so ``except ValueError`` in user code keeps working.
"""


class AsrError(Exception):
    """Base class: bad input or a failed run, described in the message."""


class ConfigError(AsrError, ValueError):
    """An argument, flag or setting with an invalid value (the message names it and the value)."""


class DataError(AsrError, ValueError):
    """A corpus, manifest or dataset that cannot be used (e.g. no usable utterances)."""


class CorruptFileError(AsrError, ValueError):
    """A model, checkpoint, state or config file that is damaged or not what it should be
    (the message names the file and what is wrong)."""


class WriteError(AsrError, OSError):
    """A file that could not be written (disk full, no permission, a folder in the way); the
    message names the file."""
