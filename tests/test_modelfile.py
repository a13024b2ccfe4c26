import zipfile

import keras
import numpy as np
import pytest

from engine.models import zoo
from engine.models.keras_files import load_model, save_model
from engine.models.modelfile import ModelFileError, ModelInfo, read_info


def test_model_saves_and_loads_with_its_metadata(tmp_path):
    model = zoo.build_model("dense", bottleneck=4)
    info = ModelInfo(architecture="dense", dataset="mnist", epochs=3,
                     metrics={"val_loss": 0.05}, history={"loss": [0.3, 0.2, 0.1]},
                     options={"bottleneck": 4})
    path = save_model(model, tmp_path / "m.keras", info)
    loaded = load_model(path)
    assert loaded.info.architecture == "dense"
    assert loaded.info.epochs == 3
    assert loaded.info.history["loss"] == [0.3, 0.2, 0.1]
    assert loaded.info.metrics["val_loss"] == 0.05
    assert loaded.info.parameters == model.count_params()
    assert loaded.info.created
    x = np.random.default_rng(1).random((2, 784), dtype=np.float32)
    np.testing.assert_allclose(loaded.model(x), model(x), atol=1e-6)
    assert not list(tmp_path.glob(".*partial*"))


def test_corrupt_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(ModelFileError, match="broken.keras.*corrupt"):
        load_model(path)


def test_truncated_model_file_gives_a_clear_error(tmp_path):
    good = save_model(zoo.build_model("noisyoffice_basic"), tmp_path / "good.keras",
                      ModelInfo(architecture="noisyoffice_basic"))
    cut = tmp_path / "cut.keras"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="cut.keras"):
        load_model(cut)


def test_foreign_keras_file_is_refused(tmp_path):
    path = tmp_path / "foreign.keras"
    zoo.build_model("noisyoffice_basic").save(path)
    with pytest.raises(ModelFileError, match="without DocClean metadata"):
        load_model(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="nothing.keras: no such model file"):
        read_info(tmp_path / "nothing.keras")


def test_loading_never_runs_code_from_the_file(tmp_path):
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    path = save_model(keras.Model(inputs, outputs), tmp_path / "lambda.keras",
                      ModelInfo(architecture="dense"))
    with pytest.raises(ModelFileError, match="lambda.keras: cannot load"):
        load_model(path)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path):
    path = save_model(zoo.build_model("noisyoffice_basic"), tmp_path / "m.keras",
                      ModelInfo(architecture="noisyoffice_basic"))
    before = path.read_bytes()
    with pytest.raises(ModelFileError):
        save_model(zoo.build_model("noisyoffice_basic"), tmp_path / "m.h5", ModelInfo(architecture="x"))
    assert path.read_bytes() == before
    with zipfile.ZipFile(path) as archive:
        assert "docclean.json" in archive.namelist()
