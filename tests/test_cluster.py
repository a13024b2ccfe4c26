"""The batch on Ray (``--engine ray``): a local Ray with 2 CPUs, shared by the module's tests.

Outputs equal a local run's, byte for byte and provenance; a bad file fails alone; a worker killed
mid-run is replaced and its file cleaned; a killed driver's job is finished by running it again.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main
from engine.cleaning.batch import iter_denoise, plan_batch
from engine.cleaning.denoiser import Denoiser
from engine.distributed.cluster import ClusterOptions, address_warning
from engine.distributed.ray_batch import ModelChoice, run_on_cluster
from engine.io import read_output_provenances
from engine.options import BatchOptions
from tests.unimportable import without

PROJECT = Path(__file__).resolve().parents[1]
FAST = ModelChoice("fast")


@pytest.fixture(scope="module")
def cluster(s3_server: str):
    from engine.distributed import cluster as embedded

    # As DocClean starts its own Ray: token authentication on, with this process's token (Ray reads it once).
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": embedded._TOKEN})
    import ray

    # Every worker kills itself on a file named poison*: the file that always kills its worker.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"worker_process_setup_hook": "tests.cluster_faults.kill_on_poison",
                          "env_vars": {"PYTHONPATH": str(PROJECT)}})
    yield ClusterOptions(workers=2)
    ray.shutdown()


@pytest.fixture
def scans(tmp_path: Path, samples_dir: Path) -> Path:
    """Four real pages, one in a sub-folder, and a three-page TIFF."""
    from PIL import Image

    folder = tmp_path / "scans"
    (folder / "box 2").mkdir(parents=True)
    for name in ("noisyoffice-2.png", "noisyoffice-7.png", "noisyoffice-52.png"):
        shutil.copy(samples_dir / name, folder / name)
    shutil.copy(samples_dir / "noisyoffice-99.png", folder / "box 2" / "letter.png")
    first, *rest = (Image.open(samples_dir / name).convert("L") for name in ("noisyoffice-165.png",
                                                                             "noisyoffice-178.png"))
    first.save(folder / "two pages.tif", save_all=True, append_images=rest, dpi=(300, 300))
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
            and not path.name.startswith(".")}


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_outputs_equal_a_local_runs_byte_for_byte(fmt: str, cluster: ClusterOptions, scans: Path,
                                                  tmp_path: Path) -> None:
    options = BatchOptions(fmt=fmt)
    local = tmp_path / "local"
    list(iter_denoise([scans], local, Denoiser.from_file("fast"), options))
    out = tmp_path / "ray"
    results = list(run_on_cluster(plan_batch([scans], out), FAST, options, cluster))
    assert all(result.ok for result in results) and len(results) == 6
    assert _files(out) == _files(local)
    assert "box 2/letter_clean." + ("png" if fmt == "png" else "pdf") in _files(out)
    for name in _files(out):
        if name.endswith((".png", ".pdf")):
            assert read_output_provenances(out / name) == read_output_provenances(local / name)
    again = list(run_on_cluster(plan_batch([scans], out), FAST, options, cluster))
    assert all(result.skipped for result in again)  # what was written is done


def test_a_run_from_and_to_a_bucket_has_each_worker_move_its_own_file(cluster: ClusterOptions, scans: Path,
                                                                       bucket: str, tmp_path: Path) -> None:
    import s3fs

    from engine.cleaning.staged import plan_staged

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.put(str(scans) + "/", f"{bucket}/scans/", recursive=True)
    local = tmp_path / "local"
    list(iter_denoise([scans], local, Denoiser.from_file("fast"), BatchOptions()))
    options, out = BatchOptions(), f"s3://{bucket}/clean"
    results = list(run_on_cluster(plan_staged([f"s3://{bucket}/scans"], out, options), FAST, options, cluster))
    assert all(result.ok for result in results) and len(results) == 6
    assert {result.location for result in results} >= {f"{out}/box 2/letter_clean.png"}
    written = {key.removeprefix(f"{bucket}/clean/"): fs.cat_file(key) for key in fs.find(f"{bucket}/clean")}
    assert written == _files(local)


def test_a_bad_file_fails_alone_and_is_named(cluster: ClusterOptions, scans: Path, tmp_path: Path) -> None:
    (scans / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    whole = (scans / "noisyoffice-7.png").read_bytes()
    (scans / "truncated.png").write_bytes(whole[: len(whole) // 3])
    results = list(run_on_cluster(plan_batch([scans], tmp_path / "out"), FAST, BatchOptions(), cluster))
    failed = {result.ref.path.name: str(result.error) for result in results if not result.ok}
    assert set(failed) == {"corrupt.png", "truncated.png"}
    assert all(name in reason for name, reason in failed.items())
    assert sum(result.ok for result in results) == 6


@pytest.mark.slow  # a minute or more of workers stopped and started
def test_a_worker_killed_mid_run_is_replaced_and_every_file_cleaned_once(cluster: ClusterOptions, scans: Path,
                                                                         tmp_path: Path) -> None:
    from engine.progress import Progress

    for copy in range(6):  # enough work for the kill to land mid-run
        shutil.copy(scans / "noisyoffice-2.png", scans / f"copy {copy}.png")
    killed: list[int] = []

    def kill_a_worker(event: Progress) -> None:
        if not killed:
            pids = _worker_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

    out = tmp_path / "out"
    results = list(run_on_cluster(plan_batch([scans], out), FAST, BatchOptions(), cluster, progress=kill_a_worker))
    assert killed
    assert all(result.ok for result in results)
    assert sorted(result.ref.label for result in results) == sorted(
        ["noisyoffice-2.png", "noisyoffice-7.png", "noisyoffice-52.png", "letter.png", "two pages.tif [page 1/2]",
         "two pages.tif [page 2/2]", *(f"copy {copy}.png" for copy in range(6))])
    written = sorted(_files(out))  # visible files only: a killed worker may leave a hidden partial file
    assert len(written) == 12 and not any("clean-1" in name for name in written)  # each page once


@pytest.mark.slow  # a minute or more of workers stopped and started
def test_a_file_that_always_kills_its_worker_is_reported_alone(cluster: ClusterOptions, scans: Path,
                                                              tmp_path: Path) -> None:
    shutil.copy(scans / "noisyoffice-2.png", scans / "poison.png")
    results = list(run_on_cluster(plan_batch([scans], tmp_path / "out"), FAST, BatchOptions(), cluster))
    failed = [(result.ref.path.name, str(result.error)) for result in results if not result.ok]
    assert failed == [("poison.png", f"{scans / 'poison.png'}: the worker stopped 3 times on this file: likely out "
                                     "of memory (give each worker more with --cpus-per-worker, or clean it on its own)")]
    assert sum(result.ok for result in results) == 6  # every other page


def _worker_pids() -> list[int]:
    """The processes of Ray's DocClean workers on this computer (Ray names them ray::Cleaner)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::Cleaner"):
                pids.append(int(entry.name))
    return pids


@pytest.mark.slow  # a minute or more of workers stopped and started
def test_a_killed_driver_s_job_is_finished_by_running_it_again(scans: Path, tmp_path: Path) -> None:
    for copy in range(8):
        shutil.copy(scans / "noisyoffice-7.png", scans / f"copy {copy}.png")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cli.main", "-q", "denoise", str(scans), "-o", str(out), "--model", "fast",
               "--engine", "ray", "--workers", "2"]
    driver = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.rglob("*_clean.png")):
        time.sleep(0.1)
    driver.kill()
    driver.wait()
    assert subprocess.run(command, cwd=PROJECT, capture_output=True, timeout=300).returncode == 0
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()
                     and not path.name.startswith("."))
    assert len(written) == 14 and not any("clean-1" in name for name in written)  # each input once
    assert not [path for path in out.rglob(".*") if "partial" in path.name]


@pytest.mark.slow  # a Ray of its own, started and stopped
def test_an_unreadable_file_among_good_ones_fails_alone(scans: Path, tmp_path: Path) -> None:
    locked = scans / "locked.png"
    shutil.copy(scans / "noisyoffice-7.png", locked)
    locked.chmod(0)
    command = [sys.executable, "-m", "cli.main", "-q", "denoise", str(scans), "-o", str(tmp_path / "out"),
               "--model", "fast", "--engine", "ray", "--workers", "2"]
    if os.geteuid() == 0:  # root reads any file: without these capabilities (which Ray's workers inherit) it cannot
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test an unreadable file as root"
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert f"error: {locked}: " in run.stderr and "Traceback" not in run.stderr
    assert "6 page(s) cleaned, 1 failed" in run.stdout


def test_what_a_cluster_cannot_do_is_refused_before_any_work(scans: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["denoise", str(scans), "-o", str(out), "--engine", "ray", "--combine", "all.pdf"]) == 1
    assert "a cluster cleans each file on its own, so the pages cannot go into one combined PDF" in capsys.readouterr().err
    assert main(["denoise", str(scans), "-o", str(out), "--workers", "2"]) == 1
    assert "--workers is for a run on a cluster: add --engine ray" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_a_head_on_a_public_address_is_warned_of() -> None:
    assert address_warning("127.0.0.1:6379") is None and address_warning("10.1.2.3:6379") is None
    assert "public address" in (address_warning("8.8.8.8:6379") or "")


_EMBEDDED = """
import sys, time
from engine.distributed.cluster import ClusterOptions, connected
with connected(ClusterOptions()) as ray:
    print(ray.get_runtime_context().gcs_address, flush=True)
    time.sleep(120)
"""

_JOIN = """
import sys, ray
try:
    ray.init(address=sys.argv[1], log_to_driver=False)
except ConnectionError:
    sys.exit(3)
"""


def test_a_ray_started_here_answers_only_its_own_token(tmp_path: Path) -> None:
    embedded = subprocess.Popen([sys.executable, "-c", _EMBEDDED], cwd=PROJECT, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        address = embedded.stdout.readline().strip()
        assert address, "the embedded Ray did not start"
        stranger = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "a-guess"}
        joined = subprocess.run([sys.executable, "-c", _JOIN, address], env=stranger, capture_output=True,
                                timeout=120)
        assert joined.returncode == 3  # refused: another process's token is not this run's
    finally:
        embedded.kill()
        embedded.wait()


def test_cluster_check_says_what_the_cluster_has_and_that_a_run_would_work(cluster: ClusterOptions, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    assert main(["cluster", "check", "-o", str(tmp_path / "out"), "--model", "fast"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("1 node(s), 2 CPUs")
    assert "the model loads in" in said[1] and f"{tmp_path / 'out'} can be written" in said[1]
    assert said[-1] == "a run can start here"
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    assert main(["cluster", "check", "-o", str(blocked / "out"), "--model", "fast"]) == 1
    said = capsys.readouterr().out.splitlines()
    assert "the output folder cannot be written there" in said[1] and said[-1].startswith("a run would fail on")


_DRIVER_WITHOUT_TENSORFLOW = without(("tensorflow", "keras"), "from cli.main import main\nsys.exit(main(sys.argv[1:]))")


@pytest.mark.slow  # a minute or more of workers stopped and started
def test_a_users_model_is_exported_once_on_a_worker_and_shipped_to_every_worker(blank_model: Path, scans: Path,
                                                                                tmp_path: Path) -> None:
    cache = tmp_path / "exports"  # empty: the model was never exported
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "DOCCLEAN_EXPORT_CACHE": str(cache)}
    arguments = ["-q", "denoise", str(scans), "-o", "OUT", "--model", str(blank_model), "--geometry", "off"]
    on_ray = [*arguments, "--engine", "ray", "--workers", "2"]
    on_ray[on_ray.index("OUT")] = str(tmp_path / "ray")
    driver = subprocess.run([sys.executable, "-c", _DRIVER_WITHOUT_TENSORFLOW, *on_ray], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert driver.returncode == 0, driver.stderr  # the driver ran without TensorFlow
    assert len(list(cache.iterdir())) == 1  # one export, installed from what was shipped
    here = list(arguments)
    here[here.index("OUT")] = str(tmp_path / "local")
    assert subprocess.run([sys.executable, "-m", "cli.main", *here], env=env, cwd=PROJECT,
                          capture_output=True, timeout=600).returncode == 0
    assert _files(tmp_path / "ray") == _files(tmp_path / "local") and _files(tmp_path / "ray")


def test_the_pages_chosen_are_the_pages_cleaned(cluster: ClusterOptions, scans: Path, tmp_path: Path) -> None:
    from engine.io import list_pages

    second = list_pages(scans / "two pages.tif")[1]
    chosen = [second.key, list_pages(scans / "noisyoffice-7.png")[0].key]
    results = list(run_on_cluster(plan_batch([scans], tmp_path / "out", only=chosen), FAST, BatchOptions(), cluster))
    assert sorted(result.ref.label for result in results) == ["noisyoffice-7.png", "two pages.tif [page 2/2]"]
    assert sorted(_files(tmp_path / "out")) == ["noisyoffice-7_clean.png", "two pages_p2_clean.png"]


def test_cancel_stops_handing_out_files_and_leaves_nothing_half_written(cluster: ClusterOptions, scans: Path,
                                                                        tmp_path: Path) -> None:
    from engine.progress import CancelToken, Cancelled

    for copy in range(8):
        shutil.copy(scans / "noisyoffice-2.png", scans / f"copy {copy}.png")
    cancel, results = CancelToken(), []
    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        for result in run_on_cluster(plan_batch([scans], out), FAST, BatchOptions(), cluster, cancel=cancel):
            results.append(result)
            cancel.cancel()
    assert 1 <= len(results) < 14  # what finished is told; the rest was never started
    written = sorted(_files(out))
    assert len(written) == len(results)  # every file written is one the caller heard about, each whole
    assert not [path for path in out.rglob(".*") if "partial" in path.name]


@pytest.mark.slow  # two small models trained side by side
def test_a_two_trial_sweep_writes_its_table_and_its_best_model(cluster: ClusterOptions, shared_data: Path,
                                                               tmp_path: Path) -> None:
    import csv

    from engine.distributed.tuning import TuneOptions, run_sweep
    from engine.models.modelfile import read_info
    from engine.training.config import TrainConfig

    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[[source]]\nname = "noisyoffice"\nweight = 0.6\n\n[[source]]\nname = "synthetic"\n'
                      'weight = 0.4\n', encoding="utf-8")
    base = TrainConfig(data=str(recipe), arch="docunet", arch_options={"width": 4, "depth": 2}, epochs=2,
                       steps_per_epoch=3, crop=64, data_folder=str(shared_data))
    out = tmp_path / "sweep"
    sweep = run_sweep(base, TuneOptions(trials=2, seed=7), cluster, out)
    rows = list(csv.DictReader(open(out / "trials.csv", encoding="utf-8")))
    assert [row["trial"] for row in rows] == ["1", "2"] and (out / "trials.md").exists()
    assert {"learning_rate", "width", "crop", "weight:noisyoffice", "weight:synthetic"} <= set(rows[0])
    assert rows[0]["learning_rate"] != rows[1]["learning_rate"]  # each trial drew its own settings
    assert 0.3 <= float(rows[0]["weight:noisyoffice"]) <= 1.2  # half to twice the recipe's
    losses = [float(row["val_loss"]) for row in rows]
    assert sweep.best is not None and sweep.best.val_loss == pytest.approx(min(losses), abs=1e-5)
    best_row = next(row for row in rows if row["best"] == "yes")
    assert (out / "best.keras").read_bytes() == (out / "trials" / best_row["model"]).read_bytes()
    info = read_info(out / "best.keras")
    assert info.options["width"] == int(float(best_row["width"]))
    assert not [path for path in out.iterdir() if path.name.startswith(".")]  # Tune's own files removed


def test_a_sweep_s_bad_options_are_refused_before_ray_starts(shared_data: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sweep"
    assert main(["tune", "noisyoffice", "--trials", "0", "-o", str(out)]) == 1
    assert "a sweep needs at least one trial, not 0" in capsys.readouterr().err
    assert main(["tune", "no-such-source", "-o", str(out)]) == 1
    assert "no-such-source" in capsys.readouterr().err
    assert not out.exists()
    out.mkdir()
    (out / "best.keras").write_bytes(b"an earlier sweep's best model")
    assert main(["tune", "noisyoffice", "--data-folder", str(shared_data), "-o", str(out)]) == 1
    assert "holds an earlier sweep (best.keras), which would be replaced" in capsys.readouterr().err
    assert (out / "best.keras").read_bytes() == b"an earlier sweep's best model"
