"""Faults for the cluster tests, set up in each Ray worker (``worker_process_setup_hook``): a file whose name
starts with "poison" kills the worker that takes it, as a native crash or the kernel's out-of-memory killer would."""
from __future__ import annotations

import os
import signal


def kill_on_poison() -> None:
    from engine.distributed import ray_batch

    clean_file = ray_batch.run_batch

    def run_batch(plan, *args, **kwargs):
        if any(path.name.startswith("poison") for path in plan.files):
            os.kill(os.getpid(), signal.SIGKILL)
        return clean_file(plan, *args, **kwargs)

    ray_batch.run_batch = run_batch
