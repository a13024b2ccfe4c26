"""Documents in and out: PDF and multi-page TIFF outputs, one PDF of a run, JPEG quality, naming, sub-folders."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from cli.main import main
from engine.options import BatchOptions
from engine.cleaning.batch import PageResult, iter_denoise, plan_batch
from engine.cleaning.denoiser import Denoiser
from engine.io import read_output_provenances, read_page, remove_leftovers
from engine.io.pdf import PDFIUM_LOCK
from engine.progress import CancelToken, Cancelled, Progress

PROJECT = Path(__file__).resolve().parents[1]
# Three real pages of two sizes (540 x 420 and 540 x 258), in the order they go into documents.
PAGES = ("noisyoffice-2.png", "noisyoffice-52.png", "noisyoffice-7.png")


@pytest.fixture(scope="module")
def denoiser() -> Denoiser:
    return Denoiser.from_file("fast")


def _images(samples_dir: Path, names: tuple[str, ...] = PAGES) -> list[Image.Image]:
    # Fresh images for every file: Pillow keeps encoder state on images it has appended to a file.
    return [Image.open(samples_dir / name).convert("L") for name in names]


def _three_page_pdf(path: Path, samples_dir: Path, dpi: float = 150) -> Path:
    first, *rest = _images(samples_dir)
    first.save(path, save_all=True, append_images=rest, resolution=dpi)
    return path


def _three_page_tiff(path: Path, samples_dir: Path, dpi: float = 300) -> Path:
    first, *rest = _images(samples_dir)
    first.save(path, save_all=True, append_images=rest, dpi=(dpi, dpi))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _png_pages(source: Path, out: Path, denoiser: Denoiser, mode: str) -> list[np.ndarray]:
    """The same pages cleaned into PNG files, the reference a document's pages must equal."""
    results = list(iter_denoise([source], out, denoiser, BatchOptions(fmt="png", mode=mode)))
    assert all(r.ok for r in results)
    return [read_page(r.output, dtype=np.uint8).pixels for r in results]


def _pdf_pages(path: Path) -> list[tuple[tuple[float, float], np.ndarray]]:
    """Each page's size in points and its image's own pixels, decoded without rendering."""
    pages = []
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(path)
        try:
            for page in document:
                image = next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
                pages.append((page.get_size(), image.get_bitmap(render=False).to_numpy().copy()))
                page.close()
        finally:
            document.close()
    return pages


# ---------------------------------------------------------------- PDF out


@pytest.mark.parametrize("mode", ["grey", "bw"])
@pytest.mark.parametrize("kind", ["pdf", "tif"])
def test_a_three_page_document_becomes_one_lossless_pdf(kind: str, mode: str, tmp_path: Path, samples_dir: Path,
                                                        denoiser: Denoiser) -> None:
    dpi = 150 if kind == "pdf" else 300
    make = _three_page_pdf if kind == "pdf" else _three_page_tiff
    source = make(tmp_path / f"three.{kind}", samples_dir, dpi)
    options = BatchOptions.build(fmt="pdf", mode=mode, pdf_images="lossless")
    results = list(iter_denoise([source], tmp_path / "out", denoiser, options))
    output = tmp_path / "out" / "three_clean.pdf"
    assert [(r.ok, r.output, r.output_page) for r in results] == [(True, output, i) for i in range(3)]
    assert _files(tmp_path / "out") == ["three_clean.pdf"]

    reference = _png_pages(source, tmp_path / "png", denoiser, mode)
    pages = _pdf_pages(output)
    assert len(pages) == 3
    for (size, embedded), png, index in zip(pages, reference, range(3)):
        height, width = png.shape
        assert size == pytest.approx((width / dpi * 72, height / dpi * 72), abs=1.0)
        assert np.array_equal(embedded, png)  # the page's pixels exactly, as the PNG has them
        rendered = read_page(output, index, dtype=np.uint8)  # rendered by PDFium at the page's resolution
        assert rendered.pixels.shape == png.shape and rendered.dpi == pytest.approx((dpi, dpi), abs=0.5)
        assert np.abs(rendered.pixels.astype(int) - png).max() <= 1
        if mode == "bw":
            assert set(np.unique(png)) <= {0, 255}
    # What made each page travels with the file.
    made = read_output_provenances(output)
    assert [p.page for p in made] == [1, 2, 3] and {p.source for p in made} == {source.name}
    recorded = "" if mode == "bw" else " pdf_images=lossless"  # a black-and-white page is lossless either way
    assert {p.settings for p in made} == {f"mode={mode} keep_ink=on pictures=on{recorded}"}


@pytest.fixture(scope="module")
def photograph(shared_data: Path) -> np.ndarray:
    """A half-tone photograph from a real book scan (800 x 600, grey): what JPEG codes smaller than Flate."""
    with Image.open(shared_data / "realscans" / "set0002-page-021.jpg") as scan:
        return np.asarray(scan.convert("L").crop((1800, 500, 2600, 1100)))


def test_a_grey_pdf_page_is_jpeg_where_that_is_smaller_and_exact_where_it_is_not(
        tmp_path: Path, samples_dir: Path, denoiser: Denoiser, photograph: np.ndarray) -> None:
    from engine.io import open_document

    # A clean page of text: Flate codes it smaller than JPEG would, and exactly.
    [cleaned] = _png_pages(samples_dir / PAGES[0], tmp_path / "png", denoiser, "grey")
    writer = open_document(tmp_path / "two.pdf", jpeg_quality=85)
    for page in (photograph, cleaned):
        writer.add_page(page, (300.0, 300.0))
    data = writer.finish().read_bytes()
    assert data.count(b"/DCTDecode") == 1 and data.count(b"/FlateDecode") == 1
    (_, photo_stored), (_, text_stored) = _pdf_pages(tmp_path / "two.pdf")
    assert np.sqrt(np.mean((photo_stored.astype(float) - photograph) ** 2)) < 4  # grey levels, 0-255
    assert np.array_equal(text_stored, cleaned)


def test_the_jpeg_quality_of_pdf_pages_is_the_users(tmp_path: Path, denoiser: Denoiser,
                                                     photograph: np.ndarray) -> None:
    source = tmp_path / "photo.png"
    Image.fromarray(photograph).save(source, dpi=(300, 300))
    sizes = {}
    for stored, quality in (("jpeg", None), ("jpeg", 40), ("lossless", None)):
        out = tmp_path / f"{stored}-{quality}"
        options = BatchOptions.build(fmt="pdf", pdf_images=stored, jpeg_quality=quality)
        [result] = iter_denoise([source], out, denoiser, options)
        [(_, embedded)] = _pdf_pages(result.output)
        sizes[stored, quality] = result.output.stat().st_size
        [made] = read_output_provenances(result.output)
        recorded = {("jpeg", None): "", ("jpeg", 40): " jpeg_quality=40", ("lossless", None): " pdf_images=lossless"}
        assert made.settings == "mode=grey keep_ink=on pictures=on" + recorded[stored, quality]
    assert sizes["jpeg", 40] < sizes["jpeg", None] < 0.7 * sizes["lossless", None]


def test_pdf_storage_choices_that_clash_are_refused_in_a_sentence() -> None:
    from engine.errors import ConfigurationError

    for wrong, words in (({"fmt": "png", "pdf_images": "lossless"}, "for PDFs, not png files"),
                         ({"fmt": "pdf", "pdf_images": "lossless", "jpeg_quality": 50}, "not lossless PDF pages"),
                         ({"fmt": "tiff", "jpeg_quality": 50}, "for JPEG pages, not tiff"),
                         ({"fmt": "png", "pdfa": "2b"}, "PDF/A is a kind of PDF"),
                         ({"fmt": "pdf", "pdfa": "3a"}, "the PDF/A level must be one of 2b, 1b")):
        with pytest.raises(ConfigurationError, match=words):
            BatchOptions.build(**wrong)


def test_black_and_white_pages_are_stored_in_ccitt_group_4(tmp_path: Path, samples_dir: Path,
                                                           denoiser: Denoiser) -> None:
    source = _three_page_tiff(tmp_path / "three.tif", samples_dir)
    list(iter_denoise([source], tmp_path / "out", denoiser, BatchOptions(fmt="pdf", mode="bw")))
    data = (tmp_path / "out" / "three_clean.pdf").read_bytes()
    assert data.count(b"/CCITTFaxDecode") == 3


def test_a_black_and_white_page_that_group_4_would_bloat_is_stored_in_flate_exactly(tmp_path: Path) -> None:
    from engine.io import open_document

    # A dithered picture: Group 4 codes such dots at several times Flate's size.
    rng = np.random.default_rng(0)
    dots = np.where(rng.random((600, 800)) < 0.5, 0, 255).astype(np.uint8)
    dots[:, :400] = np.where((np.indices((600, 400)).sum(axis=0) % 2) == 0, 0, 255)  # a checkerboard half
    text = np.full((600, 800), 255, np.uint8)
    text[100:110, 50:750] = 0  # a rule: what Group 4 codes best
    writer = open_document(tmp_path / "two.pdf")
    for page in (dots, text):
        writer.add_page(page, (300.0, 300.0), bilevel=True)
    data = writer.finish().read_bytes()
    assert data.count(b"/FlateDecode") == 1 and data.count(b"/CCITTFaxDecode") == 1
    assert [np.array_equal(pixels, page) for (_, pixels), page in zip(_pdf_pages(tmp_path / "two.pdf"),
                                                                     (dots, text))] == [True, True]


def test_a_single_image_becomes_a_one_page_pdf_of_its_size(tmp_path: Path, samples_dir: Path,
                                                           denoiser: Denoiser) -> None:
    # A 300 dpi scan makes a page of its size: 2480 x 3508 pixels would be A4 (595 x 842 pt).
    source = tmp_path / "letter.png"
    _images(samples_dir)[0].save(source, dpi=(300, 300))
    [result] = iter_denoise([source], tmp_path / "out", denoiser, BatchOptions(fmt="pdf"))
    [(size, pixels)] = _pdf_pages(result.output)
    assert result.output.name == "letter_clean.pdf"
    assert size == pytest.approx((540 * 72 / 300, 420 * 72 / 300), abs=0.01) and pixels.shape == (420, 540)


# ---------------------------------------------------------------- multi-page TIFF out


@pytest.mark.parametrize("mode, compression", [("grey", "tiff_lzw"), ("bw", "group4")])
def test_a_multipage_document_becomes_one_multipage_tiff(mode: str, compression: str, tmp_path: Path,
                                                         samples_dir: Path, denoiser: Denoiser) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    source = _three_page_pdf(folder / "three.pdf", samples_dir)
    shutil.copy(samples_dir / "noisyoffice-99.png", folder / "single.png")
    results = list(iter_denoise([folder], tmp_path / "out", denoiser, BatchOptions(fmt="tiff", mode=mode)))
    assert [r.output.name for r in results] == ["single_clean.tif"] + ["three_clean.tif"] * 3
    assert [r.output_page for r in results] == [0, 0, 1, 2]
    reference = _png_pages(source, tmp_path / "png", denoiser, mode)
    with Image.open(tmp_path / "out" / "three_clean.tif") as tiff:
        assert tiff.n_frames == 3
        for index, png in enumerate(reference):
            tiff.seek(index)
            assert tiff.info["compression"] == compression
            assert tiff.info["dpi"] == pytest.approx((150, 150), abs=0.5)
            assert np.array_equal(np.asarray(tiff.convert("L")), png)
    with Image.open(tmp_path / "out" / "single_clean.tif") as single:
        assert getattr(single, "n_frames", 1) == 1


# ---------------------------------------------------------------- one PDF of the run


def test_combine_puts_every_page_of_the_run_into_one_pdf_in_order(tmp_path: Path, samples_dir: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    first, second, _ = _images(samples_dir)
    first.save(folder / "a.pdf", save_all=True, append_images=[second], resolution=150)  # 420 then 258 high
    shutil.copy(samples_dir / "noisyoffice-52.png", folder / "b.png")  # 258 high
    shutil.copy(samples_dir / "noisyoffice-7.png", folder / "c.png")  # 420 high
    out = tmp_path / "out"
    command = ["-q", "denoise", str(folder), "-o", str(out), "--model", "fast", "--combine", "all.pdf"]
    assert main(command) == 0
    assert "4 page(s) cleaned" in capsys.readouterr().out
    assert _files(out) == ["all.pdf"]
    heights = [pixels.shape[0] for _, pixels in _pdf_pages(out / "all.pdf")]
    assert heights == [420, 258, 258, 420]
    assert [(p.source, p.page) for p in read_output_provenances(out / "all.pdf")] == [
        ("a.pdf", 1), ("a.pdf", 2), ("b.png", 1), ("c.png", 1)]
    # Run again: the same pages by the same model are already in it.
    assert main(command) == 0
    assert "0 page(s) cleaned, 4 already clean" in capsys.readouterr().out
    assert _files(out) == ["all.pdf"]


def test_combine_refuses_other_formats_and_names_before_any_work(tmp_path: Path, samples_dir: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    sample = str(samples_dir / "noisyoffice-2.png")
    for extra, words in [(["--combine", "all.png"], "name it all.pdf"),
                         (["--combine", "all.pdf", "--format", "png"], "so the format cannot be png"),
                         (["--combine", "sub/all.pdf"], "without a folder")]:
        assert main(["-q", "denoise", sample, "-o", str(out), "--model", "fast", *extra]) == 1
        assert words in capsys.readouterr().err
    assert not out.exists() or _files(out) == []


# ---------------------------------------------------------------- JPEG quality


def test_jpeg_quality_is_chosen_and_checked(tmp_path: Path, samples_dir: Path, denoiser: Denoiser,
                                            capsys: pytest.CaptureFixture) -> None:
    source = samples_dir / "noisyoffice-2.png"
    [low] = iter_denoise([source], tmp_path / "30", denoiser, BatchOptions(fmt="jpeg", jpeg_quality=30))
    [high] = iter_denoise([source], tmp_path / "95", denoiser, BatchOptions(fmt="jpeg"))
    assert low.output.stat().st_size < high.output.stat().st_size
    for bad in (0, 101):
        with pytest.raises(ValueError, match="the JPEG quality must be a whole number from 1 to 100"):
            iter_denoise([source], tmp_path / "bad", denoiser, BatchOptions(fmt="jpeg", jpeg_quality=bad))
        with pytest.raises(SystemExit):
            main(["denoise", str(source), "-o", str(tmp_path / "bad"), "--format", "jpeg",
                  "--jpeg-quality", str(bad)])
        assert f"from 1 to 100, not {bad}" in capsys.readouterr().err
    assert main(["-q", "denoise", str(source), "-o", str(tmp_path / "bad"), "--jpeg-quality", "50"]) == 1
    assert "a JPEG quality is for JPEG pages, not png" in capsys.readouterr().err
    assert _files(tmp_path / "bad") == []


# ---------------------------------------------------------------- naming


def test_the_naming_template_fills_its_fields(tmp_path: Path, samples_dir: Path, denoiser: Denoiser) -> None:
    source = _three_page_tiff(tmp_path / "three.tif", samples_dir)
    results = list(iter_denoise([source], tmp_path / "out", denoiser,
                                BatchOptions(mode="bw", name="{name}-{model}-{mode}-page{page}")))
    assert [r.output.name for r in results] == [
        f"three_p{i}-docclean-fast-bw-page{i}.png" for i in (1, 2, 3)]
    [document] = {r.output for r in iter_denoise([source], tmp_path / "pdf", denoiser,
                                                 BatchOptions(fmt="pdf", name="{model}_{name}"))}
    assert document.name == "docclean-fast_three.pdf"


@pytest.mark.parametrize("template, fmt, words", [
    ("{title}_clean", "png", "has an unknown field {title}; the fields are {name}, {model}, {mode} and {page}"),
    ("out/{name}", "png", "has a path separator"),
    ("{model}", "png", "gives noisyoffice-2.png and noisyoffice-7.png the same file name, docclean-fast; "
                       "put {name} in it"),
    ("{name}_{page}", "pdf", "has {page}, but the 3 pages of three.tif go into one PDF file"),
])
def test_a_template_that_cannot_name_every_page_apart_is_refused_before_any_work(
        template: str, fmt: str, words: str, tmp_path: Path, samples_dir: Path, denoiser: Denoiser) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("noisyoffice-2.png", "noisyoffice-7.png"):
        shutil.copy(samples_dir / name, folder)
    _three_page_tiff(folder / "three.tif", samples_dir)
    with pytest.raises(ValueError) as refused:
        iter_denoise([folder], tmp_path / "out", denoiser, BatchOptions(fmt=fmt, name=template))
    assert words in str(refused.value)
    assert _files(tmp_path / "out") == []


def test_the_cli_refuses_a_bad_template_in_words(tmp_path: Path, samples_dir: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    code = main(["-q", "denoise", str(samples_dir), "-o", str(tmp_path / "out"), "--name", "{nam}_clean"])
    assert code == 1
    assert capsys.readouterr().err.startswith('error: the naming template "{nam}_clean" has an unknown field')


# ---------------------------------------------------------------- sub-folders


def test_sub_folders_are_mirrored_in_the_output(tmp_path: Path, samples_dir: Path, denoiser: Denoiser) -> None:
    scans = tmp_path / "scans"
    for folder, name in (("a", "noisyoffice-2.png"), ("b", "noisyoffice-7.png"), ("b/deeper", "noisyoffice-99.png")):
        (scans / folder).mkdir(parents=True)
        shutil.copy(samples_dir / name, scans / folder / "1.png")
    loose = tmp_path / "loose.png"
    shutil.copy(samples_dir / "noisyoffice-52.png", loose)
    out = tmp_path / "out"
    results = list(iter_denoise([scans, loose], out, denoiser))
    assert all(r.ok for r in results)
    assert _files(out) == ["a/1_clean.png", "b/1_clean.png", "b/deeper/1_clean.png", "loose_clean.png"]
    # The same holds for documents, and a re-run finds them where they are.
    list(iter_denoise([scans], out, denoiser, BatchOptions(fmt="pdf")))
    assert (out / "b" / "deeper" / "1_clean.pdf").is_file()
    assert all(r.skipped for r in iter_denoise([scans, loose], out, denoiser))


# ---------------------------------------------------------------- re-runs


@pytest.mark.parametrize("fmt, suffix", [("pdf", "pdf"), ("tiff", "tif")])
def test_a_rerun_skips_documents_already_made(fmt: str, suffix: str, tmp_path: Path, samples_dir: Path,
                                              denoiser: Denoiser) -> None:
    source = _three_page_pdf(tmp_path / "three.pdf", samples_dir)
    out = tmp_path / "out"
    first = list(iter_denoise([source], out, denoiser, BatchOptions(fmt=fmt)))
    made = out / f"three_clean.{suffix}"
    digest = _sha(made)
    again = list(iter_denoise([source], out, denoiser, BatchOptions(fmt=fmt)))
    assert [(r.skipped, r.output, r.output_page) for r in again] == [(True, made, i) for i in range(3)]
    assert [r.output for r in first] == [made] * 3 and _sha(made) == digest and _files(out) == [made.name]
    # Other settings make another document, beside it; keep-both and overwrite apply to the file.
    assert {r.output.name for r in iter_denoise([source], out, denoiser, BatchOptions(fmt=fmt, mode="bw"))} == {
        f"three_clean-1.{suffix}"}
    assert {r.output.name for r in iter_denoise([source], out, denoiser,
                                                          BatchOptions(fmt=fmt, existing="keep-both"))} == {
        f"three_clean-2.{suffix}"}
    replaced = list(iter_denoise([source], out, denoiser, BatchOptions(fmt=fmt, existing="overwrite")))
    assert {r.output for r in replaced} == {made} and not any(r.skipped for r in replaced)
    assert len(_files(out)) == 3


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_document_with_a_failed_page_keeps_its_other_pages(tmp_path: Path, samples_dir: Path,
                                                             denoiser: Denoiser) -> None:
    # A two-page TIFF whose link to page 2 points past its end: page 1 reads, page 2 fails.
    source = tmp_path / "torn.tif"
    first, second = _images(samples_dir, PAGES[:2])
    first.save(source, save_all=True, append_images=[second])
    data = bytearray(source.read_bytes())
    ifd = int.from_bytes(data[4:8], "little")
    entries = int.from_bytes(data[ifd:ifd + 2], "little")
    data[ifd + 2 + 12 * entries:ifd + 6 + 12 * entries] = (len(data) + 5000).to_bytes(4, "little")
    source.write_bytes(bytes(data))
    out = tmp_path / "out"
    results = list(iter_denoise([source], out, denoiser, BatchOptions(fmt="pdf")))
    assert [r.ok for r in results] == [True, False]
    assert "torn.tif: cannot read page 2" in str(results[1].error)
    assert len(_pdf_pages(out / "torn_clean.pdf")) == 1
    # A re-run tries the missing page again and makes the document again in its place, not beside it.
    again = list(iter_denoise([source], out, denoiser, BatchOptions(fmt="pdf")))
    assert [r.ok for r in again] == [True, False] and not again[0].skipped
    assert _files(out) == ["torn_clean.pdf"]


# ---------------------------------------------------------------- stopping


def test_cancel_mid_document_leaves_no_file(tmp_path: Path, samples_dir: Path, denoiser: Denoiser) -> None:
    source = _three_page_pdf(tmp_path / "three.pdf", samples_dir)
    cancel = CancelToken()

    def stop_after_the_first_page(event: Progress) -> None:
        if event.message.startswith("cleaned"):
            cancel.cancel()

    out = tmp_path / "out"
    results: list[PageResult] = []
    with pytest.raises(Cancelled):
        for result in iter_denoise([source], out, denoiser, BatchOptions(fmt="pdf"), cancel=cancel,
                                   progress=stop_after_the_first_page):
            results.append(result)
    assert results == [] and _files(out) == []  # neither the document nor its temporary file


def test_a_killed_run_leaves_only_a_hidden_file_that_the_next_run_removes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    script = ("import os, signal, numpy as np; from pathlib import Path; "
              "from engine.io.documents import PdfWriter; "
              f"w = PdfWriter(Path({str(out / 'doc_clean.pdf')!r})); w.add_page(np.full((40, 60), 200, np.uint8)); "
              "os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT, timeout=60)
    [leftover] = os.listdir(out)
    assert leftover.startswith(".doc_clean.pdf.partial-")
    assert remove_leftovers(out) == [out / leftover] and os.listdir(out) == []
    assert plan_batch([], out).leftovers == []


def test_a_full_disk_is_told_once_for_a_document(tmp_path: Path, samples_dir: Path, capsys: pytest.CaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from engine.io.documents import PageOfFailedDocument, PdfWriter

    def disk_full(self, *args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PdfWriter, "_append", disk_full)
    source = _three_page_tiff(tmp_path / "book.tif", samples_dir)
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(source), "-o", str(out), "--format", "pdf", "--model", "fast"]) == 1
    err = capsys.readouterr().err
    assert err.count("the disk is full") == 1 and err.count("error:") == 1
    assert f"error: {out / 'book_clean.pdf'}: the disk is full" in err
    assert _files(out) == []
    # The engine still gives every page its result: the first the document's error, the others where they belong.
    results = list(iter_denoise([source], out, Denoiser.from_file("fast"), BatchOptions(fmt="pdf")))
    assert [type(r.error) for r in results[1:]] == [PageOfFailedDocument] * 2
    assert "book.tif [page 2/3] is not written: it belongs to book_clean.pdf" in str(results[1].error)


def test_a_page_larger_than_a0_at_the_resolution_its_file_claims_is_written_at_300_dpi(
        tmp_path: Path, denoiser: Denoiser) -> None:
    # A 1-bit TIFF claiming 72 dpi: 3400 pixels would be a page 1.2 m tall.
    page = Image.fromarray(np.where(np.indices((3400, 200)).sum(axis=0) % 40 < 3, 0, 255).astype(np.uint8))
    source = tmp_path / "fax.tif"
    page.convert("1").save(source, compression="group4", dpi=(72, 72))
    [result] = iter_denoise([source], tmp_path / "out", denoiser, BatchOptions(fmt="pdf"))
    assert result.ok and result.warning.startswith(
        "its file says 72 dpi, which would make the page 0.07 x 1.20 m, larger than A0: written at 300 dpi")
    [(size, _)] = _pdf_pages(result.output)
    assert size == pytest.approx((200 * 72 / 300, 3400 * 72 / 300), abs=0.01)
    # A resolution the user chooses wins, and says nothing.
    [chosen] = iter_denoise([source], tmp_path / "out600", denoiser, BatchOptions(fmt="pdf", dpi=600))
    assert chosen.ok and chosen.warning is None
    assert _pdf_pages(chosen.output)[0][0] == pytest.approx((200 * 72 / 600, 3400 * 72 / 600), abs=0.01)


def test_the_command_line_takes_a_resolution(tmp_path: Path, samples_dir: Path, capsys: pytest.CaptureFixture) -> None:
    source = samples_dir / PAGES[0]
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(source), "-o", str(out), "--format", "pdf", "--dpi", "100",
                 "--model", "fast"]) == 0
    [(size, pixels)] = _pdf_pages(out / "noisyoffice-2_clean.pdf")
    assert size == pytest.approx((pixels.shape[1] * 72 / 100, pixels.shape[0] * 72 / 100), abs=0.01)
    assert main(["-q", "denoise", str(source), "-o", str(out), "--dpi", "0"]) == 1
    assert "the resolution must be a number of dots per inch above 1" in capsys.readouterr().err
