"""The autoencoder lab: the experiments of the seeds (../shared/docs/SEEDS.md), reproduced and measured.

Each experiment is a module with ``run(data_folder, out_dir, *, seed=0, quick=False, progress=None,
cancel=None) -> LabResult``; EXPERIMENTS names them for the CLI (``docclean lab NAME``) and the app,
``experiment(name)`` gives the run function they call.
"""
from __future__ import annotations

import functools
import importlib
from typing import Callable

from engine.lab.result import LabResult

# Experiment name -> module; imported when run, so listing them loads no TensorFlow.
EXPERIMENT_MODULES = {
    "sweep": "engine.lab.sweep",
    "denoise": "engine.lab.denoise",
    "notmnist": "engine.lab.notmnist",
    "cluster": "engine.lab.cluster",
    "classify": "engine.lab.classify",
    "anomaly": "engine.lab.anomaly",
}
EXPERIMENTS = tuple(EXPERIMENT_MODULES)
# The data set each experiment reads ("mnist" or "notmnist"; anomaly finds notmnist/ beside mnist/).
DATA_SET = {name: "notmnist" if name == "notmnist" else "mnist" for name in EXPERIMENTS}


def experiment(name: str) -> Callable[..., LabResult]:
    """The ``run`` function of experiment ``name`` (one of EXPERIMENTS); ValueError for another name.

    Its ``progress`` callback also hears of each figure as it is written (stage ``figure``, the
    path as message), so a front end can show figures while the run goes on.
    """
    if name not in EXPERIMENT_MODULES:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    run = importlib.import_module(EXPERIMENT_MODULES[name]).run

    @functools.wraps(run)
    def reporting_figures(*args, progress=None, **kwargs) -> LabResult:
        from engine.lab.figures import reported_to

        with reported_to(progress):
            return run(*args, progress=progress, **kwargs)

    return reporting_figures


__all__ = ["DATA_SET", "EXPERIMENTS", "LabResult", "experiment"]
