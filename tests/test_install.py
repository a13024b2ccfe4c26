"""A real (non-editable) install: the wheel carries the bundled models and cleans pages from any folder."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from engine.io import read_page

pytestmark = pytest.mark.slow  # builds, installs and runs a wheel

PROJECT = Path(__file__).resolve().parents[1]

_CLEAN = """
import sys
from cli.main import main
import engine
assert sys.argv[1] in engine.__file__, engine.__file__  # the installed copy, not the source tree
sys.exit(main(sys.argv[2:]))
"""


def test_the_wheel_cleans_the_samples_from_another_folder(samples_dir, tmp_path):
    # Built from a copy: setuptools' build/ folder in the tree could hold modules since removed.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "engine", "gui", "cli", "docclean", "resources"):
        copy = shutil.copytree if (PROJECT / name).is_dir() else shutil.copy2
        copy(PROJECT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                               if (PROJECT / name).is_dir() else {}))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            str(source), "-w", str(wheels)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    installed = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(installed),
                           *map(str, wheels.glob("docclean-*.whl"))], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (installed / "resources" / "models" / "docclean-general.openvino" / "model.xml").is_file()
    assert (installed / "docclean" / "ocrmypdf.py").is_file()  # the OCRmyPDF plugin travels with the wheel

    # A fresh interpreter that sees the installed copy and the dependencies, never the source tree.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "docclean.pth").write_text(f"{installed}\n{sysconfig.get_paths()['purelib']}\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    cleaned = subprocess.run([str(venv / "bin" / "python"), "-c", _CLEAN, str(installed), "-q",
                              "denoise", str(samples_dir), "-o", "out"],
                             cwd=work, capture_output=True, text=True, timeout=300)
    assert cleaned.returncode == 0, cleaned.stderr

    reference = tmp_path / "reference"
    from cli.main import main
    assert main(["-q", "denoise", str(samples_dir), "-o", str(reference)]) == 0
    outputs = sorted((work / "out").glob("*_clean.png"))
    assert len(outputs) == len(list(samples_dir.glob("*.png")))
    for output in outputs:
        assert np.array_equal(read_page(output).pixels, read_page(reference / output.name).pixels)
