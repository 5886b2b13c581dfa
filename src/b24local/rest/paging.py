"""List paging as every list method does it: pages of 50, ``start``, ``next``, ``total``."""

from __future__ import annotations

from typing import Any

from .envelope import ListPage
from .params import Params

PAGE_SIZE = 50


def page_start(params: Params) -> int | None:
    """The offset ``start`` (any case) asks for: ``-1`` turns off counting (``None``);
    other negative or non-numeric values mean the first page. Bitrix reads ``start``
    as the page ``intdiv(start, 50) + 1``, so a value between pages means the one it
    falls in."""
    value = params.upper().int("START")
    if value == -1:
        return None
    return max(value, 0) // PAGE_SIZE * PAGE_SIZE


def page(items: list[Any], start: int | None, total: int | None) -> ListPage:
    """One page of a list answer; without counting there is no ``total`` or ``next``."""
    if start is None or total is None:
        return ListPage(items)
    following = start + PAGE_SIZE
    return ListPage(items, total=total, next=following if following < total else None)
