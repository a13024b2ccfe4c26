"""The batch on Ray against the local batch, on one machine; and what a million A4 pages cost on a cluster.

    python benchmarks/scale.py [--data DIR] [--out DIR] [--pages N] [--precision float32|native] [--smoke]

PAGES A4 pages at 300 dpi (mosaics of held-out NoisyOffice pages, benchmarks/speed.py), each its own
PNG file, cleaned into a fresh folder by: the local batch (``run_batch``, the model loaded first, every
core); Ray with one worker given every core (``--workers 1 --cpus-per-worker`` the core count); Ray with
one worker per core; and the local batch from and to an S3 bucket (a local S3 server, moto's, in its own
process: the cost of a file at a time, each downloaded and uploaded whole).  Ray is started once, before the runs, and its start-up timed on its own; each Ray
run's time includes starting its workers and loading their models.  Target: one worker within 10 % of
the local batch's pages per second.  Then, on paper: the CPU-seconds an A4 page takes here, a million
pages' vCPU-hours and cost at PRICE_PER_VCPU_HOUR, and the wall time on CLUSTER_NODES nodes of
CLUSTER_VCPUS vCPUs.  Writes benchmarks/results/scale.md and .json (or into ``--out``).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from benchmarks.results_files import results_folder, save_results, standard_arguments  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages  # noqa: E402
from engine.cleaning.batch import plan_batch, run_batch  # noqa: E402
from engine.cleaning.denoiser import Denoiser  # noqa: E402
from engine.data.pairs import find_pairs, split_by_document  # noqa: E402
from engine.distributed.cluster import ClusterOptions, connected  # noqa: E402
from engine.distributed.ray_batch import ModelChoice, run_on_cluster  # noqa: E402
from engine.options import BatchOptions  # noqa: E402

TARGET = 0.9  # one worker's pages per second against the local batch's
#: An on-demand general-purpose cloud vCPU-hour (x86, Linux), in US dollars: the assumption of the cost line.
PRICE_PER_VCPU_HOUR = 0.04
CLUSTER_NODES, CLUSTER_VCPUS = 50, 16
MILLION = 1_000_000


def timed_local(pages: Path, out: Path, precision: str) -> float:
    denoiser = Denoiser.from_file("general", precision=precision)  # loaded before the clock, as the CLI does
    started = time.perf_counter()
    results = list(run_batch(plan_batch([pages], out), denoiser, BatchOptions()))
    assert all(result.ok for result in results)
    return time.perf_counter() - started


def timed_ray(pages: Path, out: Path, precision: str, workers: int, cpus: int) -> float:
    started = time.perf_counter()
    results = list(run_on_cluster(plan_batch([pages], out), ModelChoice("general", precision=precision),
                                  BatchOptions(), ClusterOptions(workers=workers, cpus_per_worker=cpus)))
    assert all(result.ok for result in results)
    return time.perf_counter() - started


def timed_store(pages: Path, precision: str) -> Optional[float]:
    """The local batch from one bucket folder to another of a local S3 server; None without moto (the test
    extra)."""
    import socket
    import subprocess

    try:
        import moto.server  # noqa: F401
        import s3fs
    except ImportError:
        return None
    from engine.cleaning.staged import plan_staged, run_staged

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "scale",
                       "AWS_SECRET_ACCESS_KEY": "scale", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        for _ in range(100):
            try:
                fs.mkdir("scale")
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.1)
        fs.put(str(pages) + "/", "scale/pages/", recursive=True)
        denoiser, options = Denoiser.from_file("general", precision=precision), BatchOptions()
        started = time.perf_counter()
        plan = plan_staged(["s3://scale/pages"], "s3://scale/clean", options)
        results = list(run_staged(plan, denoiser, options))
        assert all(result.ok for result in results)
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()


def markdown(results: dict) -> str:
    count, cores = results["pages"], results["cores"]
    local = results["runs"]["local batch"]
    lines = ["# The batch on Ray (engine.distributed)", "",
             f"{count} A4 pages at 300 dpi, a PNG file each; model general, {results['precision']}; "
             f"Ray {results['ray']}. Machine: {results['machine']}.", "",
             f"Ray's start-up (a Ray on this computer, before any run): {results['startup']:.1f} s.", "",
             "| run | seconds | pages per second | against the local batch |", "| --- | ---: | ---: | ---: |"]
    for name, seconds in results["runs"].items():
        lines.append(f"| {name} | {seconds:.1f} | {count / seconds:.3f} | {local / seconds:.2f} |")
    one = local / results["runs"]["ray, 1 worker"]
    cpu_seconds = results["runs"]["local batch"] * cores / count
    hours = cpu_seconds * MILLION / 3600
    wall = hours / (CLUSTER_NODES * CLUSTER_VCPUS)
    lines += ["", f"One worker: {one:.2f} of the local batch's pages per second (target >= {TARGET}).", "",
              "## A million A4 pages, on paper", "",
              f"- CPU time per page here: {cpu_seconds:.2f} vCPU-seconds (the local batch's wall time times "
              f"{cores} cores, per page).",
              f"- A million pages: {hours:,.0f} vCPU-hours; at ${PRICE_PER_VCPU_HOUR:.2f} per vCPU-hour (an "
              f"on-demand general-purpose cloud vCPU, assumed), ${hours * PRICE_PER_VCPU_HOUR:,.0f}.",
              f"- On {CLUSTER_NODES} nodes of {CLUSTER_VCPUS} vCPUs ({CLUSTER_NODES * CLUSTER_VCPUS // 2} workers of two "
              f"vCPUs, the efficient width measured here): {wall:.1f} hours of wall time, if reading and writing "
              "keep up.", "",
              f"Whole run: {results['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    standard_arguments(parser, "four small pages")
    parser.add_argument("--pages", type=int, default=16, help="A4 pages to clean (default 16)")
    args = parser.parse_args(argv)
    out, started = results_folder(args.out, args.smoke), time.perf_counter()
    cores = os.cpu_count() or 1
    held_out = [pair.noisy for pair in split_by_document(find_pairs(args.data / "noisyoffice").pairs, 0.2, seed=0)[1]]
    precision = "auto" if args.precision == "native" else args.precision
    with tempfile.TemporaryDirectory(prefix="docclean-scale-") as scratch:
        pages = Path(scratch) / "pages"
        pages.mkdir()
        count = 4 if args.smoke else args.pages
        make_a4_pages(held_out, pages, count=count, size=SMOKE_PAGE if args.smoke else A4_AT_300_DPI)
        runs = {"local batch": timed_local(pages, Path(scratch) / "local", precision)}
        stored = timed_store(pages, precision)
        if stored is not None:
            runs["local batch, S3 to S3"] = stored
        begun = time.perf_counter()
        with connected(ClusterOptions()) as ray:
            startup = time.perf_counter() - begun
            runs["ray, 1 worker"] = timed_ray(pages, Path(scratch) / "ray1", precision, 1, cores)
            runs[f"ray, {cores} workers"] = timed_ray(pages, Path(scratch) / "ray2", precision, cores, 1)
            version = ray.__version__
        print(runs, flush=True)
    results = {"pages": count, "cores": cores, "precision": args.precision, "ray": version, "startup": startup,
               "machine": f"{platform.processor() or platform.machine()}, {cores} cores", "runs": runs,
               "seconds": time.perf_counter() - started}
    save_results("scale", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
