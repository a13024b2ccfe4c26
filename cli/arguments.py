"""argparse types that refuse a bad value in words (argparse's own would name Python's int and float)."""
from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Optional

from engine.errors import ConfigurationError


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


def arch_options(text: Optional[str]) -> dict[str, Any]:
    """``--arch-options``: a JSON object of an architecture's options ({} when not given); ConfigurationError in
    words for what is not one."""
    try:
        options = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"--arch-options is not JSON ({error.msg}), e.g. '{{\"width\": 8}}'") from None
    except RecursionError:
        raise ConfigurationError("--arch-options is nested too deeply; give names with numbers, "
                                 "e.g. '{\"width\": 8}'") from None
    if not isinstance(options, dict):
        raise ConfigurationError("--arch-options must be a JSON object, e.g. '{\"width\": 8}'")
    return options
