"""PDF input: each page of a PDF is a page of the batch, rendered at its scan's resolution."""
from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

import engine.io.pdf as pdf
from cli.main import main
from engine.cleaning.batch import iter_denoise
from engine.cleaning.denoiser import Denoiser
from engine.io import ImageReadError, PageRef, find_images, image_size, list_pages, read_page, read_pages

# How far (mean absolute difference, in [0, 1]) a page read back may be from
# its source: Pillow stores grey pages in PDFs as JPEG.
JPEG_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def scan(noisyoffice_dir: Path) -> Image.Image:
    """A real scanned page of text (540 x 420, grey)."""
    return Image.open(noisyoffice_dir / "noisy" / "0.png").convert("L")


def _pages(scan: Image.Image) -> list[Image.Image]:
    """Three different pages: the scan, turned upside down, and mirrored."""
    return [scan, scan.rotate(180), scan.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]


def _save_pdf(path: Path, images: list[Image.Image], dpi: float = 150) -> Path:
    images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi)
    return path


def _difference(pixels: np.ndarray, image: Image.Image) -> float:
    return float(np.abs(pixels - np.asarray(image, np.float32) / 255).mean())


# ---------------------------------------------------------------- hand-made PDFs

_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"
_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def _pdf_bytes(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of ``objects`` (the bodies of objects 1, 2, ...) with a right cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _pages_pdf(*kids: bytes) -> bytes:
    """A PDF whose page tree lists ``kids`` (each a page object, or anything else)."""
    references = b" ".join(b"%d 0 R" % (3 + i) for i in range(len(kids)))
    tree = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (references, len(kids))
    return _pdf_bytes([_CATALOG, tree, *kids])


# The padding of the PDF standard security handler (PDF 1.7, 7.6.3.3).
_PASSWORD_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _encrypted_pdf(password: str) -> bytes:
    """A one-page PDF encrypted (RC4, 40 bits, revision 2) with ``password`` to open it.

    Its page has no content, so only the /O and /U entries need computing.
    """
    file_id, permissions = b"0123456789abcdef", (-4).to_bytes(4, "little", signed=True)
    padded = (password.encode() + _PASSWORD_PAD)[:32]
    owner = _rc4(hashlib.md5(padded).digest()[:5], padded)
    user = _rc4(hashlib.md5(padded + owner + permissions + file_id).digest()[:5], _PASSWORD_PAD)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (owner.hex().encode(), user.hex().encode())
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    identifier = file_id.hex().encode()
    return _pdf_bytes([_CATALOG, tree, _PAGE, encrypt], b"/Encrypt 4 0 R /ID [<%s> <%s>]" % (identifier, identifier))


def _refused(path: Path) -> str:
    with pytest.raises(ImageReadError) as caught:
        list_pages(path)
    return str(caught.value)


# ---------------------------------------------------------------- pages and resolution


def test_each_pdf_page_is_a_page_at_the_scan_resolution(tmp_path: Path, scan: Image.Image) -> None:
    images = _pages(scan)
    path = _save_pdf(tmp_path / "doc.pdf", images)
    refs = list_pages(path)
    assert refs == [PageRef(path, i, 3) for i in range(3)]
    assert refs[1].label == "doc.pdf [page 2/3]" and refs[1].stem == "doc_p2"
    for ref, image in zip(refs, images):
        assert image_size(path, ref.index) == (420, 540)
        page = read_page(ref)
        # The native resolution is found: the page has the embedded scan's pixels, not more or fewer.
        assert page.pixels.shape == (420, 540) and page.pixels.dtype == np.float32
        assert page.dpi == (150.0, 150.0)
        assert _difference(page.pixels, image) < JPEG_TOLERANCE
    everything = read_pages(path)
    assert [page.ref for page in everything] == refs
    np.testing.assert_array_equal(everything[2].pixels, read_page(path, 2).pixels)


def test_a_lossless_scan_comes_back_pixel_for_pixel(tmp_path: Path, scan: Image.Image) -> None:
    # A palette image is stored losslessly, so the render must equal it exactly.
    image = scan.quantize(256)
    path = _save_pdf(tmp_path / "scan.pdf", [image], dpi=300)
    page = read_page(path, dtype=np.uint8)
    assert page.pixels.dtype == np.uint8 and page.dpi == (300.0, 300.0)
    np.testing.assert_array_equal(page.pixels, np.asarray(image.convert("L")))
    assert list_pages(path)[0].label == "scan.pdf"


def test_a_rotated_page_is_read_upright(tmp_path: Path, scan: Image.Image) -> None:
    path = _save_pdf(tmp_path / "turned.pdf", [scan])
    document = pypdfium2.PdfDocument(path)
    document[0].set_rotation(90)
    document.save(tmp_path / "rotated.pdf")
    document.close()
    assert image_size(tmp_path / "rotated.pdf") == (540, 420)
    page = read_page(tmp_path / "rotated.pdf")
    assert page.pixels.shape == (540, 420)
    # /Rotate 90 turns the page clockwise for display.
    assert _difference(page.pixels, scan.transpose(Image.Transpose.ROTATE_270)) < JPEG_TOLERANCE


def test_a_page_without_a_scan_renders_at_300_dpi(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(_pages_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"))
    page = read_page(path, dtype=np.uint8)
    assert page.pixels.shape == (3300, 2550) and page.dpi == (300.0, 300.0)
    assert page.pixels.min() == 255  # white paper


def _place(source: Path, target: Path, page_size: tuple[float, float], scale: float) -> Path:
    """``target``: page 1 of ``source`` drawn through a form at ``scale`` on a page of ``page_size`` points."""
    original, document = pypdfium2.PdfDocument(source), pypdfium2.PdfDocument.new()
    page = document.new_page(*page_size)
    placed = original.page_as_xobject(0, document).as_pageobject()
    placed.transform(pypdfium2.PdfMatrix().scale(scale, scale))
    page.insert_obj(placed)
    page.gen_content()
    document.save(target)
    document.close()
    original.close()
    return target


def test_a_scan_drawn_through_a_form_keeps_its_resolution(tmp_path: Path, scan: Image.Image) -> None:
    # Drawn at half size on a half-size page, the 150 dpi scan is now a 300 dpi one.
    image = scan.quantize(256)
    source = _save_pdf(tmp_path / "scan.pdf", [image])
    path = _place(source, tmp_path / "form.pdf", (540 * 72 / 300, 420 * 72 / 300), 0.5)
    page = read_page(path, dtype=np.uint8)
    assert page.dpi == (300.0, 300.0)
    np.testing.assert_array_equal(page.pixels, np.asarray(image.convert("L")))


def test_a_small_picture_does_not_set_the_resolution(tmp_path: Path, scan: Image.Image) -> None:
    source = _save_pdf(tmp_path / "scan.pdf", [scan], dpi=600)
    path = _place(source, tmp_path / "letter.pdf", (612, 792), 1.0)
    assert read_page(path).dpi == (300.0, 300.0)


def test_a_page_over_the_pixel_budget_is_rendered_within_it_and_says_so(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A page that is no scan (a poster, say): 2550 x 3300 at 300 dpi, over a budget of a quarter of that.
    path = tmp_path / "letter.pdf"
    path.write_bytes(_pages_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"))
    monkeypatch.setattr(pdf, "MAX_PAGE_PIXELS", 2550 * 3300 // 4)
    page = read_page(path)
    assert page.pixels.shape == (1650, 1275) and page.dpi == (150.0, 150.0)
    assert page.note.startswith("read at 150 dpi instead of 300: at 300 dpi the page would be over")
    assert image_size(path) == (1650, 1275)
    assert read_page(_save_pdf(tmp_path / "small.pdf", [Image.new("L", (60, 40), 200)])).note is None


def test_a_pdf_image_over_the_pixel_budget_is_refused_before_it_is_decoded(
        tmp_path: Path, scan: Image.Image, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save_pdf(tmp_path / "big.pdf", [scan])
    monkeypatch.setattr(pdf, "MAX_PAGE_PIXELS", 540 * 420 // 4)
    rendered = []
    real_render = pdfium_c.FPDF_RenderPageBitmap
    monkeypatch.setattr(pdfium_c, "FPDF_RenderPageBitmap", lambda *args: rendered.append(args) or real_render(*args))
    for reading in (read_page, image_size):
        with pytest.raises(ImageReadError, match=r"big.pdf: the page holds an image of 1 megapixels \(540 x 420\)"):
            reading(path)
    assert rendered == []


def test_a_30000_pixel_square_image_in_a_small_pdf_is_refused_from_its_size(tmp_path: Path) -> None:
    # The 0.9 MB PDF peaked at 3.1 GB: its image is refused from the size it declares, unread.
    image = b"<< /Type /XObject /Subtype /Image /Width 30000 /Height 30000 /ColorSpace /DeviceGray " \
            b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 612] /Resources << /XObject << /Im0 5 0 R >> >> " \
           b"/Contents 4 0 R >>"
    contents = b"<< /Length 30 >>\nstream\nq 612 0 0 612 0 0 cm /Im0 Do Q\nendstream"
    path = tmp_path / "huge.pdf"
    path.write_bytes(_pdf_bytes([_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, contents, image]))
    with pytest.raises(ImageReadError, match=r"huge.pdf: the page holds an image of 900 megapixels \(30000 x 30000\), "
                                             r"over the 400-megapixel limit"):
        image_size(path)


def test_listing_renders_nothing_and_reading_renders_one_page(tmp_path: Path, scan: Image.Image,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save_pdf(tmp_path / "doc.pdf", _pages(scan))
    rendered = []
    real_render = pdfium_c.FPDF_RenderPageBitmap
    monkeypatch.setattr(pdfium_c, "FPDF_RenderPageBitmap", lambda *args: rendered.append(args) or real_render(*args))
    refs = list_pages(path)
    image_size(path, 2)
    assert rendered == []
    read_page(refs[1])
    assert len(rendered) == 1


def test_pdfium_is_only_ever_called_from_one_thread_at_a_time(tmp_path: Path, scan: Image.Image,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # PDFium is not thread-safe, and the app reads PDFs on several threads at once.
    paths = [_save_pdf(tmp_path / f"doc{i}.pdf", _pages(scan)) for i in range(2)]
    expected = read_page(paths[0], 1, np.uint8).pixels
    inside, most_inside, count_lock = [0], [0], threading.Lock()

    def watched(call):
        def run(*args):
            with count_lock:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            try:
                time.sleep(0.001)  # lets another thread in, if anything would let it
                return call(*args)
            finally:
                with count_lock:
                    inside[0] -= 1
        return run

    for name in ("FPDF_LoadDocument", "FPDF_LoadPage", "FPDF_RenderPageBitmap", "FPDF_ClosePage", "FPDF_CloseDocument"):
        monkeypatch.setattr(pdfium_c, name, watched(getattr(pdfium_c, name)))
    results: list[bool] = []

    def read_many(path: Path) -> None:
        results.extend(np.array_equal(read_page(path, 1, np.uint8).pixels, expected) for _ in range(5))
        list_pages(path)
        image_size(path, 2)

    threads = [threading.Thread(target=read_many, args=(paths[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20
    assert most_inside[0] == 1


# ---------------------------------------------------------------- errors in words


def test_an_encrypted_pdf_is_refused_for_its_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted_pdf("secret"))
    # The file is really encrypted, not damaged: it opens with its password.
    document = pypdfium2.PdfDocument(path, password="secret")
    assert len(document) == 1
    document.close()
    assert _refused(path) == f"{path}: the PDF is protected by a password"


@pytest.mark.parametrize("content, reason", [
    (_pages_pdf(), "the PDF has no pages"),
    (b"", "the file is empty"),
    (b"just some text, named .pdf", "not a PDF file"),
    (_pages_pdf(_PAGE, _PAGE)[:-60], "damaged PDF (the file is cut short)"),
    (b"%PDF-1.4\n" + b"\x00garbage" * 50 + b"\n%%EOF\n", "damaged PDF"),
])
def test_an_unreadable_pdf_is_refused_in_words(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    assert _refused(path) == f"{path}: {reason}"


def test_a_truncated_scan_is_refused_by_name(tmp_path: Path, scan: Image.Image) -> None:
    data = _save_pdf(tmp_path / "doc.pdf", _pages(scan)).read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert _refused(path) == f"{path}: damaged PDF (the file is cut short)"


def test_a_missing_pdf_or_a_folder_is_refused_in_words(tmp_path: Path) -> None:
    assert _refused(tmp_path / "none.pdf") == f"{tmp_path / 'none.pdf'}: no such file or folder"
    (tmp_path / "folder.pdf").mkdir()
    assert _refused(tmp_path / "folder.pdf") == f"{tmp_path / 'folder.pdf'}: is a folder, not a file"


def test_one_damaged_page_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "book.pdf"
    path.write_bytes(_pages_pdf(_PAGE, b"(not a page)", _PAGE))
    refs = list_pages(path)
    assert len(refs) == 3
    for ref in (refs[0], refs[2]):
        assert read_page(ref).pixels.shape == (417, 833)
    with pytest.raises(ImageReadError) as caught:
        read_page(refs[1])
    assert str(caught.value) == f"{path}: cannot read page 2: damaged page"
    with pytest.raises(ImageReadError, match="has no page 4 "):
        read_page(path, 3)


def test_ctrl_c_passes_through(tmp_path: Path, scan: Image.Image, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save_pdf(tmp_path / "doc.pdf", [scan])

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pdfium_c, "FPDF_RenderPageBitmap", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_page(path)
    # The lock was let go: the next read (another thread's, in the app) goes on.
    monkeypatch.undo()
    assert read_page(path).pixels.shape == (420, 540)


# ---------------------------------------------------------------- batch and CLI


def test_a_batch_cleans_every_page_of_a_pdf_beside_an_image(tmp_path: Path, scan: Image.Image) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    _save_pdf(folder / "doc.pdf", _pages(scan))
    scan.save(folder / "letter.png")
    assert [p.name for p in find_images([folder])] == ["doc.pdf", "letter.png"]
    results = list(iter_denoise([folder], tmp_path / "out", Denoiser.from_file("fast")))
    assert [r.error for r in results] == [None] * 4
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["doc_p1_clean.png", "doc_p2_clean.png", "doc_p3_clean.png", "letter_clean.png"]
    with Image.open(tmp_path / "out" / "doc_p2_clean.png") as written:
        assert written.size == (540, 420)


def test_the_cli_cleans_a_pdf(tmp_path: Path, scan: Image.Image) -> None:
    path = _save_pdf(tmp_path / "doc.pdf", _pages(scan)[:2])
    assert main(["-q", "denoise", str(path), "-o", str(tmp_path / "out"), "--model", "fast"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["doc_p1_clean.png", "doc_p2_clean.png"]


def test_a_batch_says_when_a_pdf_page_was_read_at_a_lower_resolution(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "poster.pdf"
    path.write_bytes(_pages_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 144 144] >>"))
    monkeypatch.setattr(pdf, "MAX_PAGE_PIXELS", 600 * 600 // 4)
    [result] = iter_denoise([path], tmp_path / "out", Denoiser.from_file("fast"))
    assert result.ok and result.warning.startswith("read at 150 dpi instead of 300")
