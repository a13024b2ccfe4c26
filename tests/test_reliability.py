"""The reliability suite: every case of tests/reliability_corpus.py through the real command line.

For each case it checks what a user relies on: the exit code, an error that
names the file in words (no traceback, no Python names), inputs unchanged,
no half-written file anywhere, and every good page cleaned into a whole
file.  The table of cases is printed at the end of the test output (tests/conftest.py).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from PIL import Image

from cli.main import main
from reliability_corpus import CASES, PROJECT, Case, Run

pytestmark = pytest.mark.slow  # 48 cases through the real command line, many in a process of their own

# A Python name, a traceback or raw OS error text in what the user reads.
_PYTHON_TEXT = re.compile(r"Traceback|\b[A-Za-z]+(Error|Exception)\b|\[Errno|<class |NoneType")


@dataclass
class Outcome:
    code: Optional[int]
    output: str  # stdout and stderr together, as a terminal shows them


@dataclass
class Row:
    case: Case
    code: Optional[int]
    checks: dict[str, bool]

    @property
    def handled(self) -> bool:
        return all(self.checks.values())

    @property
    def lost(self) -> bool:
        return not (self.checks["inputs intact"] and self.checks["no partial file"] and self.checks["good pages"])


ROWS: list[Row] = []


def _in_process(run: Run) -> Outcome:
    captured = io.StringIO()
    with redirect_stdout(captured), redirect_stderr(captured):
        try:
            code: Optional[int] = main(["-q", *run.argv])
        except BaseException:  # noqa: BLE001 - anything escaping is what the user would see
            captured.write(traceback.format_exc())
            code = None
    return Outcome(code, captured.getvalue())


def _in_subprocess(run: Run, workdir: Path) -> Outcome:
    env = {**os.environ, "HOME": str(workdir), "PYTHONPATH": str(PROJECT)}
    command = [sys.executable, "-m", "cli.main", "-q", *run.argv]
    if run.drop_root_powers and os.geteuid() == 0:
        # Root ignores permissions: without these two capabilities it is held to them like anyone.
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test a read-only folder as root"
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]

    def limits() -> None:
        # Started as a shell starts it: no signal blocked or ignored. The test process's own state must not
        # leak in: a thread pool's fork handler (numba's TBB, from the lab's tests) can leave SIGINT blocked.
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if run.limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (run.limit_file_size, run.limit_file_size))

    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, preexec_fn=limits)
    if run.stop_after_first_output:
        deadline = time.monotonic() + 120
        while not list(run.out.glob("*_clean.png")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(getattr(signal, run.stop_after_first_output))
    output, _ = process.communicate(timeout=300)
    return Outcome(process.returncode, output)


def _hashes(folder: Path, leave_out: Optional[Path]) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*")
            if path.is_file() and not path.is_symlink() and (leave_out is None or leave_out not in path.parents)}


def _whole(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
    except Exception:  # noqa: BLE001 - any failure means the file is not whole
        return False
    return True


def _check(run: Run, outcome: Outcome, workdir: Path, before: dict[Path, str]) -> dict[str, bool]:
    outputs = sorted(run.out.glob("*_clean.*")) if run.out is not None and run.out.is_dir() else []
    after = _hashes(workdir, run.out)
    checks = {
        "exit code": outcome.code in run.exit_codes,
        "names the file": run.named is None or str(run.named) in outcome.output,
        "in words": not _PYTHON_TEXT.search(outcome.output),
        "inputs intact": all(after.get(path) == digest for path, digest in before.items()),
        "no partial file": not [p for p in workdir.rglob("*") if ".partial" in p.name],
        "good pages": all(_whole(p) for p in outputs)
        and (run.good_pages is None or len(outputs) == run.good_pages),
    }
    if run.stop_after_first_output:
        checks["good pages"] = checks["good pages"] and len(outputs) >= 1
    return checks


def table(rows: list[Row]) -> list[str]:
    """The suite's result as a Markdown table, with the counts under it."""
    names = list(rows[0].checks)
    lines = ["| case | kind | exit | " + " | ".join(names) + " | result |",
             "| --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- |"]
    for row in rows:
        marks = " | ".join("yes" if row.checks[name] else "**NO**" for name in names)
        result = "handled" if row.handled else ("LOST" if row.lost else "not handled")
        lines.append(f"| {row.case.name} | {row.case.kind} | {row.code} | {marks} | {result} |")
    handled = sum(row.handled for row in rows)
    lost = sum(row.lost for row in rows)
    lines.append(f"{len(rows)} cases tried, {handled} handled, {lost} lost or half-written")
    return lines


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, shared_data: Path) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="docclean-reliability-"))
    try:
        run = case.build(workdir)
        before = _hashes(workdir, run.out)
        subprocess_needed = run.drop_root_powers or run.limit_file_size or run.stop_after_first_output
        outcome = _in_subprocess(run, workdir) if subprocess_needed else _in_process(run)
        checks = _check(run, outcome, workdir, before)
        ROWS.append(Row(case, outcome.code, checks))
        failed = [name for name, ok in checks.items() if not ok]
        assert not failed, f"{case.name}: {', '.join(failed)} (exit {outcome.code})\n{outcome.output[-3000:]}"
    finally:
        for path in workdir.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(workdir, ignore_errors=True)
