"""Which pages go into which output file, named before any page is cleaned.

A batch writes one file per page (PNG, JPEG, a single-page TIFF) or one file
per document: a PDF per input file, a multi-page TIFF per multi-page input,
or one PDF of the whole run.  plan_outputs decides which, and names every
file from the naming template (engine.io.naming).
"""
from __future__ import annotations

import itertools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from engine.errors import ConfigurationError
from engine.io.naming import PATH_SEPARATORS, check_name_template, fill_name
from engine.io.page_types import SUPPORTED_SUFFIXES, PageRef


# ---------------------------------------------------------------- which pages go into which file


@dataclass(eq=False)
class OutputFile:
    """One file a batch writes: one page, or a document of pages (``document``).

    ``base`` is the folder and file name without its extension or number
    ("out/letters/scan_clean"); free_output_path adds them.  Each is its own
    (two are never equal), so they key dictionaries.
    """

    base: Path
    fmt: str
    refs: list[PageRef]
    document: bool
    # The {name} the naming template was given, for telling a clash of inputs from a clash of the template's.
    name: str = ""

    @property
    def source(self) -> str:
        """The input it is made from, for messages: "scan.pdf" or "scan.pdf [page 2/5]"."""
        files = list(dict.fromkeys(ref.path.name for ref in self.refs))
        if len(files) > 1:
            return f"{len(files)} files"
        return files[0] if self.document else self.refs[0].label


def plan_outputs(refs: Sequence[PageRef], out_dir: Path, fmt: str, template: str,
                 fields: Mapping[str, object], folders: Optional[Mapping[Path, Path]] = None,
                 combine: Optional[str] = None) -> list[OutputFile]:
    """The files a batch of ``refs`` makes in ``out_dir``, in input order.

    ``fmt`` 'pdf' makes one PDF per input file, 'tiff' one multi-page TIFF
    per multi-page input and a file per page otherwise, 'png' and 'jpeg' a
    file per page.  ``combine`` (a file name, see check_combine_name) puts
    every page into that one PDF instead.  Files are named by ``template``
    (check_name_template) with ``fields`` (model and mode; name and page come
    from each page) in the sub-folder ``folders`` gives their input file
    (none: the top of ``out_dir``).  Raises ValueError with a sentence when
    the template cannot name a file, or names two inputs' files the same.
    """
    if combine is not None:
        return [OutputFile(out_dir / check_combine_name(combine), "pdf", list(refs), True)] if refs else []
    check_name_template(template)
    folders = folders or {}
    outputs = []
    for path, group in itertools.groupby(refs, key=lambda ref: ref.path):
        pages = list(group)
        folder = out_dir / folders.get(path, Path())
        if fmt == "pdf" or (fmt == "tiff" and pages[0].count > 1):
            outputs.append(_document(pages, folder, fmt, template, fields))
        else:
            outputs.extend(_single(ref, folder, fmt, template, fields) for ref in pages)
    _check_distinct(outputs, template)
    return outputs


def _single(ref: PageRef, folder: Path, fmt: str, template: str, fields: Mapping[str, object]) -> OutputFile:
    name = fill_name(template, {**fields, "name": ref.stem, "page": ref.index + 1})
    return OutputFile(folder / name, fmt, [ref], False, ref.stem)


def _document(pages: list[PageRef], folder: Path, fmt: str, template: str,
              fields: Mapping[str, object]) -> OutputFile:
    stem = pages[0].path.stem
    if len(pages) > 1 and "page" in _fields(template):
        raise ConfigurationError(f'the naming template "{template}" has {{page}}, but the {len(pages)} pages of '
                         f"{pages[0].path.name} go into one {fmt.upper()} file; leave {{page}} out, or choose "
                         "a format with a file per page (PNG or JPEG)")
    name = fill_name(template, {**fields, "name": stem, "page": pages[0].index + 1})
    return OutputFile(folder / name, fmt, pages, True, stem)


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _check_distinct(outputs: list[OutputFile], template: str) -> None:
    """Refuse a template that gives the files of two differently named inputs one name.

    Inputs with one name (scan.png and scan.tif, or two files named alike
    in different places given directly) are told apart as ever, by a number
    ("scan_clean-1.png"); a template without {name} would merge a whole
    folder into one file name, and is refused before any work.
    """
    seen: dict[Path, OutputFile] = {}
    for output in outputs:
        earlier = seen.setdefault(output.base, output)
        if earlier is not output and earlier.name != output.name:
            advice = ("put {name} in it" if "name" not in _fields(template)
                      else "keep its fields apart, e.g. with a _ between them")
            raise ConfigurationError(f'the naming template "{template}" gives {earlier.source} and {output.source} '
                             f"the same file name, {output.base.name}; {advice}")


def check_combine_name(name: str) -> str:
    """The file name (without .pdf) of the PDF a whole run is combined into; ValueError in words if it is none."""
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    if not stem.strip():
        raise ConfigurationError(f'"{name}" is no name for the combined PDF; give one such as all.pdf')
    if any(sep in name for sep in PATH_SEPARATORS):
        raise ConfigurationError(f'the combined PDF "{name}" is written in the output folder: give a file name, '
                         "without a folder")
    if name.startswith("."):
        raise ConfigurationError(f'the combined PDF "{name}" starts with a dot, which would make it a hidden file')
    if stem == name and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
        raise ConfigurationError(f"the combined file is a PDF: name it {Path(name).stem}.pdf, not {name}")
    return stem
