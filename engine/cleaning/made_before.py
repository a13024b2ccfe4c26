"""What earlier runs left in an output folder, asked without cleaning anything: the pages a batch would skip."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from engine.cleaning.batch import BatchPlan, edited_zones, find_files, name_fields
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.earlier_runs import Provenances
from engine.cleaning.page_fixes import PageFixes
from engine.cleaning.pictures import ZoneEdits
from engine.geometry import GeometryFix
from engine.io import PageKey, PageRef, plan_outputs
from engine.options import BatchOptions
from engine.progress import CancelToken, check


def outputs_made_before(inputs: Sequence[Path], keys: Iterable[PageKey], out_dir: Path, denoiser: Denoiser,
                        options: BatchOptions, cancel: Optional[CancelToken] = None,
                        zones: Optional[Mapping[PageKey, ZoneEdits]] = None,
                        fixes: Optional[Mapping[PageKey, GeometryFix]] = None) -> dict[PageKey, tuple[Path, int]]:
    """The pages of ``keys`` whose output ``out_dir`` already holds, made by ``denoiser`` from the same
    input with ``options``: exactly the pages a batch would skip, with the file and 0-based page holding
    each.  Nothing is written; an output folder that does not exist holds nothing.  ``cancel`` stops it
    between output files (Cancelled).  ``zones``, ``fixes``: the pages' edits, as the batch would be given them.
    """
    if not Path(out_dir).is_dir():
        return {}
    files, folders = find_files(inputs)
    plan = BatchPlan(files, Path(out_dir), [], [], frozenset(keys), folders, edited_zones(zones))
    refs = [item for item in plan.pages() if isinstance(item, PageRef)]
    outputs = plan_outputs(refs, plan.out_dir, options.fmt, options.name, name_fields(denoiser, options.mode),
                           folders, options.combine) if refs else []
    provenances = Provenances(denoiser, options.settings_text(), plan.zones,
                              PageFixes(plan.out_dir, fixes, options.geometry.active))
    found: dict[PageKey, tuple[Path, int]] = {}
    for output in dict.fromkeys(outputs):
        check(cancel)
        whole, _part = provenances.earlier(output)
        if whole is not None:
            found.update((ref.key, (whole, position)) for position, ref in enumerate(output.refs))
    return found
