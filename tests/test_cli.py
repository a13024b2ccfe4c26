import json
import shutil
from importlib import metadata

import numpy as np
import pytest

from engine.io import read_page, write_page
from cli.main import main


def test_denoise_command_cleans_the_samples(samples_dir, tmp_path, capsys):
    out = tmp_path / "cleaned"
    assert main(["-q", "denoise", str(samples_dir), "-o", str(out), "--format", "jpeg"]) == 0
    written = sorted(out.iterdir())
    assert len(written) == len(list(samples_dir.glob("*.png")))
    assert all(p.suffix == ".jpg" for p in written)
    assert str(out.resolve()) in capsys.readouterr().out


def test_denoise_reports_a_bad_file_and_goes_on(samples_dir, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code = main(["-q", "denoise", str(bad), str(samples_dir / "noisyoffice-2.png"), "-o", str(tmp_path / "o")])
    assert code == 2
    assert "bad.png" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["noisyoffice-2_clean.png"]


@pytest.mark.slow
def test_evaluate_json_has_the_promised_keys(noisyoffice_dir, capsys):
    assert main(["-q", "evaluate", "--pairs", str(noisyoffice_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"rmse", "psnr", "ssim", "pairs", "seconds_per_megapixel", "backend", "precision"}
    # The bundled model trained on the rest: only held-out documents are scored.
    assert result["pairs"] == 36
    assert 0 < result["rmse"] < 0.1 and result["ssim"] > 0.8


def test_models_lists_every_architecture_with_its_count(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "314,625" in out and "12,785" in out and "docunet" in out


def test_version_is_the_installed_package_s(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"docclean {metadata.version('docclean')}"


def test_train_then_info(mnist_dir, tmp_path, capsys):
    model = tmp_path / "digits.keras"
    assert main(["-q", "train", "--data", "mnist", "--data-folder", str(mnist_dir), "--arch", "dense",
                 "--bottleneck", "8", "--epochs", "1", "--max-samples", "500", "-o", str(model)]) == 0
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "dense" in out and "bottleneck" in out and "epochs:        1" in out


def test_clear_errors_for_a_missing_model(tmp_path, capsys):
    assert main(["denoise", str(tmp_path), "-o", str(tmp_path / "o"), "--model", str(tmp_path / "x.keras")]) == 1
    assert "x.keras: no such model file" in capsys.readouterr().err


def test_evaluate_scores_binary_ground_truth_with_the_dibco_metrics(dibco_dir, tmp_path, capsys):
    # Two unseen DIBCO 2018 pages, copied into a small folder of pairs.
    for sub in ("source", "target"):
        (tmp_path / sub).mkdir()
        for name in ("DIBCO2018_H08.png", "DIBCO2018_H03.png"):
            shutil.copy(dibco_dir / sub / name, tmp_path / sub / name)
    assert main(["-q", "evaluate", "--pairs", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"] == 2
    assert 50 < result["f_measure"] <= 100 and 50 < result["pseudo_f_measure"] <= 100
    assert result["binary_psnr"] > 10 and result["drd"] >= 0


def test_evaluate_ink_on_pages_without_ground_truth(realscans_dir, tmp_path, capsys):
    page = read_page(realscans_dir / "set0002-page-020.jpg", dtype=np.uint8).pixels[:900, :900]
    write_page(page, tmp_path / "crop.png")
    assert main(["-q", "evaluate", "--ink", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["pages"] == 1 and result["ink_recall"] >= 0.98
    assert result["paper_after"] > result["paper_before"]


def test_a_bundled_model_is_chosen_by_name(samples_dir, tmp_path):
    out = tmp_path / "o"
    assert main(["-q", "denoise", str(samples_dir / "noisyoffice-2.png"), "-o", str(out), "--model", "noisyoffice"]) == 0
    assert (out / "noisyoffice-2_clean.png").is_file()


def test_a_named_pipe_among_the_scans_fails_by_name_and_the_batch_goes_on(samples_dir, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(samples_dir / "noisyoffice-2.png", folder / "a.png")
    os.mkfifo(folder / "b.png")  # nothing ever writes to it: opening it would wait forever
    project = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "cli.main", "-q", "denoise", str(folder), "-o", str(tmp_path / "o"),
                           "--model", "fast"], cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"error: {folder / 'b.png'}: is a named pipe, not a file" in done.stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["a_clean.png"]


@pytest.mark.parametrize("kind", ["a named pipe", "a folder", "a device"])
def test_a_model_that_is_no_file_is_called_what_it_is(samples_dir, tmp_path, capsys, kind):
    import os

    model = {"a named pipe": tmp_path / "model.keras", "a folder": tmp_path, "a device": "/dev/null"}[kind]
    if kind == "a named pipe":
        os.mkfifo(model)
    code = main(["-q", "denoise", str(samples_dir / "noisyoffice-2.png"), "-o", str(tmp_path / "o"),
                 "--model", str(model)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"{model}: is {kind}, not a model file" in err and "no such model file" not in err


def test_an_input_without_pages_fails_in_words(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no scans here")
    assert main(["-q", "denoise", str(empty), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: no pages found in {empty}") and "Traceback" not in err


def test_denoise_in_float32_says_so_and_matches_the_default_where_that_is_float32(samples_dir, tmp_path, capsys):
    from engine.tf_runtime import cpu_has_fast_bfloat16

    page = samples_dir / "noisyoffice-2.png"
    assert main(["-q", "denoise", str(page), "-o", str(tmp_path / "f32"), "--model", "fast",
                 "--precision", "float32"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(", float32)")  # the precision that ran, e.g. "(openvino, float32)"
    assert main(["-q", "denoise", str(page), "-o", str(tmp_path / "auto"), "--model", "fast"]) == 0
    ran = "bfloat16" if cpu_has_fast_bfloat16() else "float32"
    assert capsys.readouterr().out.rstrip().endswith(f", {ran})")  # 'auto' is reported as what it chose
    f32, auto = (read_page(tmp_path / run / "noisyoffice-2_clean.png", dtype=np.uint8).pixels for run in ("f32", "auto"))
    assert f32.shape == auto.shape == (420, 540)
    if ran == "float32":  # the same computation
        np.testing.assert_array_equal(f32, auto)
    else:  # the option reached the model: bfloat16 rounds differently, by a few grey levels
        assert (f32 != auto).any() and np.abs(f32.astype(int) - auto).max() <= 8


def test_an_unknown_precision_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["denoise", str(tmp_path), "-o", str(tmp_path / "o"), "--precision", "float16"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --precision: invalid choice: 'float16'" in err and "'float32'" in err
    assert not (tmp_path / "o").exists()


def test_evaluate_in_float32_reports_its_precision(samples_dir, tmp_path, capsys):
    # A tiny set of pairs: two crops of a sample, each its own ground truth.
    for sub in ("noisy", "clean"):
        (tmp_path / sub).mkdir()
    for name in ("noisyoffice-2.png", "noisyoffice-52.png"):
        crop = read_page(samples_dir / name, dtype=np.uint8).pixels[:128, :160]
        write_page(crop, tmp_path / "noisy" / name)
        write_page(np.maximum(crop, 200).astype(np.uint8), tmp_path / "clean" / name)
    args = ["-q", "evaluate", "--pairs", str(tmp_path), "--model", "fast", "--precision", "float32"]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"] == 2 and result["precision"] == "float32" and result["backend"] in ("openvino", "keras")
    assert 0 <= result["rmse"] < 1
    assert main(args) == 0
    assert f"s per megapixel ({result['backend']}, float32)" in capsys.readouterr().out
