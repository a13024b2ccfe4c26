"""Shared fixtures: the real data beside the project, found or failed loudly."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Models exported during the tests go to a scratch cache, not the user's.
os.environ.setdefault("DOCCLEAN_EXPORT_CACHE", tempfile.mkdtemp(prefix="docclean-test-exports-"))

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DOCCLEAN_SHARED_DATA", PROJECT.parent / "shared" / "data"))


def pytest_terminal_summary(terminalreporter) -> None:
    """The reliability suite's table of cases, after the results (tests/test_reliability.py)."""
    import sys

    suite = sys.modules.get("test_reliability")
    if suite is not None and suite.ROWS:
        terminalreporter.section("reliability cases")
        for line in suite.table(suite.ROWS):
            terminalreporter.write_line(line)


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
def tesseract() -> None:
    """Tesseract with its English data, which searchable PDFs need (.ci/run installs it)."""
    from engine.io.ocr import installed_languages

    if "eng" not in installed_languages():
        pytest.fail("Tesseract with its English data is not installed: .ci/run installs it "
                    "(apt-get install tesseract-ocr tesseract-ocr-eng)")


@pytest.fixture
def noisy_pages(tmp_path: Path, noisyoffice_dir: Path) -> Path:
    """A folder of two real noisy office pages: a coffee stain (page5.png) and a fold (page12.png)."""
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("5", "12"):
        Image.open(noisyoffice_dir / "noisy" / f"{name}.png").save(folder / f"page{name}.png")
    return folder


@pytest.fixture(scope="session")
def realscans_dir(shared_data: Path) -> Path:
    return _require(shared_data / "realscans")


@pytest.fixture(scope="session")
def faded_page():
    """Faded grey print on grey paper (ink 0.55, paper 0.78), 600 x 800, drawn from a fixed seed."""
    import numpy as np

    from engine.data import synthetic

    text = synthetic.render_page((600, 800), np.random.default_rng(4), synthetic.font_files())
    return (0.78 - (1.0 - text) * 0.23).astype(np.float32)


@pytest.fixture(scope="session")
def blank_model(tmp_path_factory) -> Path:
    """A real (small) docunet whose head writes white paper everywhere: gain 0, offset 1."""
    from engine.models import zoo
    from engine.models.keras_files import ModelInfo, save_model

    model = zoo.build_model("docunet", width=4, depth=2)
    for layer in model.layers[-5:]:
        weights = layer.get_weights()
        if len(weights) == 2 and weights[0].shape[-1] == 1:
            kernel, bias = weights  # the zero-initialised gain (bias 1) and offset (bias 0) heads
            layer.set_weights([kernel, 1.0 - bias])
    path = tmp_path_factory.mktemp("models") / "blank.keras"
    save_model(model, path, ModelInfo(architecture="docunet", options={"width": 4, "depth": 2}))
    return path


@pytest.fixture(scope="session")
def s3_server():
    """A local S3 server (moto's), found as a user points DocClean at MinIO: AWS_ENDPOINT_URL and credentials in
    the environment (set before any Ray starts, so a cluster's workers have them too)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "docclean",
                "AWS_SECRET_ACCESS_KEY": "docclean", "AWS_DEFAULT_REGION": "us-east-1"}
    before = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    yield settings["AWS_ENDPOINT_URL"]
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture
def bucket(s3_server: str, request) -> str:
    """A new, empty bucket on the local S3 server, named for the test."""
    import re
    import uuid

    import s3fs

    name = uuid.uuid4().hex[:6] + "-" + re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return name
