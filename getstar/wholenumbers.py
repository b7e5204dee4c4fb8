"""Whole numbers read from what a client or a remote service wrote (sizes, counts, seconds)."""

from __future__ import annotations

import re

__all__ = ["whole_number"]

_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str) -> int | None:
    """``text`` as a whole number written in ASCII digits (spaces around allowed), else None.

    Why not ``str.isdigit``: it is true of "²" and "٣", which ``int`` then refuses or reads."""
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else None
