"""What a method handler receives: parameters, caller, ``now`` and a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from b24local.clock import Clock
from b24local.entities import Portal, User

from .auth import Caller
from .params import Params

if TYPE_CHECKING:
    from .dispatch import Dispatcher, Outcome
    from .registry import Registry


# Not frozen: one is made per call and sub-call, and a frozen dataclass pays for
# its guard on every field it sets.
@dataclass(slots=True)
class Call:
    params: Params
    caller: Caller
    #: When the call began; handlers that wait for a lock re-read ``clock`` after it.
    now: datetime
    conn: AsyncConnection
    clock: Clock
    registry: Registry
    dispatcher: Dispatcher
    client_ip: str = ""
    #: Whether the call came by REST 3.0 (``/rest/api/``): a batch's sub-calls
    #: then answer as REST 3.0 methods too.
    rest_v3: bool = False

    @property
    def portal(self) -> Portal:
        return self.caller.portal

    @property
    def user(self) -> User:
        return self.caller.user

    async def invoke(self, method: str, params: dict[str, Any]) -> Outcome:
        """Another method for the same caller in the same transaction (for batch)."""
        return await self.dispatcher.invoke(
            self.caller, method, params, self.conn, client_ip=self.client_ip, rest_v3=self.rest_v3
        )
