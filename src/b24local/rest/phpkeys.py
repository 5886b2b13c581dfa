"""PHP's reading of form and query-string keys.

Bitrix24 runs on PHP, so ``ID[]=1&ID[]=2`` is a list, ``FILTER[>ID]=5`` a nested
map and ``a[x][0]=1`` a map holding a list. :func:`decode_pairs` turns flat
``(key, value)`` pairs into that structure, with limits on depth and count so a
hostile key cannot make us build something absurd. NUL characters are refused:
no text a method stores or compares may hold one (PostgreSQL cannot).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import ERROR_NUL_CHARACTER, ERROR_PARAMS_TOO_DEEP, ERROR_PARAMS_TOO_MANY
from .params import INT_MAX


def _php_name(name: str) -> str:
    """PHP turns spaces and dots in a variable's base name into underscores."""
    return name.lstrip(" ").replace(" ", "_").replace(".", "_")


def split_key(key: str) -> list[str | None]:
    """``a[b][]`` → ``["a", "b", None]``; ``None`` stands for ``[]`` (append).

    As in PHP: an unclosed first bracket is part of the name (``a[b`` → ``a_b``);
    an unclosed later bracket ends the parsing; a key without a name before the
    first bracket is dropped.
    """
    head, bracket, rest = key.partition("[")
    if bracket and "]" not in rest:
        return [_php_name(head) + "_" + rest.replace("[", "_")]
    parts: list[str | None] = [_php_name(head)]
    while bracket:
        inner, closed, rest = rest.partition("]")
        if not closed:
            break
        parts.append(inner if inner != "" else None)
        if not rest.startswith("["):
            break
        bracket, rest = "[", rest[1:]
    return parts


class _Array(dict):
    """A PHP array being built. Like PHP it remembers where ``[]`` appends next, one
    past the largest integer key so far, instead of scanning its keys each time."""

    __slots__ = ("next_index",)

    def __init__(self) -> None:
        super().__init__()
        self.next_index = 0

    def key_for(self, part: str | None) -> str:
        if part is None:
            part = str(self.next_index)
            self.next_index += 1
        elif _is_index(part):
            self.next_index = max(self.next_index, int(part) + 1)
        return part


def decode_pairs(pairs: Iterable[tuple[str, Any]], *, max_depth: int, max_count: int) -> dict:
    """Build nested parameters from PHP-style keys.

    Containers are built as dicts (PHP arrays keep key order); :func:`listify`
    then turns those whose keys are exactly 0..n-1 into lists, as PHP's
    ``json_encode`` would.
    """
    root = _Array()
    count = 0
    for key, value in pairs:
        count += 1
        if count > max_count:
            raise ERROR_PARAMS_TOO_MANY()
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise ERROR_NUL_CHARACTER()
        if "[" not in key:
            # A plain name, the usual case: no nesting, and no append at the root
            # (a key naming nothing before its bracket is dropped).
            name = _php_name(key)
            if name:
                root[name] = value
            continue
        parts = split_key(key)
        if not parts[0]:
            continue
        if len(parts) > max_depth:
            raise ERROR_PARAMS_TOO_DEEP()
        node = root
        for depth, part in enumerate(parts):
            name = node.key_for(part)
            if depth == len(parts) - 1:
                node[name] = value
                break
            child = node.get(name)
            if not isinstance(child, _Array):
                child = _Array()
                node[name] = child
            node = child
    return listify(root)


def _is_index(key: str) -> bool:
    """PHP's integer keys: canonical decimals within its integer range."""
    return (
        key.isascii()
        and key.isdigit()
        and (key == "0" or not key.startswith("0"))
        and len(key) <= 19
        and int(key) <= INT_MAX
    )


def listify(value: Any) -> Any:
    """Turn dicts keyed ``"0".."n-1"`` (in order) into lists, recursively."""
    if isinstance(value, dict):
        items = {k: listify(v) if isinstance(v, dict) else v for k, v in value.items()}
        # Keyed 0..n-1 means a "0" first: most maps have none, and skip the scan.
        if "0" in items and all(k == str(i) for i, k in enumerate(items)):
            return list(items.values())
        return items
    return value


def depth_of(value: Any, *, limit: int) -> int:
    """Nesting depth of decoded JSON, stopping as soon as ``limit`` is passed."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def holds_nul(value: Any) -> bool:
    """Whether decoded JSON has a NUL character in any key or string."""
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
