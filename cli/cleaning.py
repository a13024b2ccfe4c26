"""``docclean denoise`` and ``docclean watch``: cleaning pages from the command line, with one set of options.

Every option is checked, and Tesseract's languages with them, before the model loads.
"""
from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

from tqdm import tqdm

# Nothing here imports TensorFlow: the model runs on OpenVINO (engine.cleaning.backends).
from cli.arguments import checked_whole, number, whole
from cli.progress_bars import Bars
from engine.cleaning.backends import PRECISIONS as CLEANING_PRECISIONS, check_threads
from engine.distributed.cluster import ClusterOptions
from engine.errors import ConfigurationError, DocCleanError, ExitCode
from engine.geometry import GeometryOptions
from engine.io import JPEG_QUALITY, JPEG_QUALITY_RANGE, PDF_JPEG_QUALITY, check_jpeg_quality
from engine.models.bundled import BUNDLED_MODELS, DEFAULT_MODEL_NAME, model_for_mode
from engine.options import COMBINED_NAME, BatchOptions
from engine.progress import CancelToken, Cancelled
from engine.vocabulary import (Crop, OutputFormat, PageMode, PageSize, PdfA, PdfImages, RerunPolicy, Rotation, Runtime,
                               Split)

if TYPE_CHECKING:  # loaded where a command runs
    from engine.cleaning.batch import BatchPlan, PageResult
    from engine.cleaning.staged import StagedPlan
    from engine.cleaning.denoiser import Denoiser


def add_denoise_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("denoise", help="clean image files or folders of scans")
    p.add_argument("inputs", nargs="+", help="image files or folders (searched recursively), or s3:// or gs:// "
                                              "places (pip install 'docclean[stores]')")
    p.add_argument("-o", "--output", required=True,
                   help="folder for the cleaned pages, or an s3:// or gs:// place (each page uploaded once, whole; "
                        "an object there is replaced only with --overwrite)")
    output_arguments(p)
    _engine_arguments(p)
    p.set_defaults(run=denoise)


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("cluster", "run the batch on Ray workers, a file a task (pip install "
                                            "'docclean[ray]'); outputs are those of a run here")
    group.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="local (the default): in this process; ray: on a Ray cluster, or on a Ray started on "
                            "this computer when no address is given")
    group.add_argument("--address", metavar="HOST:PORT",
                       help="the Ray cluster's head to join, or auto (default: RAY_ADDRESS, else start one here)")
    group.add_argument("--workers", type=whole, metavar="N",
                       help="worker processes, each with its own model (default: as many as the CPUs allow)")
    group.add_argument("--cpus-per-worker", type=whole, default=1, metavar="K",
                       help="CPUs each worker takes, and the threads its model runs on (default 1)")


def add_watch_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from engine.cleaning.watch import WatchTimes

    p = commands.add_parser("watch", help="clean every page that appears in a folder (a scanner's scan-to-folder)")
    p.add_argument("folder", help="the folder to watch (its sub-folders too)")
    p.add_argument("-o", "--output", required=True, help="folder for the cleaned pages")
    p.add_argument("--interval", type=number, default=WatchTimes.interval, metavar="S",
                   help=f"seconds between looks at the folder (default {WatchTimes.interval:g})")
    p.add_argument("--settle", type=number, default=WatchTimes.settle, metavar="S",
                   help="seconds a file's size must stand still before it is cleaned, as a scanner writes in "
                        f"bursts (default {WatchTimes.settle:g})")
    output_arguments(p)
    p.set_defaults(run=watch)


def output_arguments(p: argparse.ArgumentParser) -> None:
    """The options ``denoise`` and ``watch`` share: how pages are cleaned, made upright and written."""
    p.add_argument("--format", choices=list(OutputFormat),
                   help="png (default), tiff, jpeg, or pdf: one PDF per input file, every page in it; "
                        "tiff writes a multi-page TIFF for a multi-page TIFF or PDF")
    p.add_argument("--combine", metavar="NAME.pdf", nargs="?", const=COMBINED_NAME,
                   help="write every page of the run, in input order, into this one PDF in the output folder "
                        f"(instead of a file per page or document; default name: {COMBINED_NAME})")
    p.add_argument("--name", metavar="TEMPLATE",
                   help="how output files are named, without extension (default {name}_clean): {name} the "
                        "input's name (scan_p2 for page 2 of a multi-page file written a file per page), "
                        "{model} the model (docclean-general), {mode} grey or bw, {page} the page number")
    p.add_argument("--jpeg-quality", type=checked_whole(check_jpeg_quality), metavar="N",
                   help=f"JPEG quality from {JPEG_QUALITY_RANGE[0]} to {JPEG_QUALITY_RANGE[1]}: of JPEG files "
                        f"(default {JPEG_QUALITY}), and of a PDF's grey and colour pages (default {PDF_JPEG_QUALITY})")
    p.add_argument("--pdf-images", choices=list(PdfImages),
                   help="how a PDF stores grey and colour pages: jpeg (default; compact, at --jpeg-quality) or "
                        "lossless (the cleaned pixels exactly, two to three times larger); black-and-white "
                        "pages are always lossless (CCITT G4, or Flate where smaller)")
    p.add_argument("--pdfa", choices=list(PdfA), nargs="?", const=PdfA.PDFA_2B,
                   help="write PDF/A for archives, checked before it is given its name: 2b (the default when "
                        "no level is given) or 1b; with --format pdf or --combine")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true",
                       help="clean every page again, replacing earlier outputs (inputs are never replaced); "
                            "by default pages this model already cleaned from the same input are skipped")
    again.add_argument("--keep-both", action="store_true",
                       help="clean every page again, writing new outputs beside earlier ones (NAME_clean-1.png)")
    p.add_argument("--mode", choices=[*PageMode, "color"], default=PageMode.GREY,
                   help="grey: the clean page; bw: black and white, 1 bit (PNG, TIFF with CCITT G4, or PDF) "
                        "for OCR and archives, by the ink model when the model is the general one; colour "
                        "(or color): the paper white, every stamp, pen, highlighter and picture in its colour; "
                        "auto: colour for pages with coloured marks, grey for the rest")
    p.add_argument("--ocr", metavar="LANG",
                   help="make PDFs searchable: an invisible text layer of what Tesseract reads on each cleaned "
                        "page, word by word, in these languages (eng, or eng+deu); with --format pdf or --combine")
    p.add_argument("--text", action="store_true",
                   help="also write what Tesseract reads (--ocr's languages) as NAME.txt beside each output")
    p.add_argument("--dpi", type=number, metavar="N",
                   help="the resolution every page is written at, in dots per inch (it sets a PDF page's size); "
                        "by default each file's own, or 300 where that would make a page larger than A0")
    cleaning_arguments(p)
    geometry_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print every file written, with what was done to make its page upright and straight")


def denoise(args: argparse.Namespace) -> int:
    from engine.cleaning.batch import plan_batch, run_batch
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.staged import StagedPlan, needs_staging, plan_staged, run_staged
    from engine.io import SUPPORTED_SUFFIXES

    options = batch_options(args)  # every option is checked before any work
    cluster = _cluster_options(args, options)
    if options.ocr:
        from engine.io.ocr import check_languages

        check_languages(options.ocr)  # Tesseract and its languages, before the model loads
    # The output folder (or store) is checked, and stores listed, before the model loads.
    staged = needs_staging(args.inputs, args.output)
    plan: BatchPlan | StagedPlan = (plan_staged(args.inputs, args.output, options) if staged
                                    else plan_batch(args.inputs, args.output))
    for note in plan.notes():
        print(note, file=sys.stderr)
    model = model_for_mode(args.model, options.mode)
    denoiser = None if cluster else Denoiser.from_file(model, backend=args.backend, precision=args.precision,
                                                        threads=args.threads)
    if not plan.files:  # after the model: a wrong model is worth hearing about first
        raise ConfigurationError(f"no pages found in {', '.join(map(str, args.inputs))}: DocClean reads "
                                 f"{', '.join(sorted(s.lstrip('.').upper() for s in SUPPORTED_SUFFIXES))} files")
    if denoiser is not None and not isinstance(plan, StagedPlan):
        _warn_if_unsuited(denoiser, plan)
    bars = Bars(args.quiet)
    counts = {"cleaned": 0, "already clean": 0, "failed": 0}
    try:
        if cluster is not None:
            from engine.distributed.ray_batch import ModelChoice, run_on_cluster

            choice = ModelChoice(model, args.backend, args.precision)
            results = run_on_cluster(plan, choice, options, cluster, progress=bars,
                                     say=lambda sentence: tqdm.write(sentence, file=sys.stderr))
        else:
            assert denoiser is not None
            results = (run_staged(plan, denoiser, options, progress=bars) if isinstance(plan, StagedPlan)
                       else run_batch(plan, denoiser, options, progress=bars))
        for result in results:
            tell(result, counts, args.verbose)
    finally:
        bars.close()
    ran = runtime(denoiser) if denoiser is not None else "on Ray"
    where = plan.output if isinstance(plan, StagedPlan) else plan.out_dir
    print(f"{batch_summary(counts, where)} ({ran})")
    if counts["already clean"] and not counts["cleaned"] and not counts["failed"]:
        again = "" if isinstance(plan, StagedPlan) else ", --keep-both writes new copies"  # a store keeps one
        print(f"(every page was already cleaned by this model: --overwrite cleans them again{again})", file=sys.stderr)
    worked = counts["cleaned"] + counts["already clean"]
    if counts["failed"]:
        return ExitCode.SOME_FAILED if worked else ExitCode.FAILED
    return ExitCode.OK


def _cluster_options(args: argparse.Namespace, options: BatchOptions) -> Optional[ClusterOptions]:
    """With --engine ray, where and how wide the run goes (checked, with the batch's options, before any work);
    None for a run in this process."""
    if args.engine != "ray":
        for flag, value in (("--address", args.address), ("--workers", args.workers)):
            if value is not None:
                raise ConfigurationError(f"{flag} is for a run on a cluster: add --engine ray")
        return None
    from engine.distributed.ray_batch import check_distributable

    check_distributable(options)
    return ClusterOptions(args.address, args.workers, args.cpus_per_worker).check()


def _warn_if_unsuited(denoiser: Denoiser, plan: BatchPlan) -> None:
    """Say before the batch when the model would erase much of the first page's ink."""
    from engine.cleaning.suitability import unsuited_warning
    from engine.io import read_page
    from engine.io.page_types import PageRef

    first = next((item for item in plan.pages() if isinstance(item, PageRef)), None)
    if first is None:
        return
    try:
        pixels = read_page(first).pixels
    except DocCleanError:
        return  # the batch reports the page
    warning = unsuited_warning(denoiser, pixels, first.label)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def batch_options(args: argparse.Namespace) -> BatchOptions:
    """The options of ``docclean denoise``, or ConfigurationError saying what clashes."""
    existing = (RerunPolicy.OVERWRITE if args.overwrite
                else RerunPolicy.KEEP_BOTH if args.keep_both else RerunPolicy.SKIP)
    return BatchOptions.build(fmt=args.format, mode=args.mode, keep_ink=not args.no_keep_ink, existing=existing,
                              name=args.name, jpeg_quality=args.jpeg_quality, pdf_images=args.pdf_images,
                              pdfa=args.pdfa, combine=args.combine, dpi=args.dpi,
                              pictures=not args.no_pictures, geometry=geometry_options(args),
                              ocr=args.ocr or "", text=args.text)


def geometry_options(args: argparse.Namespace) -> GeometryOptions:
    if args.geometry == "off":
        return GeometryOptions.off()
    return GeometryOptions(rotate=args.rotate, deskew=not args.no_deskew, crop=args.crop, split=args.split,
                           page_size=args.page_size, dewarp=args.dewarp)


def batch_summary(counts: dict[str, int], out_dir: Path | str) -> str:
    """E.g. "2 page(s) cleaned, 18 already clean, 1 failed, in /out" (or in s3://bucket/out)."""
    parts = [f"{counts['cleaned']} page(s) cleaned"]
    parts += [f"{counts[key]} {key}" for key in ("already clean", "failed") if counts[key]]
    return ", ".join(parts) + f", in {out_dir.resolve() if isinstance(out_dir, Path) else out_dir}"


def runtime(denoiser: Denoiser) -> str:
    """What ran the model, e.g. "openvino, float32": the precision as resolved, not as asked ('auto')."""
    return f"{denoiser.backend.name}, {denoiser.precision}"


def tell(result: PageResult, counts: dict[str, int], verbose: bool) -> None:
    """Count a page's result and say what the user should hear of it: errors and warnings, and with
    ``verbose`` every file written."""
    from engine.io.documents import PageOfFailedDocument

    if result.error is not None:
        counts["failed"] += 1
        # A document that could not be written is told once; its other pages only with --verbose.
        if verbose or not isinstance(result.error, PageOfFailedDocument):
            tqdm.write(f"error: {result.error}", file=sys.stderr)
        return
    counts["already clean" if result.skipped else "cleaned"] += 1
    if verbose:
        done = " (already clean)" if result.skipped else f" ({result.geometry})" if result.geometry else ""
        tqdm.write(f"{result.ref.label} -> {result.location or result.output}{done}", file=sys.stderr)
    if result.warning:
        tqdm.write(f"warning: {result.ref.label}: {result.warning}", file=sys.stderr)


def watch(args: argparse.Namespace) -> int:
    """Clean the pages that appear in a folder until Ctrl+C or SIGTERM, which end it normally."""
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.watch import WatchTimes, check_watchable, watch_folder

    options = batch_options(args)
    check_watchable(options)
    times = WatchTimes(args.interval, args.settle).check()
    folder = Path(args.folder)
    if not folder.is_dir():
        raise ConfigurationError(f"{folder} is not a folder: a watch needs one to look into")
    if options.ocr:
        from engine.io.ocr import check_languages

        check_languages(options.ocr)
    denoiser = Denoiser.from_file(model_for_mode(args.model, options.mode), backend=args.backend,
                                   precision=args.precision, threads=args.threads)
    print(f"watching {folder.resolve()} for pages, every {times.interval:g} s ({runtime(denoiser)}); "
          f"Ctrl+C stops", file=sys.stderr)
    bars = Bars(args.quiet)
    counts = {"cleaned": 0, "already clean": 0, "failed": 0}
    cancel = CancelToken()
    try:
        with _cancelled_by_signals(cancel):
            for result in watch_folder(folder, Path(args.output), denoiser, options, cancel, bars, times):
                tell(result, counts, verbose=True)
    except Cancelled:  # Ctrl+C or SIGTERM: how a watch is meant to end
        pass
    finally:
        bars.close()
    print(f"stopped watching: {batch_summary(counts, Path(args.output))}", file=sys.stderr)
    return ExitCode.OK


@contextmanager
def _cancelled_by_signals(cancel: CancelToken) -> Iterator[None]:
    """Ctrl+C and SIGTERM set ``cancel`` while the block runs, so the watch stops at its next page or look at
    the folder, rather than wherever the signal lands (inside a library's own cleanup, even)."""
    def stop(signum: int, frame: object) -> None:
        cancel.cancel()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def cleaning_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="a .keras model file, or a bundled model: "
                                    + ", ".join(f"{name} (default)" if name == DEFAULT_MODEL_NAME else name
                                                for name in BUNDLED_MODELS))
    p.add_argument("--backend", choices=list(Runtime), default=Runtime.AUTO,
                   help="inference runtime: auto (the fastest installed: openvino), openvino, "
                        "or keras (the TensorFlow reference)")
    p.add_argument("--precision", choices=CLEANING_PRECISIONS, default="auto",
                   help="what the model computes in: auto (the default: bfloat16 on CPUs that do it natively, "
                        "with AVX512-BF16 or AMX, else float32), float32 (the reference figures on any CPU), "
                        "or bfloat16")
    p.add_argument("--no-keep-ink", action="store_true",
                   help="write what the model made even where it erased clear ink (default: put it back)")
    p.add_argument("--no-pictures", action="store_true",
                   help="clean photographs and other pictures like text (default: find them and keep their tones; "
                        "in --mode bw they are dithered)")
    p.add_argument("--threads", type=checked_whole(check_threads), default=0,
                   help="CPU threads for the model (default 0: one per core; openvino only)")


def geometry_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("geometry", "before cleaning, pages are made upright, straight and cropped to the "
                                             "paper; each step acts only when it is sure, and says when it is not")
    group.add_argument("--geometry", choices=["auto", "off"], default="auto",
                       help="auto (the default): the steps below; off: pages exactly as read")
    group.add_argument("--rotate", choices=list(Rotation), default=Rotation.AUTO,
                       help="auto: turn pages upright from their text (with Tesseract's help where it is installed "
                            "and the letters alone cannot tell); 0, 90, 180, 270: turn every page clockwise by that")
    group.add_argument("--no-deskew", action="store_true", help="leave the text lines' skew as scanned")
    group.add_argument("--crop", choices=list(Crop), default=Crop.PAGE,
                       help="page (the default): remove what lies beyond the paper (a scanner's lid, a table), "
                            "never the paper's content; content: crop to the text and pictures with a margin; "
                            "off: keep the whole image")
    group.add_argument("--split", choices=list(Split), default=Split.AUTO,
                       help="auto (the default): an open book's two pages are written as two pages (NAME_left, "
                            "NAME_right, or two pages of the PDF) when the gutter between them is clear; off: never")
    group.add_argument("--page-size", choices=list(PageSize), default=PageSize.NONE,
                       help="set every page on an A4 or Letter sheet at its resolution, the content centred "
                            "(scaled down only if it does not fit); none (the default): the page's own size")
    group.add_argument("--dewarp", action="store_true",
                       help="flatten text lines bent near a book's spine (a page whose lines clearly bend, from "
                            "five lines up; slower)")
