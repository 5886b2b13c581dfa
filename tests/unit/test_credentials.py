"""Passwords are stored as salted scrypt hashes and checked against them."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.store import credentials


def test_a_password_checks_against_its_own_hash_only():
    stored = credentials.hash_password("hunter2")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "hunter2" not in stored
    assert credentials.check_password("hunter2", stored)
    assert not credentials.check_password("hunter3", stored)
    assert not credentials.check_password("", stored)


def test_the_same_password_gets_a_new_salt_each_time():
    assert credentials.hash_password("same") != credentials.hash_password("same")


def test_missing_or_damaged_hashes_never_match():
    for stored in (None, "", "plain", "scrypt$1$2", "bcrypt$16384$8$1$00$00", "scrypt$x$8$1$00$00"):
        assert not credentials.check_password("anything", stored)


@settings(max_examples=10, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_unicode_password_round_trips(password):
    stored = credentials.hash_password(password)
    assert credentials.check_password(password, stored)
    assert not credentials.check_password(password + "x", stored)


def test_the_check_runs_in_a_worker_thread_with_the_same_answers():
    stored = credentials.hash_password("hunter2")
    assert asyncio.run(credentials.verify_password("hunter2", stored))
    assert not asyncio.run(credentials.verify_password("hunter3", stored))
    assert not asyncio.run(credentials.verify_password("hunter2", None))
