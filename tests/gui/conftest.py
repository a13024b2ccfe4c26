"""GUI fixtures: isolated settings, a folder of real scanned pages, a main window."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from gui.settings import APPLICATION, ORGANISATION

PAGES = ("0.png", "1.png", "2.png", "3.png", "4.png", "5.png")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, qapp):
    """Every test gets its own settings file and app-data folder; the user's are never touched."""
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield tmp_path / "settings"


def _source_pages(noisyoffice_dir: Path) -> list[Path]:
    """Real scanned pages: the bundled samples when there are enough, else NoisyOffice scans."""
    samples = Path(__file__).resolve().parents[2] / "resources" / "samples"
    found = sorted(p for p in samples.glob("*") if p.suffix.lower() in (".png", ".jpg", ".tif", ".tiff"))
    if len(found) >= len(PAGES):
        return found[: len(PAGES)]
    return [noisyoffice_dir / "noisy" / name for name in PAGES]


def copy_pages(noisyoffice_dir: Path, folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source in _source_pages(noisyoffice_dir)[:count]:
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def pages_dir(tmp_path: Path, noisyoffice_dir: Path) -> Path:
    """Three real scanned pages."""
    return copy_pages(noisyoffice_dir, tmp_path / "pages", 3)


@pytest.fixture
def many_pages_dir(tmp_path: Path, noisyoffice_dir: Path) -> Path:
    """Six real scanned pages: enough to cancel a batch midway."""
    return copy_pages(noisyoffice_dir, tmp_path / "many", 6)


@pytest.fixture
def window(qtbot, isolated_settings):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    win = MainWindow(AppSettings())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.cancel_all()
    win.runner.wait(30000)


@pytest.fixture
def open_and_wait(qtbot):
    """Open a folder in the window and wait for its pages and thumbnails."""

    def run(window, folder: Path, expected: int) -> None:
        with qtbot.waitSignal(window.thumbnails_done, timeout=30000):
            window.open_folder(folder)
        qtbot.waitUntil(lambda: window.page_list.count() == expected, timeout=5000)

    return run
