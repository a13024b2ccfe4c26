"""Shared fixtures: the real data beside the project, found or failed loudly."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DOCCLEAN_SHARED_DATA", PROJECT.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"test data missing: {path} (set DOCCLEAN_SHARED_DATA to the shared/data folder)"
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def noisyoffice_dir(shared_data: Path) -> Path:
    return _require(shared_data / "noisyoffice")


@pytest.fixture(scope="session")
def mnist_dir(shared_data: Path) -> Path:
    return _require(shared_data / "mnist")


@pytest.fixture(scope="session")
def notmnist_dir(shared_data: Path) -> Path:
    return _require(shared_data / "notmnist")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return _require(PROJECT / "resources" / "samples")


@pytest.fixture(scope="session")
def dibco_dir(shared_data: Path) -> Path:
    return _require(shared_data / "dibco")


@pytest.fixture(scope="session")
def realscans_dir(shared_data: Path) -> Path:
    return _require(shared_data / "realscans")
