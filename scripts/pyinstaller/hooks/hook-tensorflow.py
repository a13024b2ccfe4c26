"""TensorFlow for DocClean's `train` (replaces pyinstaller-hooks-contrib's hook, which takes everything).

Every TensorFlow module except its tests, and its data files except the C++ headers and
sources; no CUDA packages (tensorflow-cpu).  Keras is collected by hook-keras.py.
"""
from PyInstaller.utils.hooks import collect_data_files, collect_submodules


def _not_a_test(name: str) -> bool:
    parts = name.split(".")
    return "tests" not in parts and not parts[-1].endswith("_test")


hiddenimports = collect_submodules("tensorflow", filter=_not_a_test) + ["ml_dtypes"]
datas = collect_data_files("tensorflow", excludes=[
    "include", "xla_aot_runtime_src", "libtensorflow_framework.*", "libtensorflow_cc.*", "**/*.lib",
    "**/tests/**", "**/testdata/**",
])
# AutoGraph converts functions from their source: it needs its own templates as .py files.
module_collection_mode = {"tensorflow.python.autograph": "py+pyz"}
warn_on_missing_hiddenimports = False
# The two big libraries are linked by their real names, not through symlinks.
bindepend_symlink_suppression = ["**/libtensorflow_cc.so*", "**/libtensorflow_framework.so*",
                                 "**/_pywrap_tensorflow_internal.so"]
