"""argparse types that refuse a bad value in words (argparse's own would name Python's int and float)."""
from __future__ import annotations

import argparse
from typing import Callable


def whole(text: str) -> int:
    """argparse type: a whole number, refused in words (argparse would name Python's int)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def checked_whole(check: Callable[[int], int]) -> Callable[[str], int]:
    """argparse type: a whole number that the engine's ``check`` accepts, refused in its words."""
    def parse(text: str) -> int:
        try:
            return check(whole(text))
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
