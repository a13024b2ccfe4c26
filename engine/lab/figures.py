"""The lab's figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: pyplot keeps global state and picks a GUI backend, while the lab runs on a
worker thread of the app as well as in the CLI.  Every helper writes one PNG and returns
its path, and reports it as a ``figure`` progress event when a run is listening (``reported_to``),
so the app can show each figure the moment it exists instead of at the end of a long run.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.progress import ProgressCallback, report
from engine.vocabulary import Stage

DPI = 100
# A context variable, not an argument: figures are drawn many calls deep, on the thread that runs
# the experiment, and only that thread's run should hear of them.
_listener: ContextVar[ProgressCallback | None] = ContextVar("figure_listener", default=None)


@contextmanager
def reported_to(progress: ProgressCallback | None) -> Iterator[None]:
    """Within this block, every figure written on this thread is reported to ``progress``."""
    token = _listener.set(progress)
    try:
        yield
    finally:
        _listener.reset(token)


def save_figure(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    report(_listener.get(), Stage.FIGURE, 0, 0, str(path))
    return path


def image_rows(rows: Sequence[np.ndarray], row_labels: Sequence[str], path: Path,
               titles: Sequence[str] | None = None, title: str = "") -> Path:
    """A grid of grey images: one row per stack in ``rows`` (each (n, H, W) in [0, 1], same n).

    ``row_labels`` name the rows on the left; ``titles`` (n of them) go above the first row.
    """
    n_rows, n_cols = len(rows), len(rows[0])
    figure = Figure(figsize=(1.0 * n_cols + 1.2, 1.0 * n_rows + (0.4 if title else 0)))
    axes = figure.subplots(n_rows, n_cols, squeeze=False)
    for r, (stack, label) in enumerate(zip(rows, row_labels)):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.imshow(np.asarray(stack[c]).reshape(stack[c].shape[0], -1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
            if r == 0 and titles is not None:
                ax.set_title(titles[c], fontsize=9)
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def codes_as_squares(codes: np.ndarray, images: np.ndarray, outputs: np.ndarray, path: Path,
                     title: str = "") -> Path:
    """Input / code / output for a few images, each code of s*s values drawn as an s x s picture.

    Codes are scaled by the largest value shown (relu codes have no fixed range), so they compare.
    """
    side = int(round(np.sqrt(codes.shape[1])))
    squares = codes.reshape(len(codes), side, side)
    squares = squares / max(float(squares.max()), 1e-12)
    return image_rows([images, squares, outputs], ["input", f"code {side}x{side}", "output"], path, title=title)


def line_plot(x: Sequence[float], series: Mapping[str, Sequence[float]], path: Path, *, xlabel: str,
              ylabel: str, title: str = "", log_x: bool = False, log_y: bool = False,
              marks: dict[str, float] | None = None) -> Path:
    """One line per entry of ``series`` over ``x``; ``marks`` draws labelled horizontal reference lines."""
    figure = Figure(figsize=(6, 4))
    ax = figure.subplots()
    for label, ys in series.items():
        ax.plot(list(x), list(ys), marker="o", label=label)
    for label, value in (marks or {}).items():
        ax.axhline(value, linestyle="--", color="grey", linewidth=1)
        ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, va="bottom")
    if log_x:
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(x), [str(v) for v in x])
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save_figure(figure, path)


def loss_curves(history: dict[str, list[float]], path: Path, title: str = "",
                marks: dict[str, float] | None = None) -> Path:
    """Training and validation loss per epoch (the write-ups' loss figure)."""
    epochs = range(1, len(next(iter(history.values()))) + 1)
    named = {"training" if k == "loss" else "validation": v for k, v in history.items() if k in ("loss", "val_loss")}
    return line_plot(list(epochs), named, path, xlabel="epoch", ylabel="loss", title=title, marks=marks)
