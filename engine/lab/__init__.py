"""The autoencoder lab: the experiments of the seeds (../shared/docs/SEEDS.md), reproduced and measured.

Each experiment is a module with ``run(data_folder, out_dir, *, seed=0, quick=False, progress=None,
cancel=None) -> LabResult``; EXPERIMENTS names them for the CLI (``docclean lab NAME``) and the app,
``experiment(name)`` gives the run function they call.

The lab is research code, not the product, and an extra: ``pip install 'docclean[lab]'`` brings
scikit-learn and umap-learn, which the clustering, classifying and anomaly experiments need (the
others run on Keras and numpy alone, so the standalone binaries keep them).  Without them
``experiment`` refuses those in one sentence naming that command (LabExtraMissing), before any
data is read or any model trained.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import Callable

from engine.data.catalogue import MNIST, NOTMNIST
from engine.errors import ConfigurationError
from engine.lab.result import LabResult
from engine.progress import ProgressCallback

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
DATA_SET = {name: NOTMNIST if name == "notmnist" else MNIST for name in EXPERIMENTS}


# The lab's extra (pyproject.toml's optional dependencies `lab`): module -> the package that brings it,
# and the modules each experiment needs of it.
EXTRA_PACKAGES = {"sklearn": "scikit-learn", "umap": "umap-learn"}
EXTRA_NEEDS = {"cluster": ("sklearn", "umap"), "classify": ("sklearn", "umap"), "anomaly": ("sklearn",)}
INSTALL_EXTRA = "pip install 'docclean[lab]'"


class LabExtraMissing(ConfigurationError):
    """The lab's extra is not installed (a plain install, or the standalone binaries, which leave
    UMAP and numba out); its text is one sentence naming the command that installs it."""

    def __init__(self, packages: list[str]) -> None:
        self.packages = packages
        super().__init__(f"the lab needs {' and '.join(packages)}, which this copy of DocClean does not include; "
                         f"install them with {INSTALL_EXTRA}")


def missing_extra(name: str | None = None) -> LabExtraMissing | None:
    """What experiment ``name`` (None: the whole lab) lacks of the lab's extra, or None when it has all it needs.

    Looked up without importing anything (UMAP's first import compiles with numba for seconds).
    """
    modules = EXTRA_PACKAGES if name is None else EXTRA_NEEDS.get(name, ())
    missing = [EXTRA_PACKAGES[module] for module in modules if _absent(module)]
    return LabExtraMissing(missing) if missing else None


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ValueError:  # a module set to None in sys.modules (how tests take one away)
        return True


def require_extra(name: str | None = None) -> None:
    """Raise LabExtraMissing unless experiment ``name`` has what it needs: said before any training, not minutes in."""
    missing = missing_extra(name)
    if missing is not None:
        raise missing


def experiment(name: str) -> Callable[..., LabResult]:
    """The ``run`` function of experiment ``name`` (one of EXPERIMENTS); ValueError for another name,
    LabExtraMissing when the lab's extra is not installed.

    Its ``progress`` callback also hears of each figure as it is written (stage ``figure``, the
    path as message), so a front end can show figures while the run goes on.
    """
    if name not in EXPERIMENT_MODULES:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    require_extra(name)
    run: Callable[..., LabResult] = importlib.import_module(EXPERIMENT_MODULES[name]).run

    @functools.wraps(run)
    def reporting_figures(*args: object, progress: ProgressCallback | None = None, **kwargs: object) -> LabResult:
        from engine.lab.figures import reported_to

        with reported_to(progress):
            return run(*args, progress=progress, **kwargs)

    return reporting_figures


__all__ = ["DATA_SET", "EXPERIMENTS", "INSTALL_EXTRA", "LabExtraMissing", "LabResult", "experiment", "missing_extra",
           "require_extra"]
