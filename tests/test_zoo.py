import numpy as np
import pytest

from engine.errors import ConfigurationError
from engine.models import registry, zoo
from engine.models.receptive_field import geometry

# Parameter counts the write-ups report or imply (SEEDS.md).
SEED_COUNTS = {
    "notmnist_conv": 314_625,
    "noisyoffice_deep": 12_785,
}


@pytest.mark.parametrize("name, count", sorted(SEED_COUNTS.items()))
def test_seed_parameter_counts(name, count):
    assert zoo.parameter_count(name) == count


@pytest.mark.parametrize("name", sorted(registry.ARCHITECTURES))
def test_the_registry_knows_each_models_size_without_building_it(name):
    assert registry.get_architecture(name).parameters == zoo.parameter_count(name)


@pytest.mark.parametrize("bottleneck", [1, 2, 4, 8, 16, 32, 36])
def test_dense_autoencoder_takes_its_bottleneck(bottleneck):
    model = zoo.build_model("dense", bottleneck=bottleneck)
    assert model.get_layer("code").units == bottleneck
    # Dense(784 -> h) + Dense(h -> 784), each with biases.
    assert model.count_params() == 784 * bottleneck + bottleneck + bottleneck * 784 + 784


def test_digit_models_map_28x28_to_28x28():
    batch = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    for arch in registry.ARCHITECTURES.values():
        if arch.family != registry.DIGITS or arch.flat_input:
            continue
        out = zoo.build_model(arch.name)(batch)
        assert tuple(out.shape) == (2, 28, 28, 1), arch.name


def test_code_sizes_match_the_write_ups():
    def code_size(name):
        return int(np.prod(zoo.build_model(name).get_layer("code").output.shape[1:]))

    assert code_size("notmnist_conv") == 7 * 7 * 128
    assert code_size("cluster_conv") == 98
    assert code_size("feature_conv") == 128


@pytest.mark.parametrize("name", ["noisyoffice_basic", "noisyoffice_deep", "mnist_denoiser"])
def test_models_without_pooling_take_any_page_size(name):
    model = zoo.build_model(name)
    out = model(np.zeros((1, 37, 53, 1), np.float32))
    assert tuple(out.shape) == (1, 37, 53, 1)


def test_docunet_geometry_follows_its_layers():
    geo = geometry(zoo.build_model("docunet"))
    assert geo.size_multiple == 8
    # Three stride-2 levels with 3x3 convs see well beyond one letter.
    assert geo.receptive_field >= 64
    assert geo.margin >= geo.receptive_field // 2 and geo.margin % 8 == 0


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="unknown architecture .resnet.; known: .*docunet"):
        zoo.build_model("resnet")


def test_architectures_for_data():
    assert {a.name for a in registry.architectures_for("mnist")} >= {"dense", "notmnist_conv"}
    assert "docunet" in {a.name for a in registry.architectures_for("noisyoffice")}
    assert "dense" not in {a.name for a in registry.architectures_for("pairs")}


def test_space_to_depth_stem_keeps_pages_whole():
    model = zoo.build_model("docunet", width=8, stem=2)
    geo = geometry(model)
    assert geo.size_multiple == 16
    out = model(np.zeros((1, 64, 96, 1), np.float32))
    assert tuple(out.shape) == (1, 64, 96, 1)


def test_docunet_starts_as_the_identity():
    # Gain 1 and offset 0 at initialisation: an untrained model returns the page.
    page = np.random.default_rng(3).random((1, 32, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(zoo.build_model("docunet")(page), page, atol=1e-6)
