"""Record the geometry of the bundled models and ship their OpenVINO exports beside them.

Run after replacing a bundled model:  .venv/bin/python scripts/export_bundled.py
(needs TensorFlow and OpenVINO; cleaning with the result needs neither Keras nor TensorFlow).
"""
from __future__ import annotations

from engine.models.bundled import BUNDLED_MODELS
from engine.models.export import bundled_export_folder, export_openvino
from engine.models.keras_files import load_model
from engine.models.modelfile import read_info, write_info
from engine.models.receptive_field import geometry


def main() -> None:
    for bundled in BUNDLED_MODELS.values():
        info = read_info(bundled.path)
        measured = geometry(load_model(bundled.path).model).to_dict()
        if info.geometry != measured:  # rewrite the archive only when it changes
            info.geometry = measured
            write_info(bundled.path, info)
        export = export_openvino(bundled.path, bundled_export_folder(bundled.path))
        print(f"{bundled.name}: geometry {info.geometry}, exported to {export.folder}")


if __name__ == "__main__":
    main()
