"""The per-user queues: one holder per user, first come first served, several users
taken without crossing, and nothing kept once nobody waits."""

from __future__ import annotations

import asyncio

from b24local.store.queues import UserQueues


def test_calls_for_one_user_take_turns_in_arrival_order():
    async def scenario() -> tuple[list[str], int]:
        queues = UserQueues()
        order: list[str] = []
        inside = 0

        async def call(name: str, portal: int, user: int) -> None:
            nonlocal inside
            async with queues.turn(portal, [user]):
                inside += 1
                assert inside == 1 or portal == 2
                order.append(name)
                await asyncio.sleep(0)
                inside -= 1

        await asyncio.gather(*(call(f"a{n}", 1, 7) for n in range(5)))
        await asyncio.gather(call("first", 1, 7), call("other portal", 2, 7))
        return order, len(queues)

    order, left = asyncio.run(scenario())
    assert order[:5] == ["a0", "a1", "a2", "a3", "a4"]
    assert sorted(order[5:]) == ["first", "other portal"]
    assert left == 0


def test_several_users_are_taken_in_one_order_and_a_cancelled_wait_leaves_nothing():
    async def scenario() -> tuple[list[str], int]:
        queues = UserQueues()
        done: list[str] = []

        async def call(name: str, users: list[int]) -> None:
            async with queues.turn(1, users):
                await asyncio.sleep(0)
                done.append(name)

        # Named crosswise: taken in ascending order, neither waits for the other forever.
        await asyncio.wait_for(asyncio.gather(call("ab", [1, 2]), call("ba", [2, 1])), 5)

        async with queues.turn(1, [3]):
            waiting = asyncio.ensure_future(call("cancelled", [3]))
            await asyncio.sleep(0)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
        return done, len(queues)

    done, left = asyncio.run(scenario())
    assert sorted(done) == ["ab", "ba"]
    assert left == 0
