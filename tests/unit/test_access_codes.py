"""The access-code rules: which codes a user holds, and which codes have names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from b24local.access_codes import holds_any, names, parse, requested, user_codes
from b24local.entities import User
from b24local.store.departments import Department

ids = st.integers(min_value=1, max_value=30)


@st.composite
def trees(draw) -> dict[int, Department]:
    """A forest of departments 1..n, each parent drawn among the earlier ones (or a
    cycle-free root), sometimes with a parent that does not exist."""
    count = draw(st.integers(min_value=0, max_value=12))
    tree: dict[int, Department] = {}
    for department_id in range(1, count + 1):
        parent = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=department_id + 3)))
        if parent == department_id:
            parent = None
        tree[department_id] = Department(department_id, f"Dep {department_id}", parent, None, 500)
    return tree


def member(user_id: int, admin: bool, departments: list[int]) -> User:
    return User(1, user_id, True, admin, "Ann", "Lee", departments=tuple(departments))


def below(tree: dict[int, Department], top: int, department_id: int) -> bool:
    """Is the department ``top`` or under it? Walked the slow way, for comparison."""
    seen: set[int] = set()
    current: int | None = department_id
    while current is not None and current in tree and current not in seen:
        if current == top:
            return True
        seen.add(current)
        current = tree[current].parent_id
    return False


@given(tree=trees(), user_id=ids, admin=st.booleans(), departments=st.lists(ids, max_size=4))
def test_the_codes_a_user_holds(tree, user_id, admin, departments):
    held = user_codes(member(user_id, admin, departments), tree)
    assert {"G2", "AU", f"U{user_id}"} <= held
    assert ("G1" in held) == admin
    for department_id in range(1, 35):
        assert (f"D{department_id}" in held) == (department_id in departments)
        in_or_under = any(below(tree, department_id, d) for d in departments)
        assert (f"DR{department_id}" in held) == in_or_under
    # Nothing else: every code is one of these kinds, for this user.
    for code in held - {"G2", "AU", "G1"}:
        assert parse(code) is not None and parse(code).prefix in {"U", "D", "DR"}


@given(held=st.frozensets(st.text(max_size=4)), asked=st.lists(st.text(max_size=4)))
def test_holding_any_is_an_exact_intersection(held, asked):
    assert holds_any(held, asked) == bool(held & set(asked))


@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_requested_keeps_only_strings(value):
    codes = requested(value)
    assert all(isinstance(code, str) for code in codes)
    if isinstance(value, str):
        assert codes == [value]


@given(tree=trees(), codes=st.lists(st.from_regex(r"(G|U|D|DR|AU|XX)[0-9]{0,3}", fullmatch=True)))
def test_names_only_what_exists(tree, codes):
    users = {3: member(3, False, [])}
    named = names(codes, users, tree)
    for code, entry in named.items():
        assert set(entry) == {"provider", "name", "provider_id"}
        assert all(isinstance(value, str) for value in entry.values())
        parsed = parse(code)
        if code in ("G2", "AU"):
            assert entry["provider_id"] == "other" and entry["provider"] == ""
        elif parsed.prefix == "U":
            assert parsed.id in users
        elif parsed.prefix in ("D", "DR"):
            assert parsed.id in tree
        else:
            assert code == "G1"
    # Every code that names something shows up, in its plain form (two codes may
    # share one: "G02" names nothing, yet "G2" beside it does).
    expected = set()
    for code in codes:
        parsed = parse(code)
        exists = code in ("G2", "AU") or (
            parsed is not None
            and (
                (parsed.prefix == "G" and parsed.id == 1)
                or (parsed.prefix == "U" and parsed.id in users)
                or (parsed.prefix in ("D", "DR") and parsed.id in tree)
            )
        )
        if exists:
            expected.add(code if parsed is None else f"{parsed.prefix}{parsed.id}")
    assert set(named) == expected
