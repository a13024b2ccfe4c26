"""Entry point of the desktop app: ``docclean-gui [FOLDER]``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from gui.settings import APPLICATION, ORGANISATION


def create_application(argv: Optional[Sequence[str]] = None) -> QApplication:
    """The QApplication with DocClean's identity (reused if one exists, as in tests)."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    return app  # type: ignore[return-value]


def close_on_signals(window: QWidget) -> QTimer:
    """SIGTERM (logout, `kill`) and Ctrl+C in the terminal close the window without asking.

    Closing cancels the work under way and waits for a page being written,
    so nothing is left half-written.  Python only sees a signal when it runs,
    so a timer wakes it a few times a second; keep the returned timer alive.
    """
    def close(signum: int, frame: object) -> None:
        QTimer.singleShot(0, getattr(window, "quit_now", window.close))

    signal.signal(signal.SIGTERM, close)
    signal.signal(signal.SIGINT, close)
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="docclean-gui", description="Clean scanned documents.")
    parser.add_argument("folder", nargs="?", type=Path, help="a folder of scanned pages to open")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Start the desktop app; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's chatter off the console
    app = create_application(sys.argv[:1])

    from gui.error_report import install_excepthook, setup_logging
    from gui.main_window import MainWindow
    from gui.preferences import apply_theme

    setup_logging()
    install_excepthook()
    window = MainWindow()
    apply_theme(window.settings.theme)
    window.show()
    close_on_signals(window)
    folder = args.folder or None
    if folder is not None:
        if folder.is_dir():
            window.open_folder(folder.resolve())
        elif folder.exists():
            window.add_inputs([folder.resolve()])
        else:
            window.statusBar().showMessage(f"{folder} does not exist")
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
