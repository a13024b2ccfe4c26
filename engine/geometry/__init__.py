"""The geometry stage before cleaning: pages upright, straight and cropped to the paper.

``find_geometry`` decides on a small copy of the page (engine.geometry.find);
``apply_pages`` applies the decision to the page in one warp, and makes a
spread two pages (engine.geometry.transform).  Each step acts only when confident; a page
left as scanned says why in ``PageGeometry.notes``.
"""
from engine.geometry.find import find_geometry
from engine.geometry.options import GeometryOptions
from engine.geometry.transform import PageGeometry, apply_geometry, apply_pages

__all__ = ["GeometryOptions", "PageGeometry", "apply_geometry", "apply_pages", "find_geometry"]
