"""Pictures are found and keep their tones; text pages have none."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.main import main
from engine.cleaning import pictures
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.data import synthetic
from engine.io import read_page

BOXES = Path(__file__).resolve().parents[1] / "benchmarks" / "picture_boxes.json"


def _photo_box(realscans_dir: Path, name: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    left, top, right, bottom = json.loads(BOXES.read_text())["boxes"][name][0]
    return read_page(realscans_dir / name).pixels, (top, bottom, left, right)


def _tones(pixels: np.ndarray) -> np.ndarray:
    """4x area-averaged: a half-tone dot counts as its tone."""
    return cv2.resize(pixels, (pixels.shape[1] // 4, pixels.shape[0] // 4), interpolation=cv2.INTER_AREA)


def test_numpy_network_matches_keras_layer_by_layer():
    import keras

    rng = np.random.default_rng(0)
    net = pictures.picture_net()
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Rescaling(2.0, offset=-1.0)])
    for i, (kernel, dilation) in enumerate(zip(net.kernels, net.dilations)):
        last = i == len(net.kernels) - 1
        model.add(keras.layers.Conv2D(kernel.shape[-1], kernel.shape[0], padding="same", dilation_rate=dilation,
                                      activation="sigmoid" if last else "relu"))
        if i < net.pooled:
            model.add(keras.layers.MaxPooling2D(2))
    for layer, kernel, bias in zip([l for l in model.layers if isinstance(l, keras.layers.Conv2D)],
                                   net.kernels, net.biases):
        layer.set_weights([kernel, bias])
    page = rng.random((213, 170)).astype(np.float32)
    assert np.abs(net(page) - np.asarray(model(page[None, ..., None]))[0, ..., 0]).max() < 1e-4


def test_a_photograph_on_a_book_page_is_found(realscans_dir):
    page, (top, bottom, left, right) = _photo_box(realscans_dir, "set0002-page-021.jpg")
    cells = pictures.picture_cells(page)
    inside = np.concatenate([pictures.picture_mask(cells, page.shape, top, bottom)[:, left:right]])
    assert inside.mean() > 0.8
    assert cells.mean() < 0.25  # and not the whole spread


@pytest.mark.parametrize("name", ["DIBCO2016_H03.png", "DIBCO2017_H07.png", "DIBCO2018_H02.png"])
def test_handwriting_and_print_never_trained_on_hold_no_picture(dibco_dir, name):
    assert not pictures.picture_cells(read_page(dibco_dir / "source" / name).pixels).any()


def test_a_stained_office_page_holds_no_picture(noisyoffice_dir):
    for name in ("161.png", "2.png"):  # coffee rings; crumpled paper
        assert not pictures.picture_cells(read_page(noisyoffice_dir / "noisy" / name).pixels).any()


def test_a_drawn_text_page_holds_no_picture():
    from PIL import Image

    canvas = Image.new("L", (1000, 1400), 255)
    rng = np.random.default_rng(3)
    for _ in range(3):
        synthetic.draw_text(canvas, rng, synthetic.font_files())
    page = np.asarray(canvas, dtype=np.float32) / 255
    assert (page < 0.8).mean() > 0.02 and not pictures.picture_cells(page).any()


@pytest.mark.parametrize("shape", [(1, 1), (8, 5000), (15, 15), (16, 16), (5000, 12)])
def test_specks_and_strips_hold_no_picture_and_clean(shape):
    page = np.full(shape, 0.8, np.float32)
    assert not pictures.picture_cells(page).any()
    cleaned = clean_page(Denoiser.from_file("fast"), page, "bw")
    assert cleaned.pixels.shape == shape


def test_keep_pictures_keeps_tones_and_whitens_the_paper_around():
    page = np.full((600, 800), 0.7, np.float32)  # grey paper
    ramp = np.linspace(0.1, 0.65, 300, dtype=np.float32)
    page[150:450, 250:550] = ramp[None, :]  # a picture: a tone ramp printed on it
    cells = np.zeros((600 // pictures.CELL + 1, 800 // pictures.CELL + 1), bool)
    cells[150 // 16:450 // 16, 250 // 16:550 // 16] = True
    cleaned = np.ones_like(page)  # what a model makes of it: all white
    pictures.keep_pictures(page, cleaned, cells)
    inner = cleaned[180:420, 280:520]
    expected = page[180:420, 280:520] / 0.7
    assert np.abs(inner - expected).max() < 0.03  # tones kept, paper level corrected (to 3 %)
    assert cleaned[:100].min() == 1.0  # the paper around stays white


@pytest.mark.slow
def test_a_half_tone_photo_keeps_its_tones_in_grey_and_black_and_white(realscans_dir):
    page, (top, bottom, left, right) = _photo_box(realscans_dir, "set0002-page-021.jpg")
    denoiser = Denoiser.from_file(precision="float32")
    before = _tones(page[top:bottom, left:right])
    for mode in ("grey", "bw"):
        after = _tones(clean_page(denoiser, page, mode).pixels[top:bottom, left:right])
        assert np.corrcoef(before.ravel(), after.ravel())[0, 1] > 0.9, mode
        assert np.mean((after > 0.15) & (after < 0.85)) > 0.5, mode
    washed = _tones(clean_page(denoiser, page, pictures=False).pixels[top:bottom, left:right])
    assert np.corrcoef(before.ravel(), washed.ravel())[0, 1] < 0.9  # what it was without


def test_no_pictures_is_recorded_so_a_rerun_cleans_again(samples_dir, tmp_path):
    from engine.io.provenance import read_provenance

    page = samples_dir / "noisyoffice-2.png"
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(page), "-o", str(out), "--model", "fast", "--no-pictures"]) == 0
    geometry = " rotate=auto deskew=on crop=page split=auto"  # the command line's default geometry
    assert [read_provenance(p).settings for p in out.iterdir()] == ["mode=grey keep_ink=on pictures=off" + geometry]
    assert main(["-q", "denoise", str(page), "-o", str(out), "--model", "fast"]) == 0
    # Cleaned again beside the first output, which is kept.
    assert sorted(read_provenance(p).settings for p in out.iterdir()) == [
        "mode=grey keep_ink=on pictures=off" + geometry, "mode=grey keep_ink=on pictures=on" + geometry]


def test_a_damaged_picture_finder_is_named_in_one_sentence(tmp_path, monkeypatch, samples_dir, capsys):
    damaged = tmp_path / "finder.npz"
    damaged.write_bytes(b"not a finder")
    monkeypatch.setenv(pictures.PICTURE_MODEL_ENV, str(damaged))
    assert main(["-q", "denoise", str(samples_dir / "noisyoffice-2.png"), "-o", str(tmp_path / "out"),
                 "--model", "fast"]) != 0
    err = capsys.readouterr().err
    assert f"{damaged}: the picture finder cannot be read: it is missing or damaged" in err
    assert "Traceback" not in err and "Error" not in err


def test_training_crops_label_the_squares_a_picture_covers():
    from engine.data.pictures import CELL, CROP, PictureSampler

    rng_pages = [np.full((300, 400), 0.9, np.float32)]
    crops, labels = PictureSampler(rng_pages, seed=5).batch(40)
    assert crops.shape == (40, CROP, CROP, 1) and labels.shape == (40, CROP // CELL, CROP // CELL, 1)
    with_picture = labels.reshape(40, -1).max(axis=1) > 0
    assert 0.2 < with_picture.mean() < 0.8  # about half the crops hold a picture
    # A labelled square is mostly picture: on this even paper, rarely the paper's own tone.
    plain = np.isclose(crops[..., 0], 0.9, atol=0.005)
    squares = plain[:, :labels.shape[1] * CELL, :labels.shape[2] * CELL].reshape(40, labels.shape[1], CELL, -1, CELL)
    paper_share = squares.mean(axis=(2, 4))
    assert paper_share[labels[..., 0] > 0].mean() < 0.2


def test_train_pictures_refuses_another_suffix(tmp_path, capsys):
    assert main(["train-pictures", "--data-folder", str(tmp_path), "-o", str(tmp_path / "p.keras")]) != 0
    assert "p.keras: the picture finder is saved as an .npz file" in capsys.readouterr().err


@pytest.mark.slow
def test_train_pictures_writes_a_finder_the_product_runs(shared_data, tmp_path, monkeypatch):
    out = tmp_path / "finder.npz"
    assert main(["-q", "train-pictures", "--data-folder", str(shared_data), "--samples", "64", "--epochs", "1",
                 "-o", str(out)]) == 0
    monkeypatch.setenv(pictures.PICTURE_MODEL_ENV, str(out))
    net = pictures.picture_net()
    assert net.kernels[0].shape == (3, 3, 1, 16) and len(net.kernels) == 7
    assert pictures.picture_cells(np.full((500, 400), 0.9, np.float32)).shape == (31, 25)
