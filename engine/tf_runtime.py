"""Starting TensorFlow quietly.

TensorFlow prints start-up notices (oneDNN, CPU features) to the process's
stderr before its own logging is configured, so no setting silences them.
Users of a command-line tool should not see them; we hide file descriptor 2
during the first import only, and keep it if the import fails so the error
stays visible.
"""
from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow once, without its start-up notices on stderr."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    except BaseException:
        os.dup2(saved, 2)
        raise
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
