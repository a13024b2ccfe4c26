"""The training dialog trains a real (tiny) model, plots its loss and offers it as a model."""
from __future__ import annotations



def _dialog_on_mnist(qtbot, window, mnist_dir):
    window.open_training()
    dialog = window.training_dialog
    qtbot.addWidget(dialog)
    dialog.set_data("mnist", mnist_dir)
    qtbot.waitUntil(lambda: dialog.arch_combo.findData("dense") >= 0, timeout=30000)
    return dialog


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
    assert output in window.model_choice.model_paths()
    assert output in window.settings.recent_models()

    # A digits model cannot clean pages: choosing it says so instead of failing later.
    with qtbot.waitSignal(window.model_ready, timeout=30000) as ready:
        window.model_choice.select_model(output)
    assert "fully convolutional" in ready.args[0]
    assert window.model_label.text().startswith("Cannot use this model")


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
