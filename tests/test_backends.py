"""Inference backends: every shipped runtime equals the Keras reference on real pages; exports are cached right."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cleaning.backends import OpenVINOBackend
from engine.cleaning.denoiser import Denoiser
from engine.data import pairs
from engine.evaluation import metrics
from engine.io import read_page
from engine.models import export
from engine.models.bundled import BUNDLED_MODELS
from engine.files import file_sha256
from engine.models.modelfile import ModelFileError
from tests.unimportable import without

PROJECT = Path(__file__).resolve().parents[1]


def _real_pages(noisyoffice_dir: Path, dibco_dir: Path, realscans_dir: Path) -> list[tuple[str, np.ndarray]]:
    """Held-out NoisyOffice pages, DIBCO years the general model never saw, a book scan and a phone photo."""
    found = pairs.find_pairs(noisyoffice_dir)
    _, held_out = pairs.split_by_document(found.pairs, 0.2, seed=0)
    pages = [(p.noisy.name, read_page(p.noisy).pixels) for p in held_out[:2]]
    for name in ("DIBCO2016_H01.png", "DIBCO2017_H03.png", "DIBCO2018_H05.png"):
        pages.append((name, read_page(dibco_dir / "source" / name).pixels))
    for name in ("set0002-page-001.jpg", "set0005-01.jpg"):
        page = read_page(realscans_dir / name).pixels
        pages.append((name, page[:1400, :1400]))  # a corner: seconds, and still seams between tiles
    return pages


@pytest.fixture(scope="module")
def real_pages(noisyoffice_dir, dibco_dir, realscans_dir):
    return _real_pages(noisyoffice_dir, dibco_dir, realscans_dir)


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(BUNDLED_MODELS))
def test_openvino_equals_the_keras_reference_on_real_pages(model, real_pages):
    reference = Denoiser.from_file(model, backend="keras", precision="float32")
    fast = Denoiser.from_file(model, backend="openvino", precision="float32")
    assert fast.geometry == reference.geometry
    for name, page in real_pages:
        difference = np.abs(fast.denoise(page) - reference.denoise(page)).max()
        assert difference <= 1 / 255, f"{model} on {name}: differs by {difference * 255:.2f}/255"


@pytest.mark.slow
def test_openvino_keeps_the_held_out_rmse(noisyoffice_dir):
    found = pairs.find_pairs(noisyoffice_dir)
    _, held_out = pairs.split_by_document(found.pairs, 0.2, seed=0)
    scores = {}
    for backend in ("keras", "openvino"):
        denoiser = Denoiser.from_file("noisyoffice", backend=backend, precision="float32")
        se = pixels = 0.0
        for pair in held_out[:12]:
            noisy, clean = pairs.load_pair(pair)
            se += metrics.squared_error_sum(denoiser.denoise(noisy), clean)
            pixels += clean.size
        scores[backend] = (se / pixels) ** 0.5
    assert scores["openvino"] == pytest.approx(scores["keras"], abs=1e-5)


def test_auto_takes_the_fast_runtime():
    assert Denoiser.from_file().backend.name == "openvino"


@pytest.mark.parametrize("model", sorted(BUNDLED_MODELS))
def test_bundled_models_ship_their_export(model, tmp_path, monkeypatch):
    monkeypatch.setenv(export.CACHE_ENV, str(tmp_path / "cache"))
    path = BUNDLED_MODELS[model].path
    found, sha256 = export.find_export(path)
    assert found is not None, f"{path.name}: its shipped export is missing or stale (run scripts/export_bundled.py)"
    assert found.folder == export.bundled_export_folder(path) and found.sha256 == sha256
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_a_user_model_is_exported_once_and_again_when_it_changes(blank_model, tmp_path, monkeypatch):
    monkeypatch.setenv(export.CACHE_ENV, str(tmp_path / "cache"))
    model = tmp_path / "mine.keras"
    model.write_bytes(blank_model.read_bytes())
    first = Denoiser.from_file(model, backend="openvino")
    made = export.find_export(model)[0]
    assert made is not None and made.folder.parent == tmp_path / "cache"
    page = np.full((50, 70), 0.3, np.float32)
    assert np.allclose(first.denoise(page), 1.0, atol=1 / 255)  # the blank model whitens everything

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the model did not change")

    monkeypatch.setattr("engine.models.export.export_openvino", no_export)
    Denoiser.from_file(model, backend="openvino")
    monkeypatch.undo()
    monkeypatch.setenv(export.CACHE_ENV, str(tmp_path / "cache"))

    from engine.models.keras_files import load_model, save_model

    loaded = load_model(model)
    for layer in loaded.model.layers:  # the gain and offset heads: out = 0.25 * page + 0.25
        weights = layer.get_weights()
        if len(weights) == 2 and weights[0].shape[-1] == 1:
            layer.set_weights([weights[0], np.full_like(weights[1], 0.25)])
    save_model(loaded.model, model, loaded.info)
    changed = Denoiser.from_file(model, backend="openvino")
    assert export.find_export(model)[0].sha256 == file_sha256(model) != made.sha256
    assert not np.allclose(changed.denoise(page), first.denoise(page), atol=1 / 255)


@pytest.mark.slow
def test_a_damaged_export_is_made_again(blank_model, tmp_path, monkeypatch):
    monkeypatch.setenv(export.CACHE_ENV, str(tmp_path / "cache"))
    Denoiser.from_file(blank_model, backend="openvino")
    made = export.find_export(blank_model)[0]
    (made.folder / export.BIN).unlink()
    assert export.find_export(blank_model)[0] is None
    Denoiser.from_file(blank_model, backend="openvino")
    assert (made.folder / export.BIN).is_file()


def test_an_unreadable_export_fails_with_a_sentence(tmp_path):
    broken = tmp_path / "model.xml"
    broken.write_text("<net>not a model</net>")
    with pytest.raises(ModelFileError, match="model.xml: the exported model cannot be read"):
        OpenVINOBackend(broken)


_BLOCK_TENSORFLOW = without(("tensorflow", "keras", "PySide6", "ray", "dask", "fsspec"), """
from cli.main import main
code = main(sys.argv[1:])
assert not {'tensorflow', 'keras', 'ray', 'dask', 'fsspec'} & set(sys.modules)
sys.exit(code)
""")


@pytest.mark.slow
def test_cleaning_and_scoring_never_import_tensorflow_nor_a_cluster_s_libraries(samples_dir, noisyoffice_dir, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _BLOCK_TENSORFLOW, "-q", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(PROJECT)})

    cleaned = run("denoise", str(samples_dir), "-o", str(tmp_path / "out"))
    assert cleaned.returncode == 0, cleaned.stderr
    assert len(list((tmp_path / "out").glob("*_clean.png"))) == len(list(samples_dir.glob("*.png")))
    scored = run("evaluate", "--pairs", str(noisyoffice_dir), "--model", "noisyoffice", "--json")
    assert scored.returncode == 0, scored.stderr
    assert '"rmse"' in scored.stdout.splitlines()[-1]
    for command in (("models",), ("info", str(BUNDLED_MODELS["general"].path)), ("--help",)):
        done = run(*command)
        assert done.returncode == 0, (command, done.stderr)
