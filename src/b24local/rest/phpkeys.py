"""PHP's reading of form and query-string keys.

Bitrix24 runs on PHP, so ``ID[]=1&ID[]=2`` is a list, ``FILTER[>ID]=5`` a nested
map and ``a[x][0]=1`` a map holding a list. :func:`decode_pairs` turns flat
``(key, value)`` pairs into that structure, with limits on depth and count so a
hostile key cannot make us build something absurd. NUL characters are refused:
no text a method stores or compares may hold one (PostgreSQL cannot).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import chain, compress, repeat
from operator import is_, is_not
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
    ``json_encode`` would. The top level stays a map whatever its keys: it is
    ``$_REQUEST``, which PHP reads by key (``0=a`` is the parameter ``"0"``).
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
    return _listify_members(root)


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
        items = _listify_members(value)
        # Keyed 0..n-1 means a "0" first: most maps have none, and skip the scan.
        if "0" in items and all(k == str(i) for i, k in enumerate(items)):
            return list(items.values())
        return items
    return value


def _listify_members(value: dict) -> dict:
    """A plain dict of ``value``'s members, each container in it listified."""
    return {k: listify(v) if isinstance(v, dict) else v for k, v in value.items()}


#: Values one builtin call handles at a time (see :func:`_members`).
_CHUNK = 32_768


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    return (values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK))


def _members(level: list[Any]) -> list[Any]:
    """Every value held by the containers of one level (dict keys not included).

    The walks below go level by level with builtins that loop in C (``map``,
    ``compress``, ``chain``), not with a Python loop per value: a body of a few
    megabytes holds millions of values. A builtin holds the GIL until it returns,
    so each handles one chunk: between chunks, the event loop gets its turn while
    a big body is decoded in a worker thread."""
    found: list[Any] = []
    for part in _chunks(level):
        kinds = list(map(type, part))
        dicts = compress(part, map(is_, kinds, repeat(dict)))
        found.extend(chain.from_iterable(map(dict.values, dicts)))
        found.extend(chain.from_iterable(compress(part, map(is_not, kinds, repeat(dict)))))
    return found


def _of_type(values: list[Any], kind: type) -> list[Any]:
    found: list[Any] = []
    for part in _chunks(values):
        found.extend(compress(part, map(is_, map(type, part), repeat(kind))))
    return found


def _containers(values: list[Any]) -> list[Any]:
    return _of_type(values, dict) + _of_type(values, list)


def depth_of(value: Any, *, limit: int) -> int:
    """Nesting depth of decoded JSON, stopping as soon as ``limit`` is passed."""
    return shape_of(value, limit=limit, max_values=sys.maxsize)[0]


def shape_of(value: Any, *, limit: int, max_values: int) -> tuple[int, int]:
    """Nesting depth of decoded JSON and how many values its objects and arrays
    hold, stopping as soon as the depth passes ``limit`` or the count ``max_values``.

    For a big value: a level is counted by its containers' lengths before its
    values are gathered, and gathered with builtins (see :func:`_members`). A small
    one is walked by :func:`small_shape_of`, whose per-call cost is lower."""
    level = _containers([value])
    depth, count = 0, 0
    while level:
        depth += 1
        if depth > limit:
            break
        # An empty container counts on its own level and holds nothing below.
        level = list(filter(None, level))
        count += sum(map(len, level))
        if count > max_values:
            break
        level = _containers(_members(level))
    return depth, count


def small_shape_of(value: Any, *, limit: int, max_values: int) -> tuple[int, int]:
    """:func:`shape_of`, one value at a time: the cheaper walk for a few values."""
    deepest, count = 0, 0
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
        count += len(children)
        if deepest > limit or count > max_values:
            break
        stack.extend((child, depth) for child in children)
    return deepest, count


def holds_nul(value: Any) -> bool:
    """Whether decoded JSON has a NUL character in any key or string."""
    values = [value]
    while values:
        level = _containers(values)
        keys = list(chain.from_iterable(_of_type(level, dict)))
        if "\x00" in "".join(_of_type(values, str) + keys):
            return True
        values = _members(level)
    return False
