"""Numbers shown to the user as words."""
from __future__ import annotations


def format_duration(seconds: float) -> str:
    """'42 s', '3 min 05 s' or '2 h 10 min'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
