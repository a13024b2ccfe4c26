import json
import re
import struct
import tracemalloc
import zipfile
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pytest

from engine.cleaning.backends import OpenVINOBackend
from engine.cleaning.denoiser import Denoiser
from engine.models import keras_files, zoo
from engine.models.bundled import BUNDLED_MODELS
from engine.models.export import export_openvino
from engine.models.keras_files import load_model, save_model
from engine.models.modelfile import MAX_UNPACKED_BYTES, ModelFileError, ModelInfo, read_info


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
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: " + _UNSAFE.format("a Lambda layer's code")


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path):
    path = save_model(zoo.build_model("noisyoffice_basic"), tmp_path / "m.keras",
                      ModelInfo(architecture="noisyoffice_basic"))
    before = path.read_bytes()
    with pytest.raises(ModelFileError):
        save_model(zoo.build_model("noisyoffice_basic"), tmp_path / "m.h5", ModelInfo(architecture="x"))
    assert path.read_bytes() == before
    with zipfile.ZipFile(path) as archive:
        assert "docclean.json" in archive.namelist()


# ---------------------------------------------------------------- untrusted archives: size limits

def _rewrite(source: Path, target: Path, change: dict, drop: tuple = ()) -> Path:
    """A copy of the archive ``source`` with members replaced (name -> bytes, or a function of the old bytes)
    and the members named in ``drop`` left out."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for member in old.infolist():
            if member.filename in drop:
                continue
            data = old.read(member)
            edit = change.get(member.filename)
            new.writestr(member, edit(data) if callable(edit) else data if edit is None else edit)
    return target


def _declare_size(path: Path, member: str, size: int) -> None:
    """Make the central directory claim ``member`` unpacks to ``size`` bytes (a lie costs nothing to write)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    return save_model(zoo.build_model("noisyoffice_basic"), tmp_path_factory.mktemp("small") / "good.keras",
                      ModelInfo(architecture="noisyoffice_basic"))


def _refused_cheaply(path: Path, message: str) -> None:
    """Every way in refuses ``path`` with ``message`` while holding under 1 MB."""
    tracemalloc.start()
    try:
        for load in (read_info, load_model, partial(Denoiser.from_file, backend="openvino"), export_openvino):
            with pytest.raises(ModelFileError) as info:
                load(path)
            assert str(info.value) == f"{path}: {message}", load
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_an_archive_declaring_gigabytes_is_refused_unread(small_model, tmp_path):
    path = _rewrite(small_model, tmp_path / "huge.keras", {})
    _declare_size(path, "model.weights.h5", 3_000_000_000)
    _refused_cheaply(path, "unpacks to 3.0 GB, over the 2 GiB limit for model files")
    assert MAX_UNPACKED_BYTES >= 100 * BUNDLED_MODELS["general"].path.stat().st_size


def test_a_zip_bomb_member_is_refused_unread(small_model, tmp_path):
    # 64 MB of zeros deflate to 64 kB (1000:1); Keras stores weights uncompressed (1:1).
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(small_model) as old, zipfile.ZipFile(path, "w") as new:
        for member in old.infolist():
            if member.filename == "model.weights.h5":
                new.writestr(member.filename, bytes(64 << 20), zipfile.ZIP_DEFLATED)
            else:
                new.writestr(member, old.read(member))
    _refused_cheaply(path, "model.weights.h5 unpacks 67.1 MB from 0.1 MB, more than the 200:1 a model "
                           "file may be compressed (a zip bomb?)")


def test_bundled_models_pass_the_size_checks():
    for model in BUNDLED_MODELS.values():
        assert read_info(model.path).architecture


# ---------------------------------------------------------------- refusals in one sentence

def _set_activation(value):
    def change(data: bytes) -> bytes:
        config = json.loads(data)
        next(layer for layer in config["config"]["layers"] if "activation" in layer["config"]) \
            ["config"]["activation"] = value
        return json.dumps(config).encode()
    return change


def _set_first_conv_class(value: str):
    def change(data: bytes) -> bytes:
        config = json.loads(data)
        next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")["class_name"] = value
        return json.dumps(config).encode()
    return change


_UNSAFE = "the model names a function DocClean does not allow ({}); it may be unsafe and was not loaded"
_DAMAGED = "the file is damaged (not a complete model archive)"


@pytest.mark.parametrize("change, reason", [
    ({"config.json": _set_activation("os.system")}, _UNSAFE.format("os.system")),
    ({"config.json": _set_activation({"module": "os", "class_name": "function", "config": "system",
                                       "registered_name": "system"})}, _UNSAFE.format("os.system")),
    ({"config.json": _set_activation({"module": "builtins", "class_name": "function", "config": "eval",
                                       "registered_name": "eval"})}, _UNSAFE.format("builtins.eval")),
    ({"config.json": _set_first_conv_class("FrobLayer")},
     "the model uses a layer type DocClean does not know (FrobLayer)"),
    ({"model.weights.h5": lambda data: data[: len(data) // 2]}, _DAMAGED),
    ({"config.json": lambda data: data[:100]}, _DAMAGED),
    ({"config.json": b"[" * 100_000}, _DAMAGED),
])
def test_a_refused_model_is_one_sentence_naming_the_file(small_model, tmp_path, change, reason):
    path = _rewrite(small_model, tmp_path / "refused.keras", change)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: {reason}"


def test_a_model_without_weights_is_damaged(small_model, tmp_path):
    path = _rewrite(small_model, tmp_path / "no-weights.keras", {}, drop=("model.weights.h5",))
    with pytest.raises(ModelFileError, match=f"^{path}: {re.escape(_DAMAGED)}$"):
        load_model(path)


# ---------------------------------------------------------------- weights that are not numbers

def _with_weight(source: Path, target: Path, value: float) -> Path:
    loaded = load_model(source)
    layer = next(layer for layer in loaded.model.layers if layer.get_weights())
    kernel, *rest = layer.get_weights()
    kernel.flat[0] = value
    layer.set_weights([kernel, *rest])
    return save_model(loaded.model, target, loaded.info)


_INVALID = "the model's weights contain invalid numbers ({}); it is damaged — retrain or choose another model"


@pytest.mark.parametrize("value, name", [(float("nan"), "NaN"), (float("inf"), "infinity")])
def test_a_model_with_invalid_weights_is_named_when_loaded(blank_model, tmp_path, value, name):
    path = _with_weight(blank_model, tmp_path / "diverged.keras", value)
    for backend in ("keras", "openvino"):  # openvino: the first export loads it with Keras
        with pytest.raises(ModelFileError) as info:
            Denoiser.from_file(path, backend=backend)
        assert str(info.value) == f"{path}: {_INVALID.format(name)}"


@pytest.mark.slow
def test_an_export_made_before_the_check_is_refused_by_name(blank_model, tmp_path, monkeypatch):
    path = _with_weight(blank_model, tmp_path / "diverged.keras", float("nan"))
    with monkeypatch.context() as unchecked:  # as an older DocClean exported it
        unchecked.setattr(keras_files, "_check_weights", lambda *args: None)
        made = export_openvino(path, tmp_path / "export")
    with pytest.raises(ModelFileError) as info:
        OpenVINOBackend(made.xml, model=path)
    assert str(info.value) == f"{path}: {_INVALID.format('NaN')}"


@pytest.mark.parametrize("backend", ["openvino", "keras"])
def test_a_colour_graph_behind_page_metadata_is_refused_by_name(tmp_path, backend, capfd):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(inputs))
    path = save_model(model, tmp_path / "colour.keras", ModelInfo(architecture="docunet", options={"width": 4}))
    with pytest.raises(ModelFileError, match=r"colour.keras: the model takes or gives 3, 1 channels, but a page "
                                             r"model cleans one grey channel"):
        Denoiser.from_file(path, backend=backend)
    assert "Traceback" not in capfd.readouterr().err


def test_a_model_of_an_unknown_architecture_is_named_as_such(small_model, tmp_path):
    from engine.models.modelfile import page_model_problem, write_info

    path = tmp_path / "future.keras"
    path.write_bytes(small_model.read_bytes())
    write_info(path, ModelInfo(architecture="transformer9000"))
    assert read_info(path).cleans_pages is False
    assert page_model_problem(path) == (f"{path}: the model is a transformer9000, an architecture this version of "
                                        "DocClean does not know (made by a newer one?)")
