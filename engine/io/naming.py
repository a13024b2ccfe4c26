"""Naming output files: the naming template, its fields, and numbered names that never replace an input."""
from __future__ import annotations

import os
import string
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Optional

from engine.errors import ConfigurationError
from engine.io.page_types import real_path
from engine.vocabulary import OutputFormat, choice

# How output files are named: a template with these fields (what each holds,
# for the app to offer).  The default is the naming DocClean always had.
NAME_FIELDS = {
    "name": "the input's file name without its extension (scan, or scan_p2 for page 2 of a "
            "multi-page file cleaned into a file per page)",
    "model": "the model's short name (docclean-general)",
    "mode": "grey or bw",
    "page": "the page number in the input (1 for a single page)",
}
DEFAULT_NAME = "{name}_clean"

#: What a spread's two pages, cleaned into a file each, add to the name (engine.geometry splits spreads).
PART_SUFFIXES = ("_left", "_right")

# What separates folders in a path: "/" and "\\" everywhere, for a name that
# works on every system, and this system's own (os.altsep is None on most).
PATH_SEPARATORS = frozenset(sep for sep in ("/", "\\", os.sep, os.altsep) if sep)


def check_name_template(template: str) -> str:
    """``template`` if it can name output files; ValueError with a sentence saying why not.

    Fields are those of NAME_FIELDS, written alone ({name}, not {name:>9});
    the template names a file, so it has no path separator and does not
    start with a dot (a hidden file).  Whether it tells every page apart
    depends on the pages: engine.io.documents checks that.
    """
    if not template.strip():
        raise ConfigurationError(f"the naming template is empty; the default is {DEFAULT_NAME}")
    shown = f'the naming template "{template}"'
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        raise ConfigurationError(f"{shown} has a {{ or }} without its pair; write fields as {{name}}") from None
    for text, field, spec, conversion in parts:
        if field is not None and field not in NAME_FIELDS:
            raise ConfigurationError(f"{shown} has an unknown field {{{field}}}; the fields are {_field_list()}")
        if spec or conversion:
            raise ConfigurationError(f"{shown} formats a field; write the fields alone, as {_field_list()}")
    literal = "".join(text for text, *_ in parts)
    if any(sep in literal for sep in PATH_SEPARATORS):
        raise ConfigurationError(f"{shown} has a path separator; it names a file in the output folder "
                         "(sub-folders of the input are mirrored there by themselves)")
    if any(ord(c) < 32 for c in literal):
        raise ConfigurationError("the naming template has a control character (a tab or a line break)")
    if template.startswith("."):
        raise ConfigurationError(f"{shown} starts with a dot, which would make hidden files")
    return template


def _field_list() -> str:
    names = [f"{{{name}}}" for name in NAME_FIELDS]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def fill_name(template: str, fields: Mapping[str, object]) -> str:
    """The file name (without extension) ``template`` gives a page with these NAME_FIELDS values."""
    return template.format_map({name: fields.get(name, "") for name in NAME_FIELDS})


def free_output_path(base: Path, fmt: str, overwrite: bool = False,
                     protected: Collection[str | os.PathLike[str]] = ()) -> Path:
    """"<base>.<ext>", else "<base>-1.<ext>", "-2"...: the first not ``protected`` nor (unless ``overwrite``) a file."""
    blocked = {real_path(p) for p in protected}
    return next(candidate for candidate in _numbered_names(base, fmt)
                if real_path(candidate) not in blocked and (overwrite or not os.path.lexists(candidate)))


def part_base(base: Path, part: int) -> Path:
    """The base name of page ``part`` (1 or 2) of a spread whose output would be ``base``."""
    return base.with_name(base.name + PART_SUFFIXES[part - 1])


def right_part(left: Path) -> Optional[Path]:
    """The file of a split spread's right page, beside ``left``, its left page's (None: ``left`` is no left page)."""
    at = left.name.rfind(PART_SUFFIXES[0])
    if at < 0:
        return None
    return left.with_name(left.name[:at] + PART_SUFFIXES[1] + left.name[at + len(PART_SUFFIXES[0]):])


def earlier_outputs(base: Path, fmt: str) -> Iterator[Path]:
    """The files free_output_path chose for ``base`` in earlier runs, up to the first name that does not exist."""
    for candidate in _numbered_names(base, fmt):
        if not os.path.lexists(candidate):
            return
        yield candidate


def _numbered_names(base: Path, fmt: str) -> Iterator[Path]:
    """"<base>.<ext>", then "<base>-1.<ext>", "-2", ... without end."""
    extension = choice(OutputFormat, fmt, "the output format").extension
    yield base.with_name(f"{base.name}.{extension}")
    attempt = 1
    while True:
        yield base.with_name(f"{base.name}-{attempt}.{extension}")
        attempt += 1
