from gui.loss_plot import LossPlot


def test_plot_draws_points_per_epoch(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 240)
    plot.clear(total_epochs=3)
    empty = plot.grab().toImage()
    plot.add_epoch({"loss": 0.05, "val_loss": 0.06})
    plot.add_epoch({"loss": 0.03, "val_loss": float("nan")})
    assert plot.point_count() == 2
    assert plot.series["val_loss"] == [0.06]
    assert plot.grab().toImage() != empty
