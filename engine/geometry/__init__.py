"""The geometry stage before cleaning: pages upright, straight and cropped to the paper.

``find_geometry`` decides on a small copy of the page (engine.geometry.find);
``apply_pages`` applies the decision to the page in one warp, and makes a
spread two pages (engine.geometry.transform).  Each step acts only when confident; a page
left as scanned says why in ``PageGeometry.notes``; a user's ``GeometryFix`` replaces what it would find.
"""
from engine.geometry.corrections import GeometryFix, gutter_at, outline_points, split_line, turned_by
from engine.geometry.find import find_geometry
from engine.geometry.options import GeometryOptions
from engine.geometry.transform import PageGeometry, apply_geometry, apply_pages, side_by_side

__all__ = ["GeometryFix", "GeometryOptions", "PageGeometry", "apply_geometry", "apply_pages", "find_geometry",
           "gutter_at", "outline_points", "side_by_side", "split_line", "turned_by"]
