"""One line about a loaded model for the status area (loading and sharing models is engine.cleaning.model_pool's)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.vocabulary import Runtime


def describe_model(denoiser: Any) -> str:
    """One line about a loaded model for the status area."""
    info = getattr(denoiser, "info", None)
    if info is None:
        loaded = getattr(denoiser, "loaded", None)
        info = getattr(loaded, "info", None)
    if info is None:
        return "Model loaded"
    parts = [str(getattr(info, "architecture", "") or "model")]
    params = getattr(info, "parameters", 0)
    if params:
        parts.append(f"{int(params):,} parameters")
    dataset = getattr(info, "dataset", "")
    if dataset:
        parts.append(f"trained on {Path(str(dataset)).name}")
    rmse = (getattr(info, "metrics", {}) or {}).get("val_rmse")
    if rmse is not None:
        parts.append(f"val RMSE {float(rmse):.4f}")
    runtime = getattr(getattr(denoiser, "backend", None), "name", "")
    if runtime:
        parts.append(f"runs on {Runtime(runtime).label if runtime in tuple(Runtime) else runtime}")
    return " · ".join(parts)
