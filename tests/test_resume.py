"""Re-running a batch: what made each output is recorded in it, done pages are skipped, leftovers go."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.options import BatchOptions
from engine.cleaning.batch import iter_denoise, plan_batch
from engine.cleaning.denoiser import Denoiser
from engine.io import ImageWriteError, check_output_folder, remove_leftovers, write_page
from engine.io import output_folder
from engine.io.provenance import Provenance, read_provenance

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def denoiser() -> Denoiser:
    return Denoiser.from_file("fast")


@pytest.fixture
def scans(tmp_path: Path, samples_dir: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for source in sorted(samples_dir.glob("*.png"))[:3]:
        shutil.copy(source, folder)
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_every_output_format_records_what_made_it(tmp_path: Path, suffix: str) -> None:
    made = Provenance("general.keras", "ab" * 32, "scan.tif", "cd" * 32, 3, "mode=bw keep_ink=on")
    path = write_page(np.full((20, 30), 0.9, np.float32), tmp_path / f"page{suffix}", provenance=made)
    assert read_provenance(path) == made
    assert made.same_work(read_provenance(path))
    other_page = Provenance("general.keras", "ab" * 32, "scan.tif", "cd" * 32, 4, "mode=bw keep_ink=on")
    assert not other_page.same_work(read_provenance(path))


def test_files_without_a_record_have_no_provenance(tmp_path: Path, samples_dir: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert read_provenance(next(samples_dir.glob("*.png"))) is None
    assert read_provenance(broken) is None
    assert read_provenance(tmp_path / "missing.png") is None


def test_a_rerun_skips_pages_already_cleaned_the_same_way(scans: Path, tmp_path: Path, denoiser: Denoiser) -> None:
    out = tmp_path / "out"
    first = list(iter_denoise([scans], out, denoiser))
    before = _files(out)
    second = list(iter_denoise([scans], out, denoiser))
    assert [r.skipped for r in first] == [False] * 3 and [r.skipped for r in second] == [True] * 3
    assert [r.output for r in second] == [r.output for r in first]
    assert _files(out) == before  # nothing written, nothing added

    # Other settings, or a changed scan, make a different page: written beside the earlier one.
    bw = list(iter_denoise([scans], out, denoiser, BatchOptions(mode="bw")))
    assert not any(r.skipped for r in bw) and all(r.output.stem.endswith("_clean-1") for r in bw)
    assert list(iter_denoise([scans], out, denoiser, BatchOptions(mode="bw")))[0].skipped
    changed = first[0].ref.path
    Image.open(changed).rotate(180).save(changed)
    again = list(iter_denoise([scans], out, denoiser))
    assert [r.skipped for r in again] == [False, True, True]
    assert len(_files(out)) == 7 and set(before.items()) <= set(_files(out).items())


def test_overwrite_and_keep_both_clean_again(scans: Path, tmp_path: Path, denoiser: Denoiser) -> None:
    out = tmp_path / "out"
    list(iter_denoise([scans], out, denoiser))
    names = set(_files(out))
    replaced = list(iter_denoise([scans], out, denoiser, BatchOptions(existing="overwrite")))
    assert not any(r.skipped for r in replaced) and set(_files(out)) == names
    beside = list(iter_denoise([scans], out, denoiser, BatchOptions(existing="keep-both")))
    assert not any(r.skipped for r in beside) and len(_files(out)) == 6
    with pytest.raises(ValueError, match="re-run policy must be one of skip, overwrite, keep-both"):
        iter_denoise([scans], out, denoiser, BatchOptions(existing="replace"))


def test_writing_into_the_input_folder_never_cleans_its_own_outputs(scans: Path, denoiser: Denoiser) -> None:
    inputs = _files(scans)
    for _ in range(3):
        results = list(iter_denoise([scans], scans, denoiser))
        assert len(results) == 3
    files = _files(scans)
    assert len(files) == 6 and {name: files[name] for name in inputs} == inputs
    plan = plan_batch([scans], scans)
    assert len(plan.own_outputs) == 3 and "cleaned earlier" in plan.notes()[0]


def test_leftovers_of_a_killed_run_are_removed_and_a_running_write_is_not(tmp_path: Path) -> None:
    host = output_folder._HOST
    killed = tmp_path / f".page_clean.png.partial-{host}-{_dead_pid()}-0a1b2c3d"
    running = tmp_path / f".other_clean.png.partial-{host}-{os.getppid()}-0a1b2c3d"
    # An older DocClean's name (no computer in it): a leftover once an hour old.
    old_style = tmp_path / f".old_clean.png.partial-{_dead_pid()}-5e6f7a8b"
    recent_old_style = tmp_path / f".new_clean.png.partial-{_dead_pid()}-9c0d1e2f"
    for path in (killed, running, old_style, recent_old_style):
        path.write_bytes(b"\x89PNG\r\n\x1a\n half a page")
    two_hours_ago = time.time() - 7200
    os.utime(old_style, (two_hours_ago, two_hours_ago))
    # Another computer's (a shared folder): a leftover once an hour old, if it is the output it names, begun.
    foreign = tmp_path / ".book_clean.pdf.partial-otherpc-123-0a1b2c3d"
    foreign.write_bytes(b"%PDF-1.4\n half a document")
    os.utime(foreign, (two_hours_ago, two_hours_ago))
    assert sorted(remove_leftovers(tmp_path)) == sorted([killed, old_style, foreign])
    assert running.exists() and recent_old_style.exists()
    note = plan_batch([], tmp_path).notes()
    assert note == [] or "interrupted" in note[0]


def test_a_users_own_partial_files_are_never_removed(tmp_path: Path) -> None:
    # Hidden ".*.partial-*" files of the user's, an hour old or more: not DocClean's names, or not its content.
    names = [".notes.txt.partial-draft", ".thesis.partial-3", f".scan.png.partial-{_dead_pid()}-0a1b2c3d",
             ".photo.jpg.partial-otherpc-123-0a1b2c3d"]
    for name in names:
        (tmp_path / name).write_text("the user's own words")
        os.utime(tmp_path / name, (time.time() - 7200, time.time() - 7200))
    assert remove_leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_temporary_names_carry_the_computer_and_the_process(tmp_path: Path) -> None:
    name = output_folder.partial_path(tmp_path / "scan_clean.png").name
    assert name.startswith(".scan_clean.png.partial-") and f"-{output_folder._HOST}-{os.getpid()}-" in name


def test_a_long_file_name_is_written_and_the_batch_goes_on(tmp_path: Path, samples_dir: Path,
                                                           denoiser: Denoiser) -> None:
    # The names had 225 characters (with a 7-digit process id); 240 make it fail whatever the id:
    # the output's name fits in 255 bytes, a temporary name with the marker did not.
    folder = tmp_path / "scans"
    folder.mkdir()
    sources = sorted(samples_dir.glob("*.png"))[:1] * 6
    names = [f"{index}" + "x" * (236 - len(str(index))) + ".png" for index in range(len(sources))]
    for source, name in zip(sources, names):
        assert len(name) == 240
        shutil.copy(source, folder / name)
    results = list(iter_denoise([folder], tmp_path / "out", denoiser))
    assert [r.error for r in results] == [None] * 6
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        n[:-4] + "_clean.png" for n in names)
    # Too long even for the output: that page's error names the output file, and the batch goes on.
    (folder / ("y" * 250 + ".png")).write_bytes((folder / names[0]).read_bytes())
    results = list(iter_denoise([folder], tmp_path / "out2", denoiser))
    failed = [r for r in results if r.error is not None]
    assert len(results) == 7 and len(failed) == 1
    assert failed[0].error.path.name == "y" * 250 + "_clean.png" and ".partial" not in str(failed[0].error)
    assert "too long" in failed[0].error.reason


def test_the_output_folder_is_checked_before_any_work(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    with pytest.raises(ImageWriteError, match="is a file, not a folder"):
        check_output_folder(a_file)
    with pytest.raises(ImageWriteError, match="cannot write there"):
        check_output_folder(a_file / "below")
    assert check_output_folder(tmp_path / "new" / "deeper").is_dir()


def test_a_jpeg_too_wide_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="JPEG cannot hold a page over 65,500 pixels"):
        write_page(np.ones((2, 65_501), np.uint8), tmp_path / "wide.jpg")
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "-q", *args]


def _slow_batch(tmp_path: Path, realscans_dir: Path, copies: int = 6) -> Path:
    """Copies of a real book page: each takes long enough to stop a run between pages."""
    folder = tmp_path / "book"
    folder.mkdir()
    page = realscans_dir / "set0002-page-001.jpg"
    for index in range(copies):
        shutil.copy(page, folder / f"page{index}.jpg")
    return folder


def _wait_for_outputs(out: Path, count: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(list(out.glob("*_clean.png"))) < count:
        assert process.poll() is None, "the batch ended before it could be stopped"
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.05)


def _assert_whole(out: Path) -> None:
    assert not [p.name for p in out.iterdir() if ".partial-" in p.name]
    for path in out.glob("*.png"):
        with Image.open(path) as image:
            image.load()


@pytest.mark.slow  # a batch of book pages in a process of its own, killed, then finished
def test_a_killed_run_is_finished_by_the_next(tmp_path: Path, realscans_dir: Path) -> None:
    # (SIGTERM and Ctrl+C stop cleanly: see the reliability suite.  SIGKILL cannot be caught.)
    book, out = _slow_batch(tmp_path, realscans_dir), tmp_path / "out"
    process = subprocess.Popen(_cli("denoise", str(book), "-o", str(out), "--model", "fast"), cwd=PROJECT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_outputs(out, 1, process)
    process.kill()
    process.communicate(timeout=120)
    done = len(list(out.glob("*_clean.png")))
    assert done < 6
    finish = subprocess.run(_cli("denoise", str(book), "-o", str(out), "--model", "fast"), cwd=PROJECT,
                            capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stderr
    assert f"{6 - done} page(s) cleaned, {done} already clean" in finish.stdout
    _assert_whole(out)
    assert len(list(out.glob("*.png"))) == 6


def test_a_second_run_into_the_same_folder_is_refused_in_one_sentence(scans: Path, tmp_path: Path,
                                                                      denoiser: Denoiser) -> None:
    out = tmp_path / "out"
    first = iter_denoise([scans], out, denoiser)
    next(first)  # the first run is under way, holding the folder
    with pytest.raises(ImageWriteError, match=r"another DocClean run \(process \d+\) is writing into this folder"):
        list(iter_denoise([scans], out, denoiser))
    assert len(list(first)) == 2
    assert not (out / output_folder.LOCK_NAME).exists()  # released when the run ends
    assert len(list(out.glob("*_clean*.png"))) == 3  # no duplicates


def test_the_lock_of_a_run_that_died_is_taken_over(scans: Path, tmp_path: Path, denoiser: Denoiser) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lock = out / output_folder.LOCK_NAME
    lock.write_text(f'{{"pid": {_dead_pid()}, "host": "{output_folder._HOST}", "started": 0}}')
    assert [r.error for r in iter_denoise([scans], out, denoiser)] == [None] * 3
    assert not lock.exists()


def test_a_lock_from_before_the_computer_started_is_taken_over(scans: Path, tmp_path: Path,
                                                               denoiser: Denoiser) -> None:
    """After a restart, the process id in an old lock may belong to another program: the lock is still stale."""
    out = tmp_path / "out"
    out.mkdir()
    lock = out / output_folder.LOCK_NAME
    lock.write_text(f'{{"pid": {os.getpid()}, "host": "{output_folder._HOST}", "started": 0}}')
    os.utime(lock, (0, 0))  # written in 1970: before any boot
    assert [r.error for r in iter_denoise([scans], out, denoiser)] == [None] * 3
    assert not lock.exists()


def test_a_second_command_line_run_is_refused(scans: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # A run of this computer that is still going: this test's own process.
    (out / output_folder.LOCK_NAME).write_text(f'{{"pid": {os.getpid()}, "host": "{output_folder._HOST}"}}')
    done = subprocess.run(_cli("denoise", str(scans), "-o", str(out), "--model", "fast"), cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"error: {out}: another DocClean run (process {os.getpid()}) is writing into "
                                   "this folder; wait for it to finish, or choose another output folder")
    assert [p.name for p in out.iterdir()] == [output_folder.LOCK_NAME]
