"""``docclean lab EXPERIMENT``: run one of the autoencoder lab's experiments (engine.lab).

cli.main adds the command with ``add_lab_parser(commands)``; ``run_lab`` runs it.  Ctrl+C
and errors propagate to cli.main's handler (one sentence, a clean stop), except a missing
data folder and a missing lab extra (``pip install 'docclean[lab]'``), which are reported here.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.arguments import whole
from cli.progress_bars import Bars
from engine.lab import EXPERIMENTS
from engine.lab.result import LabResult



def _factors(text: str) -> tuple[float, ...]:
    """'0.3,0.5' -> (0.3, 0.5); argparse turns the ValueError into a usage error."""
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected noise factors like 0.3,0.5, got {text!r}") from None
    if not values or any(not 0 <= v <= 2 for v in values):
        raise argparse.ArgumentTypeError(f"noise factors must be between 0 and 2, got {text!r}")
    return values


def add_lab_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``lab`` to the ``docclean`` sub-commands; returns its parser."""
    p = commands.add_parser("lab", help="run an autoencoder experiment of the seeds and write its figures")
    p.add_argument("experiment", choices=EXPERIMENTS)
    p.add_argument("--data-folder", type=Path,
                   help="folder with the MNIST / notMNIST IDX files (default: download the full sets once)")
    p.add_argument("-o", "--output", required=True, type=Path, help="folder for the figures and numbers.json")
    p.add_argument("--seed", type=whole, default=0, help="seed of the data split, the noise and the weights")
    p.add_argument("--quick", action="store_true", help="a few images and epochs: a smoke test in seconds")
    p.add_argument("--factors", type=_factors, default=(),
                   help="denoise only: noise factors to score besides 0.5 and 0.7, e.g. 0.3,0.9")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object (the last line)")
    p.set_defaults(run=run_lab)
    return p


def _options(args: argparse.Namespace) -> dict[str, tuple[float, ...]]:
    if args.factors and args.experiment != "denoise":
        raise ValueError(f"--factors is for the denoise experiment, not {args.experiment}")
    return {"factors": args.factors} if args.factors else {}


def _summary(result: LabResult, folder: Path) -> list[str]:
    lines = [f"{result.name}: {result.protocol}"]
    for row in result.table:
        lines.append("  " + "  ".join(f"{k} {v:.5g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    lines.append(f"{len(result.figures)} figure(s) and numbers.json in {folder}")
    return lines


def run_lab(args: argparse.Namespace) -> int:
    """Run ``args.experiment``; print a summary, or with ``--json`` numbers.json's content as the last line."""
    from engine.lab import LabExtraMissing, experiment

    try:
        run = experiment(args.experiment)
    except LabExtraMissing as missing:  # a plain install or the binaries: the command that adds the lab
        print(f"error: {missing}", file=sys.stderr)
        return 1
    options = _options(args)
    if args.data_folder is not None and not args.data_folder.is_dir():
        print(f"error: data folder {args.data_folder} does not exist", file=sys.stderr)
        return 1
    bars = Bars(getattr(args, "quiet", False))
    try:
        result = run(args.data_folder, args.output, seed=args.seed, quick=args.quick, progress=bars, **options)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        bars.close()
    if args.json:
        print(json.dumps(result.payload()))
    else:
        print("\n".join(_summary(result, args.output)))
    return 0
