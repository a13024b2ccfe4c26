import json

import pytest

from engine import imageio
from engine.cli import main


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


def test_evaluate_json_has_the_promised_keys(noisyoffice_dir, capsys):
    assert main(["-q", "evaluate", "--pairs", str(noisyoffice_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"rmse", "psnr", "ssim", "pairs", "seconds_per_megapixel"}
    # The bundled model trained on the rest: only held-out documents are scored.
    assert result["pairs"] == 36
    assert 0 < result["rmse"] < 0.1 and result["ssim"] > 0.8


def test_models_lists_every_architecture_with_its_count(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "314,625" in out and "12,785" in out and "docunet" in out


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
