"""Take the README screenshots of the desktop app under the current display.

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshots.py [FOLDER]

Opens the main window on FOLDER (default: resources/samples, or a few NoisyOffice scans
from the shared data when the samples are not there yet), then the swipe viewer and the
training dialog during a short real training run, and saves docs/screenshots/main.png,
swipe.png, real_scan.png (a book page from the shared real scans), training.png, and
empty.png (the first start), pdf.png (a PDF of real scans), preferences.png, dark.png, and
lab.png (the Lab window during a quick cluster run, its figures arriving; ``--lab-only``: just
that one), geometry.png (a sideways book spread with its outline and split line to edit; geometry-photo.png: a phone
photo of an open book, what around it is made paper hatched;
``--geometry-only``: just those two).  Settings go to a temporary folder, never the user's.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from gui.app import create_application  # noqa: E402

SHARED_DATA = Path(os.environ.get("DOCCLEAN_SHARED_DATA", PROJECT.parent / "shared" / "data"))
SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def wait_for(signal: Any, timeout_s: float, condition: Any = None) -> bool:
    """Run the event loop until ``signal`` fires (and ``condition()`` holds) or time runs out."""
    if condition is not None and condition():
        return True
    loop = QEventLoop()
    fired = {"ok": False}

    def on_signal(*_: Any) -> None:
        if condition is None or condition():
            fired["ok"] = True
            loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    return fired["ok"]


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def sample_folder(workdir: Path) -> Path:
    samples = PROJECT / "resources" / "samples"
    if samples.is_dir() and any(p.suffix.lower() in SUFFIXES for p in samples.iterdir()):
        return samples
    folder = workdir / "samples"
    folder.mkdir()
    # One page per kind of noise: coffee stains, folds, watermarks, crumples.
    for name in ("0.png", "1.png", "2.png", "3.png", "4.png", "88.png"):
        source = SHARED_DATA / "noisyoffice" / "noisy" / name
        if source.exists():
            shutil.copy(source, folder / name)
    return folder


def save(widget: QWidget, path: Path) -> None:
    settle()
    pixmap = widget.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()})")


def show_page(window: Any, folder: Path, row: int, path: Path) -> None:
    """Open ``folder``, show page ``row`` with its cleaned preview, and save the window."""
    window.open_folder(folder)
    wait_for(window.thumbnails_done, 60)
    window.page_list.setCurrentRow(row)
    wait_for(window.preview_ready, 300)
    window.compare.fit()
    save(window, path)


def geometry_shot(window: Any, workdir: Path, path: Path) -> None:
    """A real book spread scanned sideways, with its geometry drawn on the scan to edit and the two pages it
    makes, cleaned, beside it."""
    from PIL import Image

    folder = workdir / "geometry"
    folder.mkdir()
    spread = Image.open(SHARED_DATA / "realscans" / "set0002-page-062.jpg")
    spread.transpose(Image.Transpose.ROTATE_90).save(folder / "spread-sideways.png")
    show_page(window, folder, 0, path)
    window.edit_geometry_action.trigger()
    save(window, path)
    window.edit_geometry_action.trigger()
    # A phone photo of an open book: the table and lamp around it hatched, made paper.
    photo_folder = workdir / "photo"
    photo_folder.mkdir()
    shutil.copy(SHARED_DATA / "realscans" / "set0005-04.jpg", photo_folder)
    photo = path.with_name("geometry-photo.png")
    show_page(window, photo_folder, 0, photo)
    window.edit_geometry_action.trigger()
    save(window, photo)
    window.edit_geometry_action.trigger()


def colour_shot(window: Any, workdir: Path, path: Path) -> None:
    """A yellowed, stained page with a red stamp, a blue signature, a highlighter and a colour figure
    (benchmarks/colour_pages.py), cleaned in colour."""
    import cv2
    import numpy as np

    from benchmarks.colour_pages import colour_page
    from engine.vocabulary import PageMode

    folder = workdir / "colour"
    folder.mkdir()
    clean = cv2.imread(str(SHARED_DATA / "noisyoffice" / "clean" / "3.png"), cv2.IMREAD_GRAYSCALE)
    page = colour_page(cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), np.random.default_rng(1))
    cv2.imwrite(str(folder / "marked.jpg"), cv2.cvtColor(page.rgb, cv2.COLOR_RGB2BGR))
    window.mode_combo.setCurrentIndex(window.mode_combo.findData(PageMode.COLOUR))
    # Written as a searchable PDF/A: the output box shows the PDF's rows in use.
    options = window.output_options
    window.format_combo.setCurrentText("pdf")
    options.pdfa_combo.setCurrentIndex(options.pdfa_combo.findData("2b"))
    options.ocr_combo.setCurrentIndex(max(0, options.ocr_combo.findData("eng")))
    show_page(window, folder, 0, path)
    for combo in (options.pdfa_combo, options.ocr_combo):
        combo.setCurrentIndex(0)
    window.format_combo.setCurrentText("png")
    window.mode_combo.setCurrentIndex(window.mode_combo.findData(PageMode.GREY))


def lab_shot(window: Any, workdir: Path, path: Path) -> None:
    """The Lab window while a quick cluster run writes its figures, saved once four are in."""
    window.lab_action.trigger()
    lab = window.lab_window
    lab.resize(1400, 850)
    lab.experiment_combo.setCurrentIndex(lab.experiment_combo.findData("cluster"))
    lab.data_edit.setText(str(SHARED_DATA / "mnist"))
    lab.output_edit.setText(str(workdir / "lab"))
    lab.quick_check.setChecked(True)
    lab.run_button.click()
    for _ in range(600):
        if lab.figure_list.count() >= 4 or not lab.running():
            break
        settle(500)
    lab.figure_list.setCurrentRow(lab.figure_list.count() - 2)  # a confusion matrix
    save(lab, path)
    lab.cancel()
    wait_for(lab.lab_finished, 120)
    lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lab-only", action="store_true", help="only the Lab window's screenshot")
    parser.add_argument("--geometry-only", action="store_true", help="only the page geometry's screenshot")
    parser.add_argument("--colour-only", action="store_true", help="only the colour mode's screenshot")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="docclean-shots-"))
    app = create_application(sys.argv[:1])
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "settings"))

    from gui.error_report import install_excepthook
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    install_excepthook()
    window = MainWindow(AppSettings())
    window.resize(1500, 900)
    window.show()
    if args.lab_only:
        lab_shot(window, workdir, args.out / "lab.png")
        return 0
    if args.geometry_only:
        geometry_shot(window, workdir, args.out / "geometry.png")
        return 0
    if args.colour_only:
        colour_shot(window, workdir, args.out / "colour.png")
        return 0
    save(window, args.out / "empty.png")
    folder = args.folder or sample_folder(workdir)
    window.open_folder(folder)
    window.output_edit.setText(str(workdir / "cleaned"))
    wait_for(window.thumbnails_done, 60)
    wait_for(window.model_ready, 60, lambda: not window.model_label.text().startswith("Loading"))
    # Clean the batch, then run it again: the list shows "already clean" (the re-run
    # skips what this model made), then look at a stained page.
    for _ in range(2):
        window.run_batch()
        wait_for(window.batch_finished, 300)
    window.page_list.setCurrentRow(min(1, window.page_list.count() - 1))
    wait_for(window.preview_ready, 120)
    save(window, args.out / "main.png")

    window.page_list.setCurrentRow(0)
    wait_for(window.preview_ready, 120)
    window.compare.set_swipe(True)
    window.swipe_action.setChecked(True)
    window.compare.left.set_divider(0.45)
    window.compare.fit()
    save(window, args.out / "swipe.png")
    window.compare.set_swipe(False)
    window.swipe_action.setChecked(False)
    window.compare.fit()

    # A real book scan (not NoisyOffice): the general model with the ink kept.
    scans = SHARED_DATA / "realscans"
    if scans.is_dir():
        real = workdir / "real"
        real.mkdir()
        for name in ("set0002-page-010.jpg", "set0005-01.jpg"):
            shutil.copy(scans / name, real / name)
        show_page(window, real, 0, args.out / "real_scan.png")

        # The same kind of pages as one PDF, each page rendered at its scan's resolution.
        from PIL import Image

        pdf_folder = workdir / "pdf"
        pdf_folder.mkdir()
        pages = [Image.open(scans / name).convert("RGB") for name in ("set0002-page-001.jpg", "set0002-page-002.jpg")]
        pages[0].save(pdf_folder / "book.pdf", save_all=True, append_images=pages[1:], resolution=300)
        show_page(window, pdf_folder, 1, args.out / "pdf.png")
        geometry_shot(window, workdir, args.out / "geometry.png")
        colour_shot(window, workdir, args.out / "colour.png")

    from gui.preferences import PreferencesDialog, apply_theme

    preferences = PreferencesDialog(window.settings, window)
    preferences.show()
    save(preferences, args.out / "preferences.png")
    preferences.close()
    apply_theme("dark")
    save(window, args.out / "dark.png")
    apply_theme("system")

    window.open_training()
    dialog = window.training_dialog
    dialog.set_data("mnist", SHARED_DATA / "mnist")
    wait_for(dialog.architectures_loaded, 60, lambda: dialog.arch_combo.findData("mnist_denoiser") >= 0)
    dialog.set_architecture("mnist_denoiser")
    dialog.epochs_spin.setValue(args.epochs)
    dialog.max_samples_spin.setValue(3000)
    dialog.set_output(workdir / "models" / "mnist_denoiser.keras")
    wait_for(dialog.noise_preview_ready, 30, lambda: dialog.noise_preview.sample_count() > 0)
    wait_for(dialog.parameters_counted, 30, lambda: dialog.params_label.text()[:1].isdigit())
    dialog.start_training()
    wait_for(dialog.training_finished, 600)
    save(dialog, args.out / "training.png")
    dialog.close()
    lab_shot(window, workdir, args.out / "lab.png")

    window.close()
    app.processEvents()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
