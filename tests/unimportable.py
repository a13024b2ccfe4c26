"""Scripts for ``python -c`` that run a front end with some packages made unimportable, as on a computer
without them: what the tests of "never imports TensorFlow" (or Ray) run in a fresh process."""
from __future__ import annotations


def without(packages: tuple[str, ...], then: str) -> str:
    """A script that makes ``packages`` (top-level names) unimportable, then runs ``then``."""
    return f"""
import sys

class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {packages!r}:
            raise ImportError(f'{{name}} is not installed')
        return None

sys.meta_path.insert(0, _Refuse())
{then}
"""
