"""``docclean cluster check``: what a Ray cluster has, and whether a run on it would work, in sentences.

Each node is asked, by a task pinned to it, to load the model once and to write a probe file into
the output folder and remove it: the two things a run needs of every node.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from engine.distributed.cluster import ClusterOptions, address_warning, connected
from engine.distributed.ray_batch import ModelChoice
from engine.errors import DocCleanError
from engine.io.output_folder import check_output_folder, partial_path, write_reason


@dataclass(frozen=True)
class NodeReport:
    """What one node said: its address, CPUs and memory, and a problem in words for each need it fails."""

    address: str
    cpus: int
    memory_gib: float
    problems: tuple[str, ...]
    model_seconds: float


def _probe_node(model: ModelChoice, out_dir: Optional[Path]) -> tuple[tuple[str, ...], float]:
    """On a node: load the model, and write and remove a probe file in ``out_dir``; the problems, and the
    seconds the model took to load."""
    from engine.cleaning.denoiser import Denoiser

    problems, seconds = [], 0.0
    started = time.perf_counter()
    try:
        Denoiser.from_file(model.model, backend=model.backend, precision=model.precision, threads=1)
        seconds = time.perf_counter() - started
    except DocCleanError as error:
        problems.append(f"the model cannot be loaded there: {error}")
    if out_dir is not None:
        try:
            folder = check_output_folder(out_dir)
            probe = partial_path(folder / "docclean-probe")
            probe.write_bytes(socket.gethostname().encode())
            probe.unlink()
        except DocCleanError as error:
            problems.append(f"the output folder cannot be written there: {error.reason}")
        except OSError as error:
            problems.append(f"the output folder cannot be written there: {write_reason(error)}")
    return tuple(problems), seconds


def check_cluster(options: ClusterOptions, model: ModelChoice, out_dir: Optional[Path],
                  say: Any = None) -> list[NodeReport]:
    """Every alive node of the cluster ``options`` name (or of a Ray started here), probed."""
    with connected(options, say) as ray:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = ray.remote(_probe_node)
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        waiting = [probe.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"],
                                                                                                soft=False))
                   .remote(model, out_dir) for node in nodes]
        reports = []
        for node, (problems, seconds) in zip(nodes, ray.get(waiting)):
            resources = node.get("Resources", {})
            reports.append(NodeReport(node.get("NodeManagerAddress", "?"), int(resources.get("CPU", 0)),
                                      resources.get("memory", 0) / 2 ** 30, problems, seconds))
        return reports


def describe(reports: list[NodeReport], options: ClusterOptions, out_dir: Optional[Path]) -> list[str]:
    """The sentences ``docclean cluster check`` prints; the last says whether a run would work."""
    cpus = sum(report.cpus for report in reports)
    lines = [f"{len(reports)} node(s), {cpus} CPUs, {sum(r.memory_gib for r in reports):.1f} GiB of memory "
             f"for workers: up to {cpus} workers of one CPU each"]
    for report in reports:
        state = "; ".join(report.problems) or f"the model loads in {report.model_seconds:.1f} s" + (
            f", and {out_dir} can be written" if out_dir is not None else "")
        lines.append(f"node {report.address}: {report.cpus} CPUs, {report.memory_gib:.1f} GiB; {state}")
    address = options.chosen_address
    warning = address_warning(address) if address else None
    if warning:
        lines.append(f"warning: {warning}")
    failing = [report.address for report in reports if report.problems]
    lines.append("a run would fail on " + ", ".join(failing) if failing else "a run can start here")
    return lines
