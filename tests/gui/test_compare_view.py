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


def _pixels_of(canvas, colour) -> int:
    """How many pixels of ``canvas`` are drawn in ``colour``."""
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    wanted = colour.rgb() & 0xFFFFFF
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixel(x, y) & 0xFFFFFF == wanted)


def _edge_and_middle(canvas, corner: QPointF, far: QPointF) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The colours of ``canvas`` at the middle of the top edge of the box from ``corner`` to ``far`` (page
    pixels), and at its centre."""
    top_left, bottom_right = canvas.image_to_widget(corner), canvas.image_to_widget(far)
    image = canvas.grab().toImage()
    x = int((top_left.x() + bottom_right.x()) / 2)
    edge = image.pixelColor(x, round(top_left.y()))
    middle = image.pixelColor(x, int((top_left.y() + bottom_right.y()) / 2))
    return (edge.red(), edge.green(), edge.blue()), (middle.red(), middle.green(), middle.blue())


def _orange_pixels(canvas) -> int:
    """How many pixels of ``canvas`` are drawn in the put-back places' orange."""
    from gui.compare_view import PUT_BACK_COLOUR

    return _pixels_of(canvas, PUT_BACK_COLOUR)


def test_the_content_checks_places_are_outlined_on_the_cleaned_page(qtbot):
    from engine.cleaning.ink import MISSING, PUT_BACK, InkPlace

    view = _viewer(qtbot)
    places = (InkPlace(128, 128, 256, 384, PUT_BACK, 900), InkPlace(256, 0, 384, 128, MISSING, 300))
    view.set_page(_image(540, 420, 200), _image(540, 420, 250), places)
    assert view.right.places() == places
    # The outline runs along the box's edges on the cleaned page, not through its middle.
    assert _edge_and_middle(view.right, QPointF(128, 128), QPointF(384, 256)) == ((255, 140, 0), (250, 250, 250))
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


def test_picture_zones_and_marks_are_outlined_on_the_original(qtbot):
    from engine.cleaning.pictures import ZoneEdits
    from gui.compare_view import PICTURE_COLOUR, TEXT_COLOUR

    view = _viewer(qtbot)
    zone = (100, 120, 300, 400)  # top, left, bottom, right
    view.set_zones([zone], ZoneEdits(text=((20, 20, 80, 200),)))
    assert view.left.zones() == (zone,)
    # Outlined along its edge (right of the "picture" tag in the corner), not filled.
    assert _edge_and_middle(view.left, QPointF(120, 100), QPointF(400, 300)) == ((30, 110, 255), (200, 200, 200))
    assert _pixels_of(view.left, PICTURE_COLOUR) > 100 and _pixels_of(view.left, TEXT_COLOUR) > 50
    assert _pixels_of(view.right, PICTURE_COLOUR) == 0  # the cleaned page shows no zones
    view.set_zones_visible(False)
    assert _pixels_of(view.left, PICTURE_COLOUR) == 0
    view.set_zones_visible(True)
    # In a swipe, on the original's side of the divider only.
    view.set_swipe(True)
    view.left.set_divider(1.0)
    assert _pixels_of(view.left, PICTURE_COLOUR) > 100
    view.left.set_divider(0.0)
    assert _pixels_of(view.left, PICTURE_COLOUR) == 0
    view.set_swipe(False)
    view.set_page(None)
    assert view.left.zones() == () and view.left.marks().empty


def test_a_drag_on_the_original_marks_a_region_once_asked(qtbot):
    from engine.cleaning.pictures import PICTURE

    view = _viewer(qtbot)
    marked = []
    view.region_marked.connect(lambda kind, box: marked.append((kind, box)))
    canvas = view.left
    start, end = canvas.image_to_widget(QPointF(50, 60)), canvas.image_to_widget(QPointF(250, 160))
    center = view.state.center
    view.set_mark_mode(PICTURE)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(canvas, end.toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end.toPoint())
    assert len(marked) == 1 and marked[0][0] == PICTURE
    top, left, bottom, right = marked[0][1]
    assert abs(top - 60) <= 2 and abs(left - 50) <= 2 and abs(bottom - 160) <= 2 and abs(right - 250) <= 2
    assert view.state.center == center and view.state.fit  # marking did not pan
    assert view.mark_mode is None  # one region per request: the next drag pans
    # A click marks nothing; a drag off the page is clipped to it.
    view.set_mark_mode(PICTURE)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
    assert len(marked) == 1 and view.mark_mode == PICTURE
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(canvas, QPoint(canvas.width() - 1, canvas.height() - 1))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(canvas.width() - 1, canvas.height() - 1))
    assert marked[1][1][2] == 420 and 538 <= marked[1][1][3] <= 540  # the page's bottom; its right edge on screen
