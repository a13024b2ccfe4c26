"""OpenVINO: the runtime, the CPU plugin and the two front ends DocClean uses.

Cleaning reads the IR exports (ir front end) and runs them on the CPU plugin, which
``ov.Core`` finds by name beside libopenvino.so; exporting a model trained by the user
converts its TensorFlow graph (tensorflow front end).  The GPU and NPU plugins, the GPU
kernel cache and the other front ends (ONNX, PaddlePaddle, PyTorch, JAX, TF Lite, GGUF) are
left out.
"""
import os

from PyInstaller.utils.hooks import collect_data_files, get_package_paths

_, _package = get_package_paths("openvino")
_libs = os.path.join(_package, "libs")
_WANTED = (
    "libopenvino.so", "libopenvino_c.so", "libopenvino_intel_cpu_plugin", "libopenvino_auto_plugin",
    "libopenvino_auto_batch_plugin", "libopenvino_hetero_plugin", "libopenvino_ir_frontend",
    "libopenvino_tensorflow_frontend", "libtbb", "libhwloc",
    # Windows and macOS names of the same
    "openvino.dll", "openvino_c.dll", "openvino_intel_cpu_plugin", "openvino_auto_plugin",
    "openvino_auto_batch_plugin", "openvino_hetero_plugin", "openvino_ir_frontend",
    "openvino_tensorflow_frontend", "tbb", "hwloc", "libopenvino.", "libopenvino_c.",
)
binaries = [(os.path.join(_libs, name), os.path.join("openvino", "libs"))
            for name in sorted(os.listdir(_libs)) if name.startswith(_WANTED)
            and not name.endswith((".pc", ".json", ".lib", ".cmake"))]
# Its Python package's data files; the libraries are above (libs/ holds every plugin and front end).
datas = collect_data_files("openvino", excludes=["**/*.pyi", "include/**", "cmake/**", "libs/**"])
hiddenimports = ["openvino.frontend.tensorflow"]
excludedimports = ["openvino.frontend.pytorch", "openvino.frontend.jax", "openvino.frontend.onnx",
                   "openvino.frontend.paddle", "openvino.torch", "torch", "jax", "paddle", "onnx"]
