"""What the training crops of page pairs hold: enough ink, faded ink, a teacher's targets."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data import pairs
from engine.data.sources import load_recipe
from engine.errors import ConfigurationError


@pytest.fixture(scope="module")
def dibco_pairs(shared_data):
    return [p for p in pairs.find_pairs(shared_data / "dibco").pairs if p.name.startswith("DIBCO2014_")][:3]


def test_crops_without_ink_are_drawn_again(dibco_pairs):
    plain = pairs.CropSampler(dibco_pairs, crop=64, seed=0)
    inked = pairs.CropSampler(dibco_pairs, crop=64, seed=0, min_ink=0.02)
    share = {name: np.mean([np.mean(s.sample()[1] < 0.5) >= 0.02 for _ in range(200)])
             for name, s in (("plain", plain), ("inked", inked))}
    assert share["plain"] < 0.8 < share["inked"]


def test_faded_crops_keep_their_paper_and_target_and_lose_contrast(dibco_pairs):
    def ink_contrast(sampler: pairs.CropSampler) -> list[float]:
        contrasts = []
        for _ in range(100):
            noisy, clean = sampler.sample()
            if (clean < 0.5).mean() > 0.02:
                contrasts.append(float(np.percentile(noisy, 90) - np.median(noisy[clean < 0.5])))
        return contrasts

    plain = ink_contrast(pairs.CropSampler(dibco_pairs, crop=96, seed=1, min_ink=0.02))
    faded = ink_contrast(pairs.CropSampler(dibco_pairs, crop=96, seed=1, min_ink=0.02, fade=0.9))
    assert np.median(faded) < 0.8 * np.median(plain)
    crop = np.full((8, 8), 0.9, np.float32)
    crop[2:4] = 0.1
    faded_crop = pairs._faded(crop, np.float32(0.25))
    assert np.allclose(faded_crop[2:4], 0.7) and np.allclose(faded_crop[4:], 0.9)  # ink at a quarter, paper kept


def test_a_teacher_writes_the_targets(dibco_pairs):
    taught = pairs.CropSampler(dibco_pairs, crop=64, seed=2, augment=False, teacher=lambda page: 1.0 - page)
    for _ in range(10):
        noisy, target = taught.sample()
        assert np.allclose(target, 1.0 - noisy, atol=1 / 255)


def test_a_recipe_names_its_teacher_and_shares(tmp_path, shared_data):
    recipe = tmp_path / "r.toml"
    recipe.write_text('[[source]]\nname = "dibco"\nteacher = "general"\nmin_ink = 0.02\nfade = 0.5\n')
    source, = load_recipe(recipe, shared_data)
    assert (source.teacher, source.min_ink, source.fade) == ("general", 0.02, 0.5)
    recipe.write_text('[[source]]\nname = "dibco"\nfade = 1.5\n')
    with pytest.raises(ConfigurationError, match="fade must be a share"):
        load_recipe(recipe, shared_data)
