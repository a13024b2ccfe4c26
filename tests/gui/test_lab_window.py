"""The Lab window: opened from the main window, runs a quick sweep on real MNIST, and cancels."""
from __future__ import annotations

from pathlib import Path

import pytest


def _open_lab(window, data_folder: Path, out_dir: Path):
    window.lab_action.trigger()
    lab = window.lab_window
    assert lab.isVisible()
    lab.experiment_combo.setCurrentIndex(lab.experiment_combo.findData("sweep"))
    lab.data_edit.setText(str(data_folder))
    lab.output_edit.setText(str(out_dir))
    lab.quick_check.setChecked(True)
    return lab


@pytest.mark.slow
def test_quick_sweep_shows_table_and_figures(qtbot, window, mnist_dir, tmp_path):
    lab = _open_lab(window, mnist_dir.parent / "mnist", tmp_path / "lab")
    with qtbot.waitSignal(lab.lab_finished, timeout=120_000) as finished:
        lab.run_button.click()
    assert finished.args == ["done"], lab.status_label.text()
    assert lab.table.rowCount() > 0 and lab.table.columnCount() > 0
    # Figures listed as they were written are not listed again when the result arrives.
    assert lab.figure_list.count() == len(lab.lab_result.figures) >= 1
    shown = lab.shown_figure()
    assert shown is not None and Path(shown).is_file()
    assert "MNIST" in lab.protocol_label.text()
    assert (tmp_path / "lab" / "sweep" / "numbers.json").is_file()
    assert lab.run_button.isEnabled() and not lab.cancel_button.isEnabled()


@pytest.mark.slow
def test_cancel_reports_cancelled_and_enables_run(qtbot, window, mnist_dir, tmp_path):
    lab = _open_lab(window, mnist_dir, tmp_path / "lab")
    lab.run_button.click()
    assert lab.cancel_button.isEnabled() and not lab.run_button.isEnabled()
    with qtbot.waitSignal(lab.lab_finished, timeout=120_000) as finished:
        lab.cancel_button.click()
    assert finished.args == ["cancelled"], lab.status_label.text()
    assert "Cancelled" in lab.status_label.text()
    assert lab.run_button.isEnabled() and not lab.cancel_button.isEnabled()
    assert lab.table.rowCount() == 0


def test_without_the_lab_extra_the_window_says_so_and_runs_nothing(qtbot, window, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "umap", None)  # a plain install, or the standalone binaries
    window.lab_action.trigger()
    lab = window.lab_window
    lab.experiment_combo.setCurrentIndex(lab.experiment_combo.findData("cluster"))
    text = lab.status_label.text()
    assert "umap-learn" in text and "pip install 'docclean[lab]'" in text
    assert not lab.run_button.isEnabled()
    lab.start()
    assert not lab.running() and lab.status_label.text() == text
    # The bottleneck sweep needs Keras and numpy alone: it runs where the extra is missing.
    lab.experiment_combo.setCurrentIndex(lab.experiment_combo.findData("sweep"))
    assert lab.run_button.isEnabled() and "pip install" not in lab.status_label.text()
