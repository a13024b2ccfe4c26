"""engine.data.pairs: finding noisy/clean pairs, splitting by document, full-resolution crops."""
from __future__ import annotations

import io
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from engine.data import pairs as pairs_module
from engine.io import read_page
from engine.data.pairs import (
    CropSampler,
    Pair,
    PairingReport,
    document_id,
    download_noisyoffice,
    find_pairs,
    load_pair,
    noisyoffice_folder,
    split_by_document,
    split_three,
)


@pytest.fixture(scope="module")
def real(noisyoffice_dir: Path) -> PairingReport:
    return find_pairs(noisyoffice_dir)


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8), "L").save(path)
    return path


def texture(height: int, width: int, seed: int, low: int = 0, high: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, (height, width), dtype=np.uint8)


# ---------------------------------------------------------------- finding pairs


def test_real_noisyoffice_has_176_pairs_of_44_documents(real: PairingReport) -> None:
    assert len(real.pairs) == 176
    assert len(real.documents) == 44
    assert not (real.unmatched_noisy or real.unmatched_clean or real.size_mismatch)
    per_document = np.unique([p.document for p in real.pairs], return_counts=True)[1]
    assert set(per_document) == {4}  # four kinds of noise per clean page
    assert [p.name for p in real.pairs[:3]] == ["0", "1", "2"]
    assert real.summary().startswith("176 pairs of 44 documents")


def test_mismatched_names_and_sizes_are_reported_by_name(tmp_path: Path) -> None:
    save(tmp_path / "noisy" / "a.png", texture(20, 30, 0))
    save(tmp_path / "clean" / "a.png", texture(20, 30, 1))
    save(tmp_path / "noisy" / "b.png", texture(20, 30, 2))
    save(tmp_path / "clean" / "b.tif", texture(25, 30, 3))
    save(tmp_path / "noisy" / "orphan.png", texture(20, 30, 4))
    save(tmp_path / "clean" / "lonely.bmp", texture(20, 30, 5))
    (tmp_path / "clean" / "readme.txt").write_text("not an image")
    report = find_pairs(tmp_path)
    assert [p.name for p in report.pairs] == ["a"]
    assert report.unmatched_noisy == [tmp_path / "noisy" / "orphan.png"]
    assert report.unmatched_clean == [tmp_path / "clean" / "lonely.bmp"]
    [(noisy, clean, reason)] = report.size_mismatch
    assert (noisy.name, clean.name) == ("b.png", "b.tif") and "30x20" in reason and "30x25" in reason
    summary = report.summary()
    for name in ("orphan.png", "lonely.bmp", "b.png", "b.tif"):
        assert name in summary


def test_a_damaged_file_leaves_out_its_pair_and_no_other(tmp_path: Path) -> None:
    for name, seed in (("a.png", 0), ("b.png", 2)):
        save(tmp_path / "noisy" / name, texture(20, 30, seed))
        save(tmp_path / "clean" / name, texture(20, 30, seed + 1))
    damaged = tmp_path / "clean" / "b.png"
    damaged.write_bytes(damaged.read_bytes()[:40])
    report = find_pairs(tmp_path)
    assert [p.name for p in report.pairs] == ["a"] and not report.complete
    [(noisy, clean, error)] = report.unreadable
    assert (noisy.name, clean) == ("b.png", damaged) and error.startswith(f"{damaged}: ") and str(damaged) in report.summary()


def test_two_files_for_one_page_are_refused(tmp_path: Path) -> None:
    save(tmp_path / "noisy" / "a.png", texture(8, 8, 0))
    save(tmp_path / "clean" / "a.png", texture(8, 8, 0))
    save(tmp_path / "clean" / "a.tif", texture(8, 8, 0))
    with pytest.raises(ValueError, match="a.png and a.tif"):
        find_pairs(tmp_path)


def test_folder_without_a_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "noisy").mkdir()
    with pytest.raises(FileNotFoundError, match="no noisy/clean pairs found") as info:
        find_pairs(tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        find_pairs(tmp_path / "missing")


def test_document_id_follows_pixels_not_encoding(tmp_path: Path) -> None:
    pixels = texture(12, 10, 7)
    as_png = save(tmp_path / "x.png", pixels)
    as_bmp = tmp_path / "x.bmp"
    Image.fromarray(pixels, "L").convert("RGB").save(as_bmp)
    other = save(tmp_path / "y.png", texture(12, 10, 8))
    assert document_id(as_png) == document_id(as_bmp) != document_id(other)
    assert len(document_id(as_png)) == 40


def make_uci_layout(root: Path) -> Path:
    """A tiny copy of the UCI archive's layout: 2 documents, noisy names with 'Noise?' tokens."""
    simulated = root / "SimulatedNoisyOffice"
    noisy_dir = simulated / "simulated_noisy_images_grayscale"
    clean_dir = simulated / "clean_images_grayscale"
    save(clean_dir / "FontLrm_Clean_TE.png", texture(16, 24, 0))
    save(clean_dir / "Fontfre_clean_VA.png", texture(16, 24, 1))
    save(clean_dir / "Fonttsn_Clean_TR.png", texture(16, 24, 2))  # no noisy version
    for i, token in enumerate(["Noisec", "Noisef", "Noisep", "Noisew"]):
        save(noisy_dir / f"FontLrm_{token}_TE.png", texture(16, 24, 10 + i))
    save(noisy_dir / "FONTFRE_NOISEC_VA.png", texture(16, 24, 20))  # other case
    save(noisy_dir / "Fontxxx_Noisec_TE.png", texture(16, 24, 21))  # no clean version
    return simulated


def test_uci_layout_pairs_noise_tokens_with_clean(tmp_path: Path) -> None:
    make_uci_layout(tmp_path / "unpacked")
    report = find_pairs(tmp_path / "unpacked")
    names = {p.name: p.clean.name for p in report.pairs}
    assert names == {
        "FontLrm_Noisec_TE": "FontLrm_Clean_TE.png",
        "FontLrm_Noisef_TE": "FontLrm_Clean_TE.png",
        "FontLrm_Noisep_TE": "FontLrm_Clean_TE.png",
        "FontLrm_Noisew_TE": "FontLrm_Clean_TE.png",
        "FONTFRE_NOISEC_VA": "Fontfre_clean_VA.png",
    }
    assert len(report.documents) == 2
    assert [p.name for p in report.unmatched_noisy] == ["Fontxxx_Noisec_TE.png"]
    assert [p.name for p in report.unmatched_clean] == ["Fonttsn_Clean_TR.png"]


def test_uci_layout_accepts_clean_names_without_token(tmp_path: Path) -> None:
    simulated = tmp_path / "SimulatedNoisyOffice"
    save(simulated / "clean_images_grayscale" / "FontLrm_TE.png", texture(8, 8, 0))
    save(simulated / "simulated_noisy_images_grayscale" / "FontLrm_Noisec_TE.png", texture(8, 8, 1))
    assert [p.clean.name for p in find_pairs(simulated).pairs] == ["FontLrm_TE.png"]


# ---------------------------------------------------------------- getting NoisyOffice


@pytest.fixture
def archive_server(tmp_path: Path, monkeypatch):
    """Serve tmp_path/'mirror' on 127.0.0.1; yields (base url, mirror folder, request log)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(mirror)))
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", mirror, requests
    httpd.shutdown()
    httpd.server_close()


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.mark.parametrize("nested", [False, True])
def test_download_noisyoffice_unpacks_to_a_pairable_folder(tmp_path: Path, archive_server, nested: bool) -> None:
    url, mirror, requests = archive_server
    make_uci_layout(tmp_path / "src")
    data = zip_folder(tmp_path / "src", prefix="NoisyOffice/")
    if nested:  # the data wrapped in a second zip inside the archive
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as outer:
            outer.writestr("NoisyOffice.zip", data)
        data = buffer.getvalue()
    (mirror / "noisyoffice.zip").write_bytes(data)
    cache = tmp_path / "cache"
    folder = download_noisyoffice(cache_dir=cache, url=f"{url}/noisyoffice.zip")
    assert len(find_pairs(folder).pairs) == 5
    assert download_noisyoffice(cache_dir=cache, url=f"{url}/noisyoffice.zip") == folder
    assert requests == ["/noisyoffice.zip"]  # the second call used the cache


def test_noisyoffice_folder_choice(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DOCCLEAN_NOISYOFFICE", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setattr(pairs_module, "noisyoffice_cache_dir", lambda: cache)
    with pytest.raises(FileNotFoundError, match="DOCCLEAN_NOISYOFFICE.*docclean download noisyoffice"):
        noisyoffice_folder()
    (cache / "noisyoffice").mkdir(parents=True)  # downloaded once: found without being named
    assert noisyoffice_folder() == cache / "noisyoffice"
    assert noisyoffice_folder(tmp_path) == tmp_path
    monkeypatch.setenv("DOCCLEAN_NOISYOFFICE", str(tmp_path))
    assert noisyoffice_folder() == tmp_path
    with pytest.raises(FileNotFoundError, match="does not exist"):
        noisyoffice_folder(tmp_path / "nope")


# ---------------------------------------------------------------- splitting


def test_split_by_document_keeps_documents_on_one_side(real: PairingReport) -> None:
    train, test = split_by_document(real.pairs, 0.2, seed=0)
    train_docs, test_docs = {p.document for p in train}, {p.document for p in test}
    assert not train_docs & test_docs
    assert len(test_docs) == 9 and len(train_docs) == 35  # round(0.2 * 44)
    assert len(train) + len(test) == 176 and len(test) == 36
    again = split_by_document(list(real.pairs), 0.2, seed=0)
    assert again == (train, test)
    assert {p.document for p in split_by_document(real.pairs, 0.2, seed=1)[1]} != test_docs


def test_split_three_is_disjoint_and_shares_the_test_set(real: PairingReport) -> None:
    train, val, test = split_three(real.pairs, 0.1, 0.2, seed=0)
    sides = [{p.document for p in part} for part in (train, val, test)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    assert [len(s) for s in sides] == [31, 4, 9]
    assert test == split_by_document(real.pairs, 0.2, seed=0)[1]


def test_small_splits_keep_at_least_one_document_each_side() -> None:
    two = [Pair(f"p{i}", Path(f"n{i}"), Path(f"c{i}"), f"doc{i % 2}") for i in range(4)]
    train, test = split_by_document(two, 0.1)
    assert len({p.document for p in test}) == 1 and len({p.document for p in train}) == 1
    assert split_by_document(two, 0.0) == (two, [])
    with pytest.raises(ValueError, match="keep one for training"):
        split_three(two, 0.3, 0.3, 0)
    with pytest.raises(ValueError, match=r"test fraction must be in \[0, 1\)"):
        split_by_document(two, 1.0)


# ---------------------------------------------------------------- loading and cropping


def test_load_pair_is_full_resolution(real: PairingReport) -> None:
    heights = set()
    for pair in real.pairs[::20]:
        noisy, clean = load_pair(pair)
        assert noisy.dtype == clean.dtype == np.float32
        assert noisy.shape == clean.shape and noisy.shape[1] == 540
        heights.add(noisy.shape[0])
    assert heights == {420, 258}


def find_region(page: np.ndarray, crop: np.ndarray) -> list[tuple[int, int]]:
    """Every (top, left) where ``crop`` sits exactly in ``page``."""
    size = crop.shape[0]
    first_rows = sliding_window_view(page, size, axis=1)  # (H, W - size + 1, size)
    candidates = np.argwhere((first_rows == crop[0]).all(axis=-1))
    return [
        (int(top), int(left))
        for top, left in candidates
        if top + size <= page.shape[0] and np.array_equal(page[top : top + size, left : left + size], crop)
    ]


def test_crops_are_regions_of_the_full_resolution_pages(real: PairingReport) -> None:
    chosen = [real.pairs[0], real.pairs[1]]
    pages = [load_pair(p) for p in chosen]
    sampler = CropSampler(chosen, crop=256, seed=0, augment=False)
    noisy, clean = sampler.batch(6)
    assert noisy.shape == clean.shape == (6, 256, 256, 1)
    assert noisy.dtype == clean.dtype == np.float32
    for k in range(6):
        where = [(i, find_region(pages[i][0], noisy[k, ..., 0])) for i in range(2)]
        hits = [(i, spots) for i, spots in where if spots]
        assert hits, f"crop {k} is not a region of any page"
        i, spots = hits[0]
        top, left = spots[0]
        np.testing.assert_array_equal(clean[k, ..., 0], pages[i][1][top : top + 256, left : left + 256])


def test_same_seed_same_batches(real: PairingReport) -> None:
    a = CropSampler(real.pairs[:3], crop=64, seed=5).batch(4)
    b = CropSampler(real.pairs[:3], crop=64, seed=5).batch(4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_small_pages_are_padded_by_reflection(tmp_path: Path) -> None:
    save(tmp_path / "noisy" / "p.png", texture(20, 40, 0))
    save(tmp_path / "clean" / "p.png", texture(20, 40, 1))
    sampler = CropSampler(find_pairs(tmp_path).pairs, crop=32, seed=0, augment=False)
    noisy, clean = sampler.batch(3)
    assert noisy.shape == (3, 32, 32, 1)
    page = read_page(tmp_path / "noisy" / "p.png").pixels
    for crop in noisy[..., 0]:
        # The 20-high page is extended to 32 rows by mirroring; every crop lies in that page.
        assert find_region(np.pad(page, ((0, 12), (0, 0)), mode="reflect"), crop)


def test_augmentation_moves_both_sides_alike_and_changes_only_noisy_levels(tmp_path: Path) -> None:
    # Noisy and clean are the same page here: any difference is the augmentation's doing.
    pixels = texture(80, 80, 3, low=60, high=200)
    save(tmp_path / "noisy" / "p.png", pixels)
    save(tmp_path / "clean" / "p.png", pixels)
    sampler = CropSampler(find_pairs(tmp_path).pairs, crop=48, seed=1, augment=True)
    noisy, clean = sampler.batch(32)
    page = pixels.astype(np.float32) / 255
    turns = [np.rot90(page, k) for k in range(4)]
    views = turns + [t[:, ::-1] for t in turns]
    changed_levels = 0
    for k in range(32):
        n, c = noisy[k, ..., 0], clean[k, ..., 0]
        assert 0 <= n.min() and n.max() <= 1
        # The clean crop is an untouched region of some turned/flipped page...
        assert any(find_region(view, c) for view in views)
        # ...and the noisy one the same region under one brightness/contrast line.
        slope, offset = np.polyfit(c.ravel(), n.ravel(), 1)
        assert np.abs(n - (slope * c + offset)).max() < 1e-4
        assert 0.89 < slope < 1.11
        changed_levels += not np.array_equal(n, c)
    assert changed_levels == 32


def test_sampler_refuses_nothing_to_sample() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        CropSampler([])
