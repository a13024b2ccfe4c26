"""What the main window opens: Preferences, training, the lab, questions, and files in the system's programs.

Functions of the window (gui.main_window.MainWindow), kept apart so the
window itself holds the layout and the wiring.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.io import SUPPORTED_SUFFIXES
from engine.models.modelfile import page_model_problem
from gui.desktop import open_in_system
from gui.error_report import log_file
from gui.preferences import PreferencesDialog, apply_theme


def choose_input_folder(w: Any) -> None:
    start = str(w.input_folder or w.settings.input_folder or Path.home())
    folder = QFileDialog.getExistingDirectory(w, "Open a folder of scanned pages", start)
    if folder:
        w.open_folder(Path(folder))


def choose_input_files(w: Any) -> None:
    start = str(w.input_folder or w.settings.input_folder or Path.home())
    patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
    names, _ = QFileDialog.getOpenFileNames(w, "Add scanned pages", start, f"Images ({patterns})")
    if names:
        w.add_inputs([Path(n) for n in names])


def choose_output_folder(w: Any) -> bool:
    """Ask for the output folder; True when one was chosen (it is in the folder field)."""
    start = w.output_edit.text() or str(w.input_folder or Path.home())
    folder = QFileDialog.getExistingDirectory(w, "Folder for cleaned pages", start)
    if folder:
        w.output_edit.setText(folder)
    return bool(folder)


def open_preferences(w: Any) -> None:
    """Preferences; accepted, the theme, threads and runtime apply at once."""
    dialog = PreferencesDialog(w.settings, w)
    if dialog.exec() != PreferencesDialog.DialogCode.Accepted:
        return
    apply_theme(w.settings.theme)
    w.denoisers.configure(threads=w.settings.threads)
    if w.settings.backend != w.backend_combo.currentData():
        w.backend_combo.setCurrentIndex(w.backend_combo.findData(w.settings.backend))  # reloads the model
    else:
        w.model_box.load()
    w.preview.clear_cache()


def open_training(w: Any) -> None:
    from gui.training_dialog import TrainingDialog

    if w.training_dialog is None:
        w.training_dialog = TrainingDialog(w.settings, w.runner, w)
        w.training_dialog.model_saved.connect(lambda path: _on_model_trained(w, path))
    w.training_dialog.show()
    w.training_dialog.raise_()
    w.training_dialog.activateWindow()


def _on_model_trained(w: Any, path: Path) -> None:
    if page_model_problem(path):  # a digit model: it has no place among the page cleaners
        w.statusBar().showMessage(f"New model saved: {path}")
        return
    w.settings.add_recent_model(path)
    w.model_choice.add_model(path, select=False)
    w.statusBar().showMessage(f"New model saved: {path}. Choose it under Model to use it.")


def open_lab(w: Any) -> None:
    from gui.lab_window import LabWindow

    if w.lab_window is None:
        w.lab_window = LabWindow(w.runner, w)
    w.lab_window.show()
    w.lab_window.raise_()


def ask(w: Any, title: str, question: str, go: str, stay: str) -> bool:
    """A yes/no question with worded buttons; True for ``go``."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=w)
    go_button = box.addButton(go, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(box.addButton(stay, QMessageBox.ButtonRole.RejectRole))
    box.exec()
    return box.clickedButton() is go_button


def open_output_folder(w: Any) -> None:
    folder = w.batch.out_dir or w.output_folder()
    if folder is not None:
        open_in_system(folder, w.statusBar().showMessage, "output folder")


def show_log(w: Any) -> None:
    path = log_file()
    if not path.exists():
        w.statusBar().showMessage(f"Nothing has been logged yet ({path})")
        return
    open_in_system(path, w.statusBar().showMessage, "log file")


def show_output(w: Any) -> None:
    """The current page's cleaned file, in the system's viewer."""
    row = w.page_list.currentRow()
    entry = w.workspace.entry(row) if row >= 0 else None
    if entry is None or entry.output is None or not entry.output.exists():
        w.statusBar().showMessage("This page has no cleaned file yet")
        return
    open_in_system(entry.output, w.statusBar().showMessage, "cleaned page")


def show_input_folder(w: Any) -> None:
    ref = w.page_list.current_ref()
    if ref is not None:
        open_in_system(Path(ref.path).parent, w.statusBar().showMessage, "folder")
