"""DocClean's installed entry points that other programs load by name: ``docclean.ocrmypdf``, the OCRmyPDF
plugin.  The product itself lives in ``engine`` (numerics, no Qt), ``gui`` and ``cli``."""
