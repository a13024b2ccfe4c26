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


def limit_threads(threads: int) -> None:
    """Run TensorFlow's operations on ``threads`` threads (a process sharing its computer with others, each on
    the CPUs it was given); where TensorFlow has already run, its threads stand."""
    import_tensorflow_quietly()
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # set once, before TensorFlow's first operation


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX).

    On such CPUs oneDNN runs bfloat16 convolutions 2-3 times faster than
    float32; elsewhere bfloat16 is emulated and slower.  Linux only: other
    systems answer False and stay on float32.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))
