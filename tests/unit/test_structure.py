"""The company structure's pure rules: one top-level department, parents that exist,
no department inside itself; and that every move they allow keeps the tree a tree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from b24local.store.departments import Department, ancestry
from b24local.structure import (
    DEFAULT_SORT,
    LARGEST,
    Refusal,
    clean_name,
    clean_sort,
    placement_refusal,
    subtree,
)


def department(department_id: int, parent_id: int | None) -> Department:
    return Department(department_id, f"Dep {department_id}", parent_id, None, 500)


#: Company(1) → Sales(2) → East(3) → Team(5); Company → Support(4).
TREE = {
    d.id: d
    for d in (
        department(1, None),
        department(2, 1),
        department(3, 2),
        department(4, 1),
        department(5, 3),
    )
}


@st.composite
def trees(draw) -> dict[int, Department]:
    """A valid structure: one root (1) and each department under an earlier one."""
    count = draw(st.integers(min_value=1, max_value=15))
    made = {1: department(1, None)}
    for department_id in range(2, count + 1):
        made[department_id] = department(department_id, draw(st.integers(1, department_id - 1)))
    return made


def test_subtree() -> None:
    assert subtree(TREE, 2) == {2, 3, 5}
    assert subtree(TREE, 1) == {1, 2, 3, 4, 5}
    assert subtree(TREE, 4) == {4}
    assert subtree(TREE, 99) == {99}


def test_a_new_department() -> None:
    assert placement_refusal(TREE, None, 3) is None
    assert placement_refusal(TREE, None, None) is Refusal.SECOND_ROOT
    assert placement_refusal(TREE, None, 99) is Refusal.BAD_PARENT
    assert placement_refusal({}, None, None) is None  # the first one is the root


def test_moves() -> None:
    assert placement_refusal(TREE, 3, 4) is None
    assert placement_refusal(TREE, 2, 2) is Refusal.INSIDE_ITSELF
    assert placement_refusal(TREE, 2, 5) is Refusal.INSIDE_ITSELF
    assert placement_refusal(TREE, 1, 4) is Refusal.INSIDE_ITSELF
    assert placement_refusal(TREE, 4, None) is Refusal.SECOND_ROOT
    assert placement_refusal(TREE, 1, None) is None  # the root stays the root
    assert placement_refusal(TREE, 3, 99) is Refusal.BAD_PARENT


@given(trees(), st.data())
def test_allowed_moves_keep_one_rooted_tree(tree, data) -> None:
    moved = data.draw(st.sampled_from(sorted(tree)))
    parent = data.draw(st.one_of(st.none(), st.integers(1, len(tree) + 2)))
    refusal = placement_refusal(tree, moved, parent)
    if refusal is not None:
        return
    after = dict(tree)
    after[moved] = department(moved, parent)
    roots = [d.id for d in after.values() if d.parent_id is None]
    assert roots == [1]
    for department_id in after:
        # Every department reaches the root without meeting itself again.
        chain = ancestry(after, department_id)
        assert chain[-1].id == 1
        assert len({d.id for d in chain}) == len(chain)


@given(trees(), st.data())
def test_refusals_are_the_only_ways_to_break_it(tree, data) -> None:
    moved = data.draw(st.sampled_from(sorted(tree)))
    parent = data.draw(st.sampled_from(sorted(tree)))
    below = parent in subtree(tree, moved)
    assert (placement_refusal(tree, moved, parent) is Refusal.INSIDE_ITSELF) == below


def test_names_and_sorts() -> None:
    assert clean_name("x" * 300) == "x" * 255
    assert clean_name("a\x00b") == "ab"
    assert clean_sort(0) == clean_sort(-3) == DEFAULT_SORT
    assert clean_sort(7) == 7
    assert clean_sort(2**63 - 1) == LARGEST
