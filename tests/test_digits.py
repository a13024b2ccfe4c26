"""engine.data.digits and engine.data.noise: Keras-style loaders, folder reports, checked downloads, noise."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from engine.data import digits
from engine.data.digits import (
    FILE_NAMES,
    DatasetDownloadError,
    DatasetSource,
    MissingTrainingSplitWarning,
    describe_folder,
    download_dataset,
    label_name,
    load_dataset,
    load_mnist,
    load_notmnist,
    load_test_split,
    to_unit,
)


class LocalServer:
    """A static file server on 127.0.0.1 that counts the files it sent."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path: Path, mnist_dir: Path, monkeypatch):
    """A local 'mirror' serving real MNIST test files and small stand-in training files."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "mirror"
    root.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_dir / name, root / name)
    images = np.zeros((3, 28, 28), np.uint8)
    (root / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 3, 28, 28) + images.tobytes())
    )
    (root / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([1, 2, 3]))
    )
    server = LocalServer(root)
    yield server, root
    server.close()


def md5_of(path: Path) -> str:
    return "md5:" + hashlib.md5(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- folders


@pytest.mark.parametrize("name", ["mnist", "notmnist"])
def test_real_test_split_loads_with_empty_train_and_a_warning(shared_data: Path, name: str) -> None:
    with pytest.warns(MissingTrainingSplitWarning) as caught:
        (x_train, y_train), (x_test, y_test) = load_dataset(name, shared_data / name)
    message = str(caught[0].message)
    assert "t10k-images-idx3-ubyte.gz" in message and "train-images-idx3-ubyte" in message
    assert x_train.shape == (0, 28, 28) and y_train.shape == (0,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.min() == 0 and y_test.max() == 9


def test_keras_style_shortcuts(mnist_dir: Path, notmnist_dir: Path) -> None:
    with pytest.warns(MissingTrainingSplitWarning):
        (_, _), (x_digits, _) = load_mnist(mnist_dir)
    with pytest.warns(MissingTrainingSplitWarning):
        (_, _), (x_letters, _) = load_notmnist(notmnist_dir)
    assert x_digits.shape == x_letters.shape == (10000, 28, 28)
    assert not np.array_equal(x_digits[:10], x_letters[:10])


def test_describe_folder_reports_found_and_missing(mnist_dir: Path, tmp_path: Path) -> None:
    report = describe_folder("mnist", mnist_dir)
    assert [p.name for p in report.found] == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert report.missing == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert report.has_test and not report.has_train
    empty = describe_folder("notmnist", tmp_path)
    assert empty.found == [] and empty.missing == list(FILE_NAMES)


def test_missing_test_files_raise_listing_found_and_missing(tmp_path: Path, mnist_dir: Path) -> None:
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("mnist", tmp_path)
    message = str(info.value)
    assert "found t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte" in message
    assert str(tmp_path) in message


def test_uncompressed_files_and_count_mismatch(tmp_path: Path, mnist_dir: Path) -> None:
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(
        gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    )
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + b"\x01\x02")
    with pytest.raises(ValueError, match="10000 images but .*2 labels"):
        load_test_split("mnist", tmp_path)


def test_non_28_by_28_images_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 1, 2, 2) + b"abcd")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 1) + b"\x01")
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: expected uint8 images of shape \(N, 28, 28\)"):
        load_test_split("mnist", tmp_path)


def test_unknown_dataset_name() -> None:
    with pytest.raises(ValueError, match="unknown data set 'fashion'"):
        load_dataset("fashion", ".")


# ---------------------------------------------------------------- downloads


def test_download_fills_cache_then_reuses_it(served, tmp_path: Path) -> None:
    server, root = served
    hashes = {f"{base}.gz": md5_of(root / f"{base}.gz") for base in FILE_NAMES}
    source = DatasetSource(base_url=server.url, hashes=hashes)
    cache = tmp_path / "cache"
    events = []
    folder = download_dataset("mnist", cache_dir=cache, source=source, progress=events.append)
    assert folder == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{b}.gz" for b in FILE_NAMES)
    assert len(server.requests) == 4
    assert events[-1].done == events[-1].total == 4

    download_dataset("mnist", cache_dir=cache, source=source)
    assert len(server.requests) == 4  # second call served from the cache

    (x_train, y_train), (x_test, _) = load_dataset("mnist", folder)
    assert x_train.shape == (3, 28, 28) and list(y_train) == [1, 2, 3]
    assert x_test.shape == (10000, 28, 28)


def test_download_with_wrong_checksum_fails_clearly(served, tmp_path: Path) -> None:
    server, root = served
    hashes = {f"{base}.gz": md5_of(root / f"{base}.gz") for base in FILE_NAMES}
    hashes["t10k-images-idx3-ubyte.gz"] = "md5:" + "0" * 32
    source = DatasetSource(base_url=server.url, hashes=hashes)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetDownloadError) as info:
        download_dataset("mnist", cache_dir=cache, source=source)
    message = str(info.value)
    assert f"{server.url}/t10k-images-idx3-ubyte.gz" in message and "checksum mismatch" in message
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()


def test_unknown_checksum_is_accepted(served, tmp_path: Path) -> None:
    server, _ = served
    source = DatasetSource(base_url=server.url, hashes={})
    folder = download_dataset("notmnist", cache_dir=tmp_path / "c", source=source)
    assert describe_folder("notmnist", folder).missing == []


def test_download_failure_names_the_url(served, tmp_path: Path) -> None:
    server, root = served
    (root / "train-labels-idx1-ubyte.gz").unlink()
    source = DatasetSource(base_url=server.url, hashes={})
    with pytest.raises(DatasetDownloadError, match="train-labels-idx1-ubyte.gz: download failed: the server has "
                                                   r"no such file \(HTTP 404\)"):
        download_dataset("mnist", cache_dir=tmp_path / "c", source=source)


def test_an_offline_download_says_so_without_the_http_clients_text(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: what a computer without network meets
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = DatasetSource(base_url=f"http://127.0.0.1:{port}", hashes={})
    with pytest.raises(DatasetDownloadError) as info:
        download_dataset("mnist", cache_dir=tmp_path / "c", source=source)
    message = str(info.value)
    assert "download failed: the server could not be reached (is this computer offline?)" in message
    assert not any(raw in message for raw in ("HTTPConnectionPool", "Max retries", "Errno", "urllib3", "object at"))


def test_canonical_sources_and_cache_location() -> None:
    assert digits.SOURCES["mnist"].hashes["t10k-images-idx3-ubyte.gz"] == "md5:9fb629c4189551a2d022fa330f9573f3"
    assert digits.SOURCES["notmnist"].hashes["train-images-idx3-ubyte.gz"] is None
    assert set(digits.SOURCES) == set(digits.DATASETS)
    assert digits.dataset_cache_dir("mnist").parts[-2:] == ("datasets", "mnist")


@pytest.mark.parametrize("name", ["mnist", "notmnist"])
def test_notmnist_canonical_checksums_match_shared_copies(shared_data: Path, name: str) -> None:
    for file_name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert digits.SOURCES[name].hashes[file_name] == md5_of(shared_data / name / file_name)


# ---------------------------------------------------------------- labels and scaling


def test_label_names() -> None:
    assert label_name("mnist", 3) == "3"
    assert label_name("notmnist", 3) == "D"
    assert [label_name("notmnist", i) for i in range(10)] == list(digits.NOTMNIST_LETTERS)
    with pytest.raises(ValueError):
        label_name("mnist", 10)


def test_to_unit_scaling() -> None:
    x = np.array([[0, 51, 102]], np.uint8)
    np.testing.assert_allclose(to_unit(x), [[0, 0.2, 0.4]])
    np.testing.assert_allclose(to_unit(x, "notmnist"), [[0, 0.5, 1.0]])
    assert to_unit(x).dtype == np.float32
    assert to_unit(np.zeros((2, 2), np.uint8), "notmnist").max() == 0
