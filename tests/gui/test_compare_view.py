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


def _orange_pixels(canvas) -> int:
    """How many pixels of ``canvas`` are drawn in the put-back places' orange."""
    from gui.compare_view import PUT_BACK_COLOUR

    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    wanted = PUT_BACK_COLOUR.rgb() & 0xFFFFFF
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixel(x, y) & 0xFFFFFF == wanted)


def test_the_content_checks_places_are_outlined_on_the_cleaned_page(qtbot):
    from engine.cleaning.ink import MISSING, PUT_BACK, InkPlace

    view = _viewer(qtbot)
    places = (InkPlace(128, 128, 256, 384, PUT_BACK, 900), InkPlace(256, 0, 384, 128, MISSING, 300))
    view.set_page(_image(540, 420, 200), _image(540, 420, 250), places)
    assert view.right.places() == places
    canvas = view.right
    corner = canvas.image_to_widget(QPointF(128, 128))
    far = canvas.image_to_widget(QPointF(384, 256))
    image = canvas.grab().toImage()
    # The outline runs along the box's edges on the cleaned page, not through its middle.
    edge = image.pixelColor(int((corner.x() + far.x()) / 2), round(corner.y()))
    assert (edge.red(), edge.green(), edge.blue()) == (255, 140, 0)
    middle = image.pixelColor(int((corner.x() + far.x()) / 2), int((corner.y() + far.y()) / 2))
    assert (middle.red(), middle.green(), middle.blue()) == (250, 250, 250)
    assert _orange_pixels(view.right) > 100
    assert _orange_pixels(view.left) == 0  # the original shows the page as it was
    # Holding for the original hides them; a new page without places has none.
    view.set_flash(True)
    assert _orange_pixels(view.right) == 0
    view.set_flash(False)
    view.set_swipe(True)
    view.left.set_divider(0.0)  # all cleaned
    assert _orange_pixels(view.left) > 100
    view.set_swipe(False)
    view.set_page(_image(540, 420, 200), _image(540, 420, 250))
    assert view.right.places() == () and _orange_pixels(view.right) == 0
