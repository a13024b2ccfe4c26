"""The training dialog trains a real (tiny) model, plots its loss and offers it as a model.

It offers every option of ``docclean train`` with the engine's own vocabulary
and limits, starts from data this machine has, says what is wrong in the
engine's words before starting, remembers the last choices, shows the loss of
each batch, and never starts a run on Return.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPushButton, QSpinBox

from cli.main import build_parser
from engine.data.pairs import NOISYOFFICE_ENV
from engine.models import registry
from engine.training.config import (MAX_BATCH_PIXELS, MAX_CROP, MAX_EPOCHS, MAX_SEED, MAX_STEPS, MIN_CROP,
                                    resolved)
from gui import training_data
from gui.settings import AppSettings
from gui.training_data import MIX, NOISYOFFICE_MISSING, PAIRS, SYNTHETIC
from gui.training_dialog import TrainingDialog
from gui.workers import TaskRunner

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner():
    runner = TaskRunner()
    yield runner
    runner.cancel_all()
    runner.wait(60000)


@pytest.fixture
def new_dialog(qtbot, runner, isolated_settings):
    """Opens a training dialog as the app does, on fresh settings (or on what earlier dialogs left)."""
    made = []

    def make() -> TrainingDialog:
        dialog = TrainingDialog(AppSettings(), runner)
        qtbot.addWidget(dialog)
        made.append(dialog)
        return dialog
    yield make
    for dialog in made:
        dialog.abandon()
    runner.wait(60000)
    QApplication.processEvents()  # late results (a parameter count) reach their dialog while it exists


def _train_options() -> dict:
    """The ``docclean train`` options by their argparse name (dest)."""
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return {a.dest: a for a in commands.choices["train"]._actions if a.dest != "help"}


def _value(widget):
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.text()


def _shown(dialog, widget) -> bool:
    return widget.isVisibleTo(dialog)



def _dialog_on_mnist(qtbot, window, mnist_dir):
    window.open_training()
    dialog = window.training_dialog
    qtbot.addWidget(dialog)
    dialog.set_data("mnist", mnist_dir)
    qtbot.waitUntil(lambda: dialog.arch_combo.findData("dense") >= 0, timeout=30000)
    return dialog


@pytest.mark.slow
def test_training_dialog_trains_plots_and_saves_a_model(qtbot, window, mnist_dir, tmp_path):
    dialog = _dialog_on_mnist(qtbot, window, mnist_dir)
    expected = 784 * 16 + 16 + 16 * 784 + 784
    with qtbot.waitSignal(dialog.parameters_counted, timeout=30000,
                          check_params_cb=lambda count: count == expected):
        dialog.set_architecture("dense", bottleneck=16)
    assert dialog.params_label.text() == "25,888"
    qtbot.waitUntil(lambda: dialog.noise_preview.sample_count() == 8, timeout=30000)

    dialog.epochs_spin.setValue(1)
    dialog.max_samples_spin.setValue(600)
    dialog.batch_spin.setValue(64)
    dialog.optimizer_combo.setCurrentText("adam")
    dialog.loss_combo.setCurrentIndex(dialog.loss_combo.findData("mse"))
    output = tmp_path / "models" / "tiny-dense.keras"
    dialog.set_output(output)
    with qtbot.waitSignal(dialog.training_finished, timeout=90000) as finished:
        dialog.start_training()
        assert dialog.running and dialog.stop_button.isEnabled()
    assert finished.args == ["done"]
    assert dialog.plot.point_count() == 1
    assert dialog.plot.series["loss"] and dialog.plot.series["val_loss"]
    assert output.exists()
    # A digits model cannot clean pages: the window does not offer it among the page cleaners.
    assert output not in window.model_choice.model_paths()
    assert output not in window.settings.recent_models


@pytest.mark.slow
def test_cancelled_training_saves_nothing(qtbot, window, mnist_dir, tmp_path):
    dialog = _dialog_on_mnist(qtbot, window, mnist_dir)
    dialog.set_architecture("dense", bottleneck=8)
    dialog.epochs_spin.setValue(50)
    dialog.max_samples_spin.setValue(2000)
    dialog.batch_spin.setValue(16)
    output = tmp_path / "cancelled.keras"
    dialog.set_output(output)

    def cancel_after_first_epoch(progress):
        if progress.stage == "epoch":
            dialog.cancel_training()

    with qtbot.waitSignal(dialog.training_finished, timeout=90000) as finished:
        dialog.start_training()
        dialog._train_task.signals.progress.connect(cancel_after_first_epoch)
    assert finished.args == ["cancelled"]
    assert not output.exists()
    assert output not in window.model_choice.model_paths()


# ------------------------------------------------------------ defaults that work offline

@pytest.mark.slow
def test_the_default_data_trains_without_a_download(qtbot, new_dialog, tmp_path):
    """Defect: the default (NoisyOffice, empty local copy) failed naming a Python function."""
    dialog = new_dialog()
    # The shared data beside the project is found: a folder of pairs; else Synthetic, which needs nothing.
    assert dialog.data_kind() in (PAIRS, SYNTHETIC)
    assert dialog.problem() == "" and dialog.train_button.isEnabled()
    assert not dialog.problem_label.isVisibleTo(dialog)

    dialog.set_architecture("docunet", width=2, depth=2)
    dialog.epochs_spin.setValue(1)
    dialog.steps_spin.setValue(4)
    dialog.crop_spin.setValue(32)
    dialog.batch_spin.setValue(2)
    output = tmp_path / "models" / "tiny-docunet.keras"
    dialog.set_output(output)
    with qtbot.waitSignal(dialog.training_finished, timeout=180000) as finished:
        qtbot.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
        assert dialog.running
    assert finished.args == ["done"], dialog.status_label.text()
    assert output.exists()
    assert dialog.plot.point_count() == 1
    # Per-batch progress reached the plot: at least the first and the last batch of the epoch.
    assert dialog.plot.batch_count() >= 2
    assert dialog.plot.batches[-1][0] == pytest.approx(1.0)
    assert all(math.isfinite(loss) for _, loss in dialog.plot.batches)


def test_missing_noisyoffice_is_said_in_words(qtbot, new_dialog, monkeypatch):
    """On a machine with no NoisyOffice, Synthetic is the default and NoisyOffice says what to do."""
    monkeypatch.setattr(training_data, "local_noisyoffice", lambda: None)
    monkeypatch.setattr(training_data, "shared_data_folder", lambda: None)
    monkeypatch.delenv(NOISYOFFICE_ENV, raising=False)
    dialog = new_dialog()
    assert dialog.data_kind() == SYNTHETIC
    assert dialog.problem() == "" and dialog.train_button.isEnabled()

    dialog.set_data("noisyoffice")
    assert dialog.problem_label.text() == NOISYOFFICE_MISSING
    assert dialog.problem_label.isVisibleTo(dialog)
    assert not dialog.train_button.isEnabled()
    assert "(" not in dialog.problem_label.text()  # no download_noisyoffice()
    dialog.start_training()
    assert not dialog.running


# ------------------------------------------------------------ every option of the command line

def test_every_cli_train_option_has_a_widget_with_the_engines_vocabulary(qtbot, new_dialog):
    dialog = new_dialog()
    options = _train_options()
    widgets = dialog.option_widgets()
    assert set(options) <= set(widgets), f"no widget for {sorted(set(options) - set(widgets))}"

    # The same choices as the command line, and the same defaults.
    for name, action in options.items():
        widget = widgets[name]
        if action.choices and isinstance(widget, QComboBox) and name != "arch":
            offered = {widget.itemData(i) for i in range(widget.count())} - {""}
            assert offered == set(action.choices), name
        if action.default not in (None, False) and not isinstance(widget, QLineEdit):
            assert _value(widget) == pytest.approx(action.default), name
    assert not dialog.reconstruct_check.isChecked()

    # Architectures: the digit ones for digits, the page ones for pages, all of them between the two.
    offered = set()
    for kind in ("mnist", SYNTHETIC):
        dialog.set_data(kind)
        names = [dialog.arch_combo.itemData(i) for i in range(dialog.arch_combo.count())]
        family = registry.DIGITS if kind == "mnist" else registry.DOCUMENT
        assert {registry.ARCHITECTURES[n].family for n in names} == {family}
        for name in names:
            dialog.set_architecture(name)
            arch = registry.ARCHITECTURES[name]
            spins = dialog._option_spins
            assert set(spins) == set(arch.options), name
            for key, (low, high) in arch.options.items():
                assert spins[key].maximum() == high
                # An option whose default only the builder knows starts at "default", one below.
                assert spins[key].minimum() == (low if key in arch.defaults else low - 1)
        offered |= set(names)
    assert offered == set(options["arch"].choices) == set(registry.ARCHITECTURES)

    # Ranges from the engine's limits.
    assert (dialog.crop_spin.minimum(), dialog.crop_spin.maximum()) == (MIN_CROP, MAX_CROP)
    assert dialog.epochs_spin.maximum() == MAX_EPOCHS
    assert dialog.steps_spin.maximum() == MAX_STEPS
    assert dialog.seed_spin.maximum() == MAX_SEED
    assert dialog.batch_spin.maximum() == MAX_BATCH_PIXELS // MIN_CROP**2


def test_options_that_do_not_apply_are_hidden_and_the_dialog_fits_a_small_screen(qtbot, new_dialog):
    dialog = new_dialog()
    dialog.show()
    qtbot.waitExposed(dialog)
    pages_only = (dialog.crop_spin, dialog.steps_spin, dialog.test_fraction_spin)
    digits_only = (dialog.noise_spin, dialog.max_samples_spin, dialog.reconstruct_check, dialog.noise_preview)
    dialog.advanced_button.setChecked(True)
    dialog.set_data(SYNTHETIC)
    assert all(_shown(dialog, w) for w in pages_only)
    assert not any(_shown(dialog, w) for w in digits_only)
    assert not _shown(dialog, dialog.data_folder_edit)  # synthetic needs no folder
    dialog.set_data("mnist")
    assert not any(_shown(dialog, w) for w in pages_only)
    assert all(_shown(dialog, w) for w in digits_only)
    dialog.reconstruct_check.setChecked(True)
    assert not dialog.noise_spin.isEnabled()  # nothing noisy to learn from

    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    assert dialog.width() <= 1024 and dialog.height() <= 700


# ------------------------------------------------------------ checked by the engine before starting

def test_an_invalid_value_shows_the_engines_sentence_and_disables_start(qtbot, new_dialog):
    dialog = new_dialog()
    dialog.set_data(SYNTHETIC)
    assert dialog.train_button.isEnabled()

    dialog.crop_spin.setValue(1024)
    dialog.batch_spin.setValue(64)
    with pytest.raises(ValueError) as refused:
        resolved(dialog.config())
    sentence = str(refused.value)
    assert "would not fit in memory" in sentence
    shown = dialog.problem_label.text()
    assert shown.lower().startswith(sentence.lower())
    assert dialog.problem_label.isVisibleTo(dialog)
    assert not dialog.train_button.isEnabled()
    dialog.start_training()
    assert not dialog.running

    dialog.batch_spin.setValue(16)  # 16 crops of 1024 pixels fit
    assert dialog.problem() == "" and dialog.train_button.isEnabled()
    assert not dialog.problem_label.isVisibleTo(dialog)

    dialog.learning_rate_edit.setText("fast")
    assert dialog.problem_label.text() == "Learning rate must be a positive number, not 'fast'."
    assert not dialog.train_button.isEnabled()
    dialog.learning_rate_edit.setText("2e-3")
    assert dialog.config().learning_rate == pytest.approx(0.002)
    assert dialog.train_button.isEnabled()

    dialog.set_output(Path("model.h5"))
    assert dialog.problem_label.text().endswith("a model file must end in .keras.")
    assert not dialog.train_button.isEnabled()

    dialog.set_data(MIX, source="")
    assert dialog.problem_label.text().startswith("Type the sources to mix")


# ------------------------------------------------------------ remembered between sessions

def test_the_last_choices_are_remembered_by_the_next_dialog(qtbot, new_dialog, shared_data, tmp_path):
    first = new_dialog()
    first.set_data(MIX, folder=shared_data, source="noisyoffice,dibco:2,synthetic")
    first.set_architecture("docunet", width=10, depth=4, stem=2)
    first.epochs_spin.setValue(80)
    first.batch_spin.setValue(8)
    first.learning_rate_edit.setText("0.002")
    first.lr_schedule_combo.setCurrentIndex(first.lr_schedule_combo.findData("cosine"))
    first.crop_spin.setValue(192)
    first.steps_spin.setValue(200)
    first.precision_combo.setCurrentIndex(first.precision_combo.findData("mixed_bfloat16"))
    first.optimizer_combo.setCurrentIndex(first.optimizer_combo.findData("rmsprop"))
    first.loss_combo.setCurrentIndex(first.loss_combo.findData("bce"))
    first.validation_spin.setValue(0.1)
    first.test_fraction_spin.setValue(0.25)
    first.patience_spin.setValue(5)
    first.seed_spin.setValue(3_000_000_000)  # beyond what a QSpinBox holds, within the engine's seeds
    first.noise_spin.setValue(0.3)
    first.max_samples_spin.setValue(500)
    first.reconstruct_check.setChecked(True)
    first.advanced_button.setChecked(True)
    assert first.problem() == ""
    wanted = first.config()
    first.close()

    second = new_dialog()
    assert second.data_kind() == MIX
    assert second.config() == wanted
    assert second.config().seed == 3_000_000_000 and second.config().arch_options == {
        "width": 10, "depth": 4, "stem": 2}
    assert second.advanced_button.isChecked()
    # Each kind of data keeps its own folder: switching away and back finds the mix again.
    second.set_data(SYNTHETIC)
    second.set_data(MIX)
    assert second.config().data == "noisyoffice,dibco:2,synthetic"
    assert second.config().data_folder == str(shared_data)


@pytest.mark.parametrize("kind", ["mnist", SYNTHETIC, MIX, "pairs", "recipe"])
def test_a_reopened_form_shows_the_choose_button_only_beside_its_field(qtbot, new_dialog, kind):
    """A hidden row's button shown on its own floated over the Data box of the next dialog, covering the data."""
    first = new_dialog()
    first.set_data(kind)
    first.close()
    second = new_dialog()
    second.show()
    qtbot.waitExposed(second)
    data = second.form.data
    assert data.kind() == kind
    assert data.source_button.isVisible() == (kind in ("pairs", "recipe"))
    assert data.source_button.isVisible() <= data.source_edit.isVisible()
    if data.source_button.isVisible():  # beside its field, on the same line
        assert data.source_button.geometry().top() == data.source_edit.geometry().top()


# ------------------------------------------------------------ Return is not "start"

def test_return_does_not_start_training(qtbot, new_dialog):
    """Defect: Return anywhere in the dialog started a training run."""
    dialog = new_dialog()
    dialog.set_data(SYNTHETIC)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.train_button.isEnabled()
    for button in dialog.findChildren(QPushButton):
        assert not button.isDefault() and not button.autoDefault(), button.text()

    with qtbot.assertNotEmitted(dialog.training_started, wait=300):
        dialog.epochs_spin.setFocus()
        dialog.epochs_spin.selectAll()
        qtbot.keyClicks(dialog.epochs_spin, "3")
        qtbot.keyClick(dialog.epochs_spin, Qt.Key.Key_Return)
        for widget in (dialog.learning_rate_edit, dialog.output_edit, dialog.data_combo, dialog.train_button,
                       dialog):
            widget.setFocus()
            qtbot.keyClick(widget, Qt.Key.Key_Return)
            qtbot.keyClick(widget, Qt.Key.Key_Enter)
    assert dialog.epochs_spin.value() == 3  # Return accepted the value, nothing more
    assert not dialog.running
    assert dialog.isVisible()
