"""The output folder's record of a user's geometry corrections, so that every later run into it reuses them.

One hidden JSON file beside the outputs (never taken for a page).  Pages are
known by their input file's SHA-256 and page number, not its path: a
renamed or moved scan keeps its corrections, and an edited one (whose
corners would no longer fit) loses them.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

from engine.errors import ImageWriteError
from engine.geometry.corrections import GeometryFix
from engine.io.output_folder import partial_path, write_reason

#: The record's name in the output folder: hidden, so discovery never reads it as a page.
RECORD_NAME = ".docclean-corrections.json"

#: A page of a record: its input's SHA-256 and 0-based page number.
RecordKey = tuple[str, int]

_FORMAT = 1
_log = logging.getLogger(__name__)


def read_fixes(out_dir: str | os.PathLike[str]) -> dict[RecordKey, GeometryFix]:
    """The corrections kept in ``out_dir``'s record; none when it has no record, or one that cannot be read
    (a damaged record loses corrections, never a page)."""
    path = Path(out_dir) / RECORD_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(str(page["source_sha256"]), int(page["page"]) - 1): GeometryFix.from_record(page["geometry"])
                for page in data["pages"]}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError):
        _log.warning("the corrections recorded in %s cannot be read: pages are found anew", path, exc_info=True)
        return {}


def write_fixes(out_dir: str | os.PathLike[str], fixes: Mapping[RecordKey, GeometryFix],
                names: Mapping[RecordKey, str]) -> None:
    """Keep ``fixes`` in ``out_dir``'s record, beside the pages' earlier ones (an empty fix forgets a page's).

    ``names`` are the input files' names, written for a person reading the
    record.  The record is replaced whole, never left half written;
    ImageWriteError when it cannot be written.
    """
    kept = read_fixes(out_dir)
    kept.update(fixes)
    pages: list[dict[str, Any]] = [
        {"source": names.get(key, ""), "source_sha256": key[0], "page": key[1] + 1, "geometry": fix.record()}
        for key, fix in sorted(kept.items()) if not fix.empty]
    path = Path(out_dir) / RECORD_NAME
    temporary = partial_path(path)
    try:
        temporary.write_text(json.dumps({"format": _FORMAT, "pages": pages}, indent=1), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ImageWriteError(path, f"the page corrections could not be kept: {write_reason(exc)}") from None
