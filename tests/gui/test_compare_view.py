"""The before/after viewer: zoom and pan in step, swipe, flash, fit and 1:1."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage

from gui.compare_view import CompareView, Show


def _image(width: int, height: int, grey: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_Grayscale8)
    image.fill(QColor(grey, grey, grey))
    return image


def _viewer(qtbot) -> CompareView:
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_page(_image(540, 420, 200), _image(540, 420, 250))
    return view


def _assert_in_step(view: CompareView, widget_point: QPointF) -> None:
    left = view.left.widget_to_image(widget_point)
    right = view.right.widget_to_image(widget_point)
    assert abs(left.x() - right.x()) < 1e-6 and abs(left.y() - right.y()) < 1e-6
    assert view.left.scale() == view.right.scale()


def test_wheel_zoom_keeps_the_point_under_the_cursor_and_both_views_in_step(qtbot):
    view = _viewer(qtbot)
    cursor = QPointF(100, 80)
    before = view.left.widget_to_image(cursor)
    scale = view.left.scale()
    qtbot.wait(10)
    # A real wheel event on the left view.
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(cursor, view.left.mapToGlobal(cursor), QPoint(), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.left, event)
    assert view.left.scale() > scale * 1.5  # two notches
    after = view.left.widget_to_image(cursor)
    assert abs(after.x() - before.x()) < 1e-6 and abs(after.y() - before.y()) < 1e-6
    _assert_in_step(view, cursor)
    _assert_in_step(view, QPointF(400, 300))


def test_panning_one_view_pans_the_other(qtbot):
    view = _viewer(qtbot)
    view.actual_size()
    start = view.right.widget_to_image(QPointF(50, 50))
    qtbot.mousePress(view.right, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    qtbot.mouseMove(view.right, QPoint(150, 170))
    qtbot.mouseRelease(view.right, Qt.MouseButton.LeftButton, pos=QPoint(150, 170))
    moved = view.right.widget_to_image(QPointF(50, 50))
    assert abs(moved.x() - (start.x() + 50)) < 1e-6 and abs(moved.y() - (start.y() + 30)) < 1e-6
    _assert_in_step(view, QPointF(50, 50))


def test_fit_and_actual_size(qtbot):
    view = _viewer(qtbot)
    view.actual_size()
    assert view.left.scale() == 1.0 and view.right.scale() == 1.0
    view.zoom_in()
    assert view.left.scale() > 1.0
    view.fit()
    width, height = view.left.width(), view.left.height()
    expected = min(width / 540, height / 420)
    assert abs(view.left.scale() - expected) < 1e-9
    _assert_in_step(view, QPointF(10, 10))


def test_swipe_mode_uses_one_view_with_a_draggable_divider(qtbot):
    view = _viewer(qtbot)
    view.set_swipe(True)
    assert view.left.show_mode is Show.SWIPE and not view.right.isVisible()
    x = int(view.left.width() * 0.5)
    qtbot.mousePress(view.left, Qt.MouseButton.LeftButton, pos=QPoint(x, 100))
    qtbot.mouseMove(view.left, QPoint(int(view.left.width() * 0.25), 100))
    qtbot.mouseRelease(view.left, Qt.MouseButton.LeftButton, pos=QPoint(int(view.left.width() * 0.25), 100))
    assert abs(view.left.divider - 0.25) < 0.01
    # The left part shows the original, the right part the cleaned page.
    grab = view.left.grab().toImage()
    assert QColor(grab.pixel(int(view.left.width() * 0.2), view.left.height() // 2)).red() == 200
    assert QColor(grab.pixel(int(view.left.width() * 0.3), view.left.height() // 2)).red() == 250
    view.set_swipe(False)
    assert view.right.isVisible() and view.left.show_mode is Show.ORIGINAL


def test_press_and_hold_flashes_the_original(qtbot):
    view = _viewer(qtbot)
    middle = QPoint(view.right.width() // 2, view.right.height() // 2)

    def centre_grey() -> int:
        return QColor(view.right.grab().toImage().pixel(middle)).red()

    assert centre_grey() == 250
    qtbot.mousePress(view.right, Qt.MouseButton.RightButton, pos=middle)
    assert view.flashing and centre_grey() == 200
    qtbot.mouseRelease(view.right, Qt.MouseButton.RightButton, pos=middle)
    assert not view.flashing and centre_grey() == 250
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    assert view.flashing
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert not view.flashing
