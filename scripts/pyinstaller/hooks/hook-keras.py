"""Keras 3: its layers and the TensorFlow backend are found by name at run time, so every
module is collected, except its tests and the JAX, PyTorch and NumPy backends (they import JAX)."""
from PyInstaller.utils.hooks import collect_submodules

_SKIPPED = ("keras.src.backend.jax", "keras.src.backend.torch", "keras.src.backend.numpy")


def _wanted(name: str) -> bool:
    parts = name.split(".")
    return ("tests" not in parts and not parts[-1].endswith("_test")
            and not name.startswith(_SKIPPED) and not parts[-1] == "testing")


hiddenimports = collect_submodules("keras", filter=_wanted)
warn_on_missing_hiddenimports = False
# AutoGraph converts the functions Keras traces when it exports a model (the serving
# signature of TFLayer, the export archive's endpoints) from their source: ship it beside
# the compiled modules, or every export warns that the source cannot be found.
module_collection_mode = {"keras.src.backend.tensorflow": "pyz+py", "keras.src.export": "pyz+py"}
