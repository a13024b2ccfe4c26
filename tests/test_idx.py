"""engine.data.idx: the real MNIST/notMNIST files read right, damaged files refused by name."""
from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from engine.data.idx import MAX_DATA_BYTES, IdxFormatError, read_idx


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.mark.parametrize("dataset", ["mnist", "notmnist"])
def test_real_test_split(shared_data: Path, dataset: str) -> None:
    images = read_idx(shared_data / dataset / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(shared_data / dataset / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.flags.writeable


def test_mnist_first_label_is_seven(mnist_dir: Path) -> None:
    # The first MNIST test digit is a 7: a check that bytes are in the right order.
    assert read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")[0] == 7


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = tmp_path / "looks-compressed.gz"
    raw.write_bytes(idx_bytes(array))
    packed = tmp_path / "plain-name"
    packed.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(raw), array)
    np.testing.assert_array_equal(read_idx(packed), array)


@pytest.mark.parametrize(
    "code, dtype", [(0x09, np.int8), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")]
)
def test_other_value_types_come_back_native(tmp_path: Path, code: int, dtype) -> None:
    array = (np.arange(6).reshape(2, 3) - 3).astype(dtype)
    path = tmp_path / "values.idx"
    path.write_bytes(idx_bytes(array, code))
    result = read_idx(path)
    np.testing.assert_array_equal(result, array)
    assert result.dtype.isnative


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"ab", "bad magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"ab", "unknown data type"),
        (b"\x00\x00\x08\x00", "number of dimensions 0"),
        (b"\x00\x00\x08\x05" + struct.pack(">5I", 1, 1, 1, 1, 1) + b"a", "number of dimensions 5"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated dimension list"),
        (b"\x00\x00\x08\x02" + struct.pack(">2I", 3, 3) + b"12345678", "truncated data"),
        (b"\x00\x00\x08\x02" + struct.pack(">2I", 2, 2) + b"12345", "unexpected bytes after"),
        (b"\x00\x00", "truncated header"),
    ],
)
def test_damaged_files_are_refused_by_name(tmp_path: Path, data: bytes, reason: str) -> None:
    for path, content in ((tmp_path / "raw.idx", data), (tmp_path / "packed.gz", gzip.compress(data))):
        path.write_bytes(content)
        with pytest.raises(IdxFormatError, match=reason) as info:
            read_idx(path)
        assert str(path) in str(info.value)


def test_truncated_real_gzip_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    data = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IdxFormatError, match="cut.gz"):
        read_idx(path)
    assert issubclass(IdxFormatError, ValueError)


def _gzip_of_zeros(path: Path, head: bytes, zeros: int, tail: bytes = b"") -> None:
    """``head`` then ``zeros`` zero bytes, gzip-compressed in blocks (cheap), then raw ``tail``."""
    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # a gzip header: deflate, no name
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        out.write(deflate.compress(head))
        block = bytes(1 << 20)
        for start in range(0, zeros, len(block)):
            out.write(deflate.compress(block[: zeros - start]))
        out.write(deflate.flush(zlib.Z_FULL_FLUSH) + tail)


def test_a_huge_declared_shape_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    # 60,000 pages of 60,000 pixels: 3.6 GB declared, a few bytes of data behind it.
    path = tmp_path / "bomb.gz"
    _gzip_of_zeros(path, b"\x00\x00\x08\x02" + struct.pack(">2I", 60_000, 60_000), 1000)
    tracemalloc.start()
    try:
        with pytest.raises(IdxFormatError) as info:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == f"{path}: declares 3.6 GB of data, over the 1 GiB limit for IDX files"
    assert peak < 1 << 20


def test_the_limit_is_counted_in_bytes_not_values(tmp_path: Path) -> None:
    # 2^28 doubles are 2 GiB although 2^28 bytes would pass.
    path = tmp_path / "doubles.idx"
    path.write_bytes(b"\x00\x00\x0e\x01" + struct.pack(">I", 1 << 28))
    with pytest.raises(IdxFormatError, match="declares 2.1 GB of data, over the 1 GiB limit"):
        read_idx(path)
    assert MAX_DATA_BYTES >= 530_000 * 28 * 28  # notMNIST large fits


def test_a_bomb_after_the_declared_data_is_never_decompressed(tmp_path: Path) -> None:
    # 64 MB of zeros after a 4-byte image, then bytes that are not deflate data:
    # reading them (decompressing the whole bomb) would say "damaged", not "unexpected bytes".
    path = tmp_path / "trailing-bomb.gz"
    _gzip_of_zeros(path, b"\x00\x00\x08\x02" + struct.pack(">2I", 2, 2) + b"abcd", 64 << 20, b"\xff" * 64)
    tracemalloc.start()
    try:
        with pytest.raises(IdxFormatError, match="unexpected bytes after the 4 bytes of data"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
