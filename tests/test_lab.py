"""The lab's sweep, denoise and notMNIST experiments, quick, on the real shared MNIST and notMNIST."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli.lab import add_lab_parser, run_lab
from engine.lab import experiment
from engine.lab.data import N_TRAIN, digit_split
from engine.progress import Cancelled, CancelToken, Progress


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_lab_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["lab", *argv])


def _assert_figures(result, out_dir: Path) -> None:
    assert result.figures
    for path in result.figures:
        assert path.parent == out_dir and path.suffix == ".png"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.width >= 200 and image.height >= 150, (path.name, image.size)
    saved = json.loads((out_dir / "numbers.json").read_text())
    assert saved["experiment"] == result.name and saved["numbers"] and "2,000" in saved["protocol"]
    assert sorted(saved["figures"]) == sorted(p.name for p in result.figures)


@pytest.fixture(scope="module")
def sweep(mnist_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    return experiment("sweep")(mnist_dir, out, quick=True), out


def test_digit_split_is_a_seeded_8000_2000_split(mnist_dir):
    x_train, y_train, x_eval, y_eval, protocol = digit_split("mnist", mnist_dir, seed=3)
    assert x_train.shape == (N_TRAIN, 28, 28) and x_eval.shape == (2_000, 28, 28)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() == 1
    assert len(y_train) == N_TRAIN and set(np.unique(y_eval)) == set(range(10))
    assert "8,000 of the 10,000 MNIST test images" in protocol
    again = digit_split("mnist", mnist_dir, seed=3)
    assert np.array_equal(again[2], x_eval)
    # Every experiment finds the set from the folder holding mnist/ and notmnist/ as well.
    assert np.array_equal(digit_split("mnist", mnist_dir.parent, seed=3)[2], x_eval)
    # No held-out digit is among the training ones.
    seen = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in seen for row in x_eval[:200])


@pytest.mark.slow
def test_sweep_error_falls_as_the_bottleneck_grows(sweep):
    result, out = sweep
    _assert_figures(result, out)
    assert {f.name for f in result.figures} == {"sweep_grid.png", "sweep_codes_h36.png", "sweep_mse.png"}
    mse = [result.numbers["mse"][str(h)] for h in (1, 2, 4, 8, 16, 32, 36)]
    assert all(0 < m < 0.3 for m in mse)
    assert mse == sorted(mse, reverse=True), mse
    assert result.numbers["compression"]["32"] == 24.5 and [r["h"] for r in result.table][-1] == 36


@pytest.mark.slow
def test_denoise_cli_prints_its_numbers_as_the_last_line(mnist_dir, tmp_path, capsys):
    out = tmp_path / "denoise"
    args = _parse(["denoise", "--data-folder", str(mnist_dir), "-o", str(out), "--quick", "--json",
                   "--factors", "0.3"])
    assert run_lab(args) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    scores = printed["numbers"]["mse"]
    assert set(scores) == {"0.3", "0.5", "0.7"}
    for factor in ("0.5", "0.7"):
        assert set(scores[factor]) == {"noisy", "dense", "conv"}
        assert scores[factor]["dense"] < scores[factor]["noisy"] and scores[factor]["conv"] < scores[factor]["noisy"]
    assert len(printed["figures"]) == 2 * 3 + 1
    assert all((out / name).is_file() for name in printed["figures"])


@pytest.mark.slow
def test_notmnist_reports_the_seed_beside_ours_and_each_figure_and_row_as_it_comes(notmnist_dir, tmp_path):
    events: list[Progress] = []
    result = experiment("notmnist")(notmnist_dir, tmp_path, quick=True, progress=events.append)
    _assert_figures(result, tmp_path)
    written = [e.message for e in events if e.stage == "figure"]
    assert written == [str(p) for p in result.figures]
    assert [e.values for e in events if e.stage == "row"] == result.table
    # The reconstruction figures are reported before the denoiser starts training, not at the end.
    second_task = next(i for i, e in enumerate(events) if e.stage == "task" and e.done == 1)
    assert any(e.stage == "figure" for e in events[:second_task])
    assert "notMNIST" in result.protocol
    recon, noisy = result.numbers["reconstruction"], result.numbers["denoising"]
    assert recon["seed_val_mse"] == 0.0029 and noisy["seed_val_mse"] == 0.0174
    assert 0 < recon["val_mse"] < 0.2 and 0 < noisy["mse_at_0.7"] < 0.3
    assert noisy["val_mse"] < noisy["noisy_mse"]["0.5"]
    assert [row["task"] for row in result.table] == ["reconstruction", "denoising"]


@pytest.mark.slow
@pytest.mark.parametrize("name, data", [("sweep", "mnist"), ("denoise", "mnist"), ("notmnist", "notmnist")])
def test_cancel_from_a_progress_report_stops_the_run(name, data, shared_data, tmp_path):
    token, seen = CancelToken(), []

    def progress(event: Progress) -> None:
        seen.append(event.stage)
        if event.stage == "batch":
            token.cancel()

    with pytest.raises(Cancelled):
        experiment(name)(shared_data / data, tmp_path, quick=True, progress=progress, cancel=token)
    assert seen.count("epoch") == 0 and not (tmp_path / "numbers.json").exists()


def test_cli_says_what_is_wrong_in_one_sentence(tmp_path, capsys):
    assert run_lab(_parse(["sweep", "--data-folder", str(tmp_path / "nowhere"), "-o", str(tmp_path)])) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nowhere" in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="--factors is for the denoise"):
        run_lab(_parse(["sweep", "-o", str(tmp_path), "--factors", "0.3"]))
    with pytest.raises(SystemExit):
        _parse(["denoise", "-o", str(tmp_path), "--factors", "lots"])


@pytest.mark.parametrize("name, module", [("anomaly", "sklearn"), ("cluster", "umap"), ("classify", "umap")])
def test_without_the_lab_extra_each_command_says_so_before_anything_runs(name, module, mnist_dir, tmp_path,
                                                                          monkeypatch, capsys):
    """A plain `pip install docclean` (or the standalone binaries): one sentence with the command, no traceback."""
    import sys

    from cli.main import main

    monkeypatch.setitem(sys.modules, module, None)
    assert main(["-q", "lab", name, "--data-folder", str(mnist_dir), "-o", str(tmp_path / "out"), "--quick"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the lab needs") and len(err.splitlines()) == 1
    assert "pip install 'docclean[lab]'" in err and {"sklearn": "scikit-learn", "umap": "umap-learn"}[module] in err
    assert not (tmp_path / "out").exists()


def test_the_experiments_that_need_no_extra_run_without_it(monkeypatch) -> None:
    """The bottleneck sweep, the denoisers and notMNIST need Keras and numpy alone (the binaries keep them)."""
    import sys

    from engine.lab import EXPERIMENTS, experiment, missing_extra

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "umap", None)
    assert {name for name in EXPERIMENTS if missing_extra(name) is None} == {"sweep", "denoise", "notmnist"}
    assert callable(experiment("sweep"))

