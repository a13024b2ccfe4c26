"""``docclean cluster check``: a Ray cluster's nodes, CPUs and memory, and whether a run on it would work."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.distributed.cluster import ClusterOptions
from engine.errors import ExitCode


def add_cluster_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("cluster", help="a Ray cluster: check what it has and that a run would work")
    actions = p.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="nodes, CPUs and memory; the model loaded and the output folder "
                                             "written on every node")
    check.add_argument("--address", metavar="HOST:PORT",
                       help="the cluster's head, or auto (default: RAY_ADDRESS, else a Ray started here)")
    check.add_argument("-o", "--output", help="the output folder a run would write into, probed from every node")
    check.add_argument("--model", help="the model a run would load (default: the general one)")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from engine.distributed.check import check_cluster, describe
    from engine.distributed.ray_batch import ModelChoice

    options = ClusterOptions(address=args.address).check()
    out_dir = Path(args.output) if args.output else None
    reports = check_cluster(options, ModelChoice(args.model), out_dir,
                            say=lambda sentence: print(sentence, file=sys.stderr))
    lines = describe(reports, options, out_dir)
    print("\n".join(lines))
    return ExitCode.OK if lines[-1] == "a run can start here" else ExitCode.FAILED
