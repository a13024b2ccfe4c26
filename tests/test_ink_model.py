"""The ink model behind --mode bw: its loss, its head, how it is chosen, and what it does to real pages."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.models.bundled import bundled_model_path, model_for_mode


def test_black_and_white_from_the_general_model_is_the_ink_models_work():
    ink = bundled_model_path("ink")
    assert Path(model_for_mode(None, "bw")) == ink
    assert Path(model_for_mode("general", "bw")) == ink
    assert model_for_mode(None, "grey") is None  # grey keeps the default
    assert model_for_mode("noisyoffice", "bw") == "noisyoffice"  # a model the user chose is used as chosen
    assert model_for_mode("my.keras", "bw") == "my.keras"


def test_the_loss_rewards_finding_the_ink_and_nothing_else():
    from engine.training.losses import bce_dice

    paper = np.ones((2, 32, 32, 1), np.float32)
    paper[:, 10:12, 4:28] = 0.0  # a stroke: 3 % ink
    right = np.where(paper < 0.5, 0.005, 0.995).astype(np.float32)
    blank = np.full_like(paper, 0.98)  # all paper: nearly every pixel right, the stroke lost
    inked = np.where(paper < 0.5, 0.98, 0.02).astype(np.float32)  # ink and paper swapped
    loss = {name: float(bce_dice(paper, guess)) for name, guess in
            (("right", right), ("blank", blank), ("inked", inked))}
    assert loss["right"] < 0.1
    assert loss["blank"] > 0.9  # Dice: losing a thin stroke on white paper is losing everything
    assert loss["inked"] > loss["blank"]
    # Anti-aliased targets count as ink below one half, as the binary truth of other collections does.
    soft = np.where(paper < 0.5, 0.3, 0.9).astype(np.float32)
    assert float(bce_dice(soft, right)) == pytest.approx(loss["right"], abs=1e-6)


def test_an_ink_head_starts_from_the_general_models_body(tmp_path, shared_data):
    from engine.models.keras_files import load_model
    from engine.training.config import TrainConfig, resolved
    from engine.training.fit import train

    config = TrainConfig(data=str(shared_data / "dibco"), arch="docunet",
                         arch_options={"width": 8, "depth": 4, "head": 1}, loss="bce_dice", epochs=1,
                         steps_per_epoch=1, batch_size=2, crop=64, validation_crop=64,
                         learning_rate=1e-9, init_from="general")
    resolved(config)  # the head may differ from the model started from; the body may not
    with pytest.raises(ValueError, match="options are"):
        resolved(replace(config, arch_options={"width": 16, "depth": 4, "head": 1}))
    result = train(config, tmp_path / "ink.keras")
    general = load_model("general").model
    body = [layer for layer in general.layers if layer.get_weights()][:-2]  # all but the gain and offset heads
    mine = [layer for layer in result.model.layers if layer.get_weights()]
    for theirs, ours in zip(body, mine):
        assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(theirs.get_weights(), ours.get_weights()))
    assert mine[-1].name == "paper" and len(mine) == len(body) + 1
    page = np.random.default_rng(0).random((1, 96, 96, 1)).astype(np.float32)
    output = np.asarray(result.model(page))
    assert 0 < output.min() and output.max() < 1  # a probability, never exactly certain
    assert load_model(tmp_path / "ink.keras").info.options["head"] == 1


def test_the_command_line_cleans_black_and_white_with_the_ink_model(samples_dir, tmp_path):
    from PIL import Image

    from cli.main import main
    from engine.io.provenance import read_provenance

    assert main(["-q", "denoise", str(samples_dir / "noisyoffice-2.png"), "-o", str(tmp_path), "--mode", "bw"]) == 0
    written = tmp_path / "noisyoffice-2_clean.png"
    made = read_provenance(written)
    assert made is not None and made.model == "docclean-ink.keras" and "mode=bw" in made.settings
    with Image.open(written) as image:
        values = np.asarray(image.convert("L"))
    assert set(np.unique(values)) == {0, 255} and 0.01 < (values == 0).mean() < 0.3


def test_a_show_through_page_loses_its_show_through(dibco_dir, tmp_path, capsys):
    """DIBCO 2018 H01, never trained on: a letter with the back's writing showing through, which
    Sauvola's threshold keeps as ink.  Black and white by the ink model keeps far less of it."""
    import json
    import shutil

    from cli.main import main
    from engine.cleaning.binarize import sauvola
    from engine.evaluation.binary_metrics import f_measure
    from engine.io import read_page

    pairs = tmp_path / "pairs"
    for side in ("source", "target"):
        (pairs / side).mkdir(parents=True)
        shutil.copy(dibco_dir / side / "DIBCO2018_H01.png", pairs / side)
    capsys.readouterr()
    assert main(["evaluate", "--pairs", str(pairs), "--mode", "bw", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    page = read_page(dibco_dir / "source" / "DIBCO2018_H01.png").pixels
    truth = read_page(dibco_dir / "target" / "DIBCO2018_H01.png").pixels < 0.5
    assert scored["f_measure"] >= f_measure(sauvola(page), truth) + 5
