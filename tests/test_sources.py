"""Training sources: comma lists with weights, TOML recipes, the DIBCO layout, mixing."""
import numpy as np
import pytest

from engine.data import pairs
from engine.data import sources
from engine.data import synthetic


def test_comma_list_with_weights(shared_data):
    chosen = sources.parse_data("noisyoffice,dibco:2,synthetic:0.5", shared_data)
    assert [(s.name, s.weight, s.synthetic) for s in chosen] == [
        ("noisyoffice", 1.0, False), ("dibco", 2.0, False), ("synthetic", 0.5, True)]
    assert chosen[1].folder == shared_data / "dibco"


@pytest.mark.parametrize("data, message", [
    ("dibco:0", "above 0"), ("dibco:x", "above 0"), ("nowhere", "no such folder"), ("noisyoffice,,x", "empty")])
def test_bad_sources_say_what_is_wrong(shared_data, data, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        sources.parse_data(data, shared_data)


@pytest.mark.parametrize("recipe_file", ["general.toml", "general-stage2.toml"])
def test_the_general_recipes_leave_out_the_reported_years(shared_data, recipe_file):
    recipe = sources.parse_data(f"resources/recipes/{recipe_file}", shared_data)
    by_name = {s.name: s for s in recipe}
    assert set(by_name) == {"noisyoffice", "dibco", "synthetic"}
    dibco = by_name["dibco"]
    every = pairs.find_pairs(dibco.folder).pairs
    kept = dibco.select(every)
    # Every page but the 38 of the reported years (10 + 18 + 10), whatever else the folder gains (Nabuco).
    assert len(kept) == len(every) - 38 and len(kept) >= 61
    assert not any(p.name.startswith(("DIBCO2016", "DIBCO2017", "DIBCO2018")) for p in kept)
    assert dibco.test_fraction == 0.0


def test_recipe_errors_name_the_file_and_the_problem(tmp_path, shared_data):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "dibco"\nweigth = 2\n')
    with pytest.raises(ValueError, match="bad.toml.*weigth"):
        sources.load_recipe(bad, shared_data)
    bad.write_text("[[source]\n")
    with pytest.raises(ValueError, match="not a valid TOML"):
        sources.load_recipe(bad, shared_data)
    bad.write_text('[[source]]\nname = "scans"\nfolder = "missing"\n')
    with pytest.raises(FileNotFoundError, match="missing"):
        sources.load_recipe(bad, shared_data)


def test_dibco_source_and_target_folders_pair_by_name(dibco_dir):
    found = pairs.find_pairs(dibco_dir)
    assert len(found.pairs) == 112 and not found.unmatched_noisy and not found.size_mismatch
    by_name = {p.name: p for p in found.pairs}
    noisy, clean = pairs.load_pair(by_name["DIBCO2016_H01"])
    assert set(np.unique(clean)) == {0.0, 1.0}  # binary ground truth
    assert noisy.shape == clean.shape


def test_mixed_sampler_draws_by_weight():
    class Constant:
        crop = 8

        def __init__(self, value):
            self.value = value

        def sample(self):
            page = np.full((8, 8), self.value, np.float32)
            return page, page

    mixed = sources.MixedSampler([Constant(0.0), Constant(1.0)], [1, 3], seed=0)
    noisy, _ = mixed.batch(2000)
    share = noisy[:, 0, 0, 0].mean()
    assert 0.72 < share < 0.78


def test_mixed_sampler_needs_one_crop_size():
    with pytest.raises(ValueError, match="one size"):
        sources.MixedSampler([synthetic.SyntheticSampler(32), synthetic.SyntheticSampler(64)], [1, 1])
