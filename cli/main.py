"""The ``docclean`` command line: everything the GUI does, for scripts.

Every long command shows a progress bar, and Ctrl+C stops it cleanly: no
half-written output is left behind.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, TextIO

import numpy as np

# Nothing here imports TensorFlow: only ``train`` (and exporting a new model
# for the fast runtime) loads it, when it runs.
from engine.errors import ConfigurationError, DocCleanError, ExitCode
from cli.arguments import arch_options, number, whole
from cli.cleaning import add_denoise_parser, add_watch_parser, cleaning_arguments, runtime
from cli.cluster import add_cluster_parser
from cli.tune import add_tune_parser
from cli.lab import add_lab_parser
from cli.progress_bars import Bars
from engine.data.catalogue import DOWNLOADABLE, NOISYOFFICE
from engine.data.sources import is_document_data, parse_data
from engine.io import check_output_folder, find_images
from engine.io.os_errors import describe_os_error
from engine.models import registry
from engine.models.bundled import BUNDLED_MODELS, model_for_mode
from engine.models.modelfile import check_output_name, read_info
from engine.progress import Cancelled
from engine.training.config import LOSSES, LR_SCHEDULES, OPTIMIZERS, PRECISIONS, TrainConfig, resolved
from engine.vocabulary import PageMode


def _train(args: argparse.Namespace) -> int:
    options = arch_options(args.arch_options)
    if args.bottleneck is not None:
        options["bottleneck"] = args.bottleneck
    config = TrainConfig(
        data=args.data, arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, loss=args.loss, learning_rate=args.learning_rate,
        lr_schedule=args.lr_schedule, validation_split=args.validation_split,
        test_fraction=args.test_fraction, patience=args.patience, seed=args.seed,
        arch_options=options, data_folder=args.data_folder, noise_factor=args.noise_factor,
        denoise=not args.reconstruct, max_samples=args.max_samples, crop=args.crop,
        steps_per_epoch=args.steps_per_epoch, precision=args.precision, init_from=args.init_from)
    resolved(config)  # every value checked before TensorFlow starts
    check_output_name(args.output)
    check_output_folder(Path(args.output).parent)  # before hours of training, not after
    if is_document_data(config.data):
        parse_data(config.data, config.data_folder)  # the sources exist and the recipe reads
    from engine.training.fit import train

    bars = Bars(args.quiet)
    try:
        result = train(config, args.output, progress=bars)
    finally:
        bars.close()
    metrics = ", ".join(f"{k} {v:.5g}" for k, v in result.info.metrics.items())
    print(f"saved {result.path} ({result.info.epochs} epochs; best: {metrics})")
    return ExitCode.OK


def _train_pictures(args: argparse.Namespace) -> int:
    if Path(args.output).suffix != ".npz":
        raise ConfigurationError(f"{args.output}: the picture finder is saved as an .npz file")
    check_output_folder(Path(args.output).parent)  # before twenty minutes of training, not after
    from engine.training.pictures import train_picture_finder

    bars = Bars(args.quiet)
    try:
        figures = train_picture_finder(args.data_folder, args.output, samples=args.samples, epochs=args.epochs,
                                       seed=args.seed, progress=bars)
    finally:
        bars.close()
    shown = ", ".join(f"{key} {value:.4g}" for key, value in figures.items())
    print(f"saved {args.output} (best epoch: {shown}); use it with DOCCLEAN_PICTURE_MODEL={args.output}")
    return ExitCode.OK


def _evaluate(args: argparse.Namespace) -> int:
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.page import clean_page
    from engine.evaluation.scoring import InkEvaluation, NothingReadable, evaluate, evaluate_ink
    from engine.data.pairs import find_pairs

    denoiser = Denoiser.from_file(model_for_mode(args.model, args.mode), backend=args.backend,
                                   precision=args.precision, threads=args.threads)

    def clean(pixels: np.ndarray) -> np.ndarray:
        return clean_page(denoiser, pixels, args.mode, keep_ink=not args.no_keep_ink,
                          pictures=not args.no_pictures).pixels

    if not args.ink:
        found = find_pairs(args.pairs)
        if not found.complete:
            print(found.summary(), file=sys.stderr)
        assert denoiser.info is not None  # from_file reads it from the model file
        trained = set((denoiser.info.training.get("data_description") or {}).get("trained_documents", []))
        chosen = found.pairs if args.include_seen else [p for p in found.pairs if p.document not in trained]
        skipped = len(found.pairs) - len(chosen)
        if skipped:
            print(f"left out {skipped} pair(s) whose document the model trained on "
                  "(--include-seen keeps them)", file=sys.stderr)
        if not chosen:
            print("error: no pairs left to evaluate", file=sys.stderr)
            return ExitCode.FAILED
    bars = Bars(args.quiet or args.json)
    try:
        scored = (evaluate_ink(find_images([args.ink]), clean, progress=bars) if args.ink
                  else evaluate(chosen, clean, progress=bars))
    except NothingReadable as failure:
        # Every file was unreadable: each one is named, then the sentence.
        result, errors, summary = None, failure.errors, failure.summary
    else:
        result, errors = scored, scored.errors
    finally:
        bars.close()
    unreadable_pairs = [] if args.ink else found.unreadable  # named above, in the pairing summary
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    if result is None:
        print(f"error: {summary}", file=sys.stderr)
        return ExitCode.FAILED
    if args.json:
        print(json.dumps({**result.to_json_dict(), "backend": denoiser.backend.name,
                          "precision": denoiser.precision}))
    elif isinstance(result, InkEvaluation):  # --ink
        print(f"{result.pages} pages: ink kept {100 * result.recall:.1f}%  paper level "
              f"{result.paper_before:.3f} -> {result.paper_after:.3f}")
    else:
        print(f"{result.pairs} pairs: RMSE {result.rmse:.4f}  PSNR {result.psnr:.2f} dB  "
              f"SSIM {result.ssim:.4f}  {result.seconds_per_megapixel:.3f} s per megapixel ({runtime(denoiser)})")
        if result.binary:
            b = result.binary
            print(f"binarised at Otsu: F-measure {b['f_measure']:.2f}  pseudo F-measure "
                  f"{b['pseudo_f_measure']:.2f}  PSNR {b['binary_psnr']:.2f} dB  DRD {b['drd']:.2f}")
    # As for denoise: 2 says some inputs failed while the others were scored.
    return ExitCode.SOME_FAILED if errors or unreadable_pairs else ExitCode.OK


# The training defaults are the engine's: the CLI and the app's dialog cannot drift apart.
DEFAULTS = TrainConfig(data="", arch="")


def _download(args: argparse.Namespace) -> int:
    from engine.data.digits import download_dataset
    from engine.data.pairs import download_noisyoffice

    bars = Bars(args.quiet)
    try:
        folder = (download_noisyoffice(progress=bars) if args.dataset == NOISYOFFICE
                  else download_dataset(args.dataset, progress=bars))
    finally:
        bars.close()
    print(f"{args.dataset} is in {folder}")
    return ExitCode.OK


def _models(args: argparse.Namespace) -> int:
    width = max(len(n) for n in registry.ARCHITECTURES)
    for arch in registry.ARCHITECTURES.values():
        print(f"{arch.name:<{width}}  {arch.parameters:>9,}  {arch.family:<8}  {arch.summary}")
    return ExitCode.OK


def _info(args: argparse.Namespace) -> int:
    info = read_info(args.model)
    print(f"file:          {Path(args.model).resolve()}")
    print(f"architecture:  {info.architecture} {info.options or ''}")
    print(f"parameters:    {info.parameters:,}")
    print(f"data set:      {info.dataset}")
    print(f"epochs:        {info.epochs}")
    print(f"created:       {info.created}")
    if info.geometry:
        print(f"geometry:      receptive field {info.geometry['receptive_field']} px, "
              f"size multiple {info.geometry['size_multiple']}")
    for key, value in info.metrics.items():
        print(f"  {key}: {value:.6g}" if isinstance(value, float) else f"  {key}: {value}")
    if info.history.get("loss"):
        losses = ", ".join(f"{v:.4g}" for v in info.history["loss"])
        print(f"loss history:  {losses}")
    return ExitCode.OK


def _version() -> str:
    """The installed DocClean's version (the binaries carry its package metadata too)."""
    from importlib import metadata

    try:
        return metadata.version("docclean")
    except metadata.PackageNotFoundError:
        return "(version unknown: not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docclean", description="Clean scanned documents with neural networks.")
    parser.add_argument("--version", action="version", version=f"docclean {_version()}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)
    add_denoise_parser(commands)
    add_watch_parser(commands)
    add_cluster_parser(commands)

    p = commands.add_parser("train", help="train a model from the zoo")
    p.add_argument("--data", required=True,
                   help="mnist, notmnist, or pages: noisyoffice, synthetic, a folder of pairs, a mix with "
                        "weights (noisyoffice,dibco:2,synthetic) or a .toml recipe")
    p.add_argument("--data-folder", help="for pages, the folder holding the named sources (noisyoffice, dibco, "
                                         "...); for mnist or notmnist, the folder holding its files "
                                         "(default: the download cache)")
    p.add_argument("--arch", required=True, choices=list(registry.ARCHITECTURES))
    p.add_argument("--arch-options", help='JSON options for the builder, e.g. \'{"width": 8}\'')
    p.add_argument("--bottleneck", type=whole, help="bottleneck size of the dense AE")
    p.add_argument("--epochs", type=whole, default=DEFAULTS.epochs)
    p.add_argument("--batch-size", type=whole)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--loss", choices=tuple(LOSSES))
    p.add_argument("--learning-rate", type=number)
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=DEFAULTS.lr_schedule)
    p.add_argument("--validation-split", type=number, default=DEFAULTS.validation_split)
    p.add_argument("--test-fraction", type=number, default=DEFAULTS.test_fraction,
                   help="documents held out of training entirely (pairs data)")
    p.add_argument("--patience", type=whole, help="early stopping patience in epochs")
    p.add_argument("--seed", type=whole, default=DEFAULTS.seed)
    p.add_argument("--noise-factor", type=number, default=DEFAULTS.noise_factor, help="Gaussian noise for digit data")
    p.add_argument("--reconstruct", action="store_true", help="digit data: learn to reconstruct, not denoise")
    p.add_argument("--max-samples", type=whole, help="use at most this many digit images")
    p.add_argument("--crop", type=whole, default=DEFAULTS.crop, help="training crop size for pages")
    p.add_argument("--steps-per-epoch", type=whole, default=DEFAULTS.steps_per_epoch, help="batches per epoch for pages")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULTS.precision,
                   help="mixed_bfloat16 trains about twice as fast on CPUs with AVX512-BF16/AMX")
    p.add_argument("--init-from", metavar="MODEL",
                   help="fine-tune: start from this model's weights (a .keras file or a bundled model's name: "
                        f"{', '.join(BUNDLED_MODELS)}); it must have the same architecture and options")
    p.add_argument("-o", "--output", required=True, help="the .keras file to write")
    p.set_defaults(run=_train)

    add_tune_parser(commands)  # docclean tune RECIPE: a training sweep on Ray Tune

    p = commands.add_parser("train-pictures", help="train the picture finder (photographs keep their tones)")
    p.add_argument("--data-folder", required=True, help="the folder holding dibco/ and noisyoffice/ "
                                                        "(pages without pictures, cut into training crops)")
    p.add_argument("--samples", type=whole, default=10_000, help="training crops (default 10000)")
    p.add_argument("--epochs", type=whole, default=14)
    p.add_argument("--seed", type=whole, default=DEFAULTS.seed)
    p.add_argument("-o", "--output", required=True, help="the .npz file to write")
    p.set_defaults(run=_train_pictures)

    p = commands.add_parser("evaluate", help="score a model on pairs, or on the ink it keeps")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--pairs", help="folder with noisy/ and clean/ (or source/ and target/) pages; "
                                      "binary ground truth adds the DIBCO metrics")
    what.add_argument("--ink", help="folder of pages without ground truth: share of their clear ink kept")
    cleaning_arguments(p)
    p.add_argument("--mode", choices=[PageMode.GREY, PageMode.BW], default=PageMode.GREY,
                   help="score the pages as denoise --mode writes them (bw: by the ink model "
                        "when the model is the general one)")
    p.add_argument("--include-seen", action="store_true",
                   help="also score documents the model was trained on")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_evaluate)

    add_lab_parser(commands)  # docclean lab EXPERIMENT: the autoencoder experiments of the seeds

    p = commands.add_parser("download", help="download a data set once into the user cache (checksums kept)")
    p.add_argument("dataset", choices=DOWNLOADABLE)
    p.set_defaults(run=_download)

    p = commands.add_parser("models", help="list the architectures and their parameter counts")
    p.set_defaults(run=_models)

    p = commands.add_parser("info", help="describe a model file")
    p.add_argument("model")
    p.set_defaults(run=_info)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a logout, `docker stop`, `kill`): stopped as cleanly as Ctrl+C."""


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise _Terminated()

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Optional[TextIO] = None, line: Optional[str] = None) -> None:
    """A warning as one line for the user, without Python's file name, line number and source line."""
    print(f"warning: {message}", file=file or sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    # Pillow warns about damaged metadata on stderr with its own file paths; what
    # matters to the user is reported per page.
    warnings.filterwarnings("ignore", module="PIL")
    warnings.showwarning = _show_warning
    try:
        with _stop_on_sigterm():
            run: Callable[[argparse.Namespace], int] = args.run  # each command's function (set_defaults)
            return run(args)
    except (KeyboardInterrupt, Cancelled) as stop:
        how = "terminated" if isinstance(stop, _Terminated) else "interrupted"
        print(f"\n{how}: nothing half-written was left behind", file=sys.stderr)
        return ExitCode.TERMINATED if isinstance(stop, _Terminated) else ExitCode.INTERRUPTED
    except DocCleanError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return ExitCode.FAILED

if __name__ == "__main__":
    sys.exit(main())
