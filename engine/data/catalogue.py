"""The data sets DocClean knows by name, defined once: what each is, what it trains, and whether it downloads.

The command line's choices (``train --data``, ``download``), the app's training form, the lab and the
model registry all read this table instead of listing names of their own.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """What a data set trains: models of 28 x 28 glyphs, or models that clean pages."""

    DIGITS = "digits"
    PAGES = "pages"


@dataclass(frozen=True)
class DataSet:
    """A data set known by ``name``.

    ``label`` is what a person reads; ``downloadable``: ``docclean download`` fetches it.
    """

    name: str
    label: str
    family: Family
    downloadable: bool
    summary: str


CATALOGUE: dict[str, DataSet] = {entry.name: entry for entry in (
    DataSet("mnist", "MNIST digits", Family.DIGITS, True,
            "70,000 handwritten digits 28 x 28 (the seeds' autoencoders)"),
    DataSet("notmnist", "notMNIST letters (A–J)", Family.DIGITS, True,
            "letters A-J in many fonts, 28 x 28, in MNIST's format"),
    DataSet("noisyoffice", "NoisyOffice", Family.PAGES, True,
            "office prints under stains, folds and wrinkles (UCI NoisyOffice)"),
    DataSet("dibco", "DIBCO documents", Family.PAGES, False,
            "historical print and handwriting with binary ground truth (the DIBCO contests)"),
    DataSet("synthetic", "Synthetic pages", Family.PAGES, False,
            "pages drawn and degraded on the fly: nothing to download"),
)}

#: The glyph sets, in the order the seeds use them.
DIGIT_SETS = tuple(name for name, entry in CATALOGUE.items() if entry.family == Family.DIGITS)
#: What ``docclean download`` fetches.
DOWNLOADABLE = tuple(name for name, entry in CATALOGUE.items() if entry.downloadable)
MNIST, NOTMNIST, NOISYOFFICE, DIBCO, SYNTHETIC = "mnist", "notmnist", "noisyoffice", "dibco", "synthetic"


def is_digit_data(data: str) -> bool:
    """Whether ``data`` (a name, a folder, a mix or a recipe) names a glyph set rather than pages."""
    return data in DIGIT_SETS
