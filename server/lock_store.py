"""Rasa's RedisLockStore with atomic ticket bookkeeping, for several Rasa server processes.

Rasa 3.6's `RedisLockStore` keeps one JSON "ticket lock" per conversation in Redis and changes it
with a GET followed by a SET (issue a ticket, finish serving, expire tickets, delete). Two
processes doing that at the same moment overwrite each other's change: a ticket vanishes (that
message then fails with `LockError`, or runs without waiting), or two messages get the same
ticket and run at once (RasaHQ/rasa#11256; Rasa Pro later added a "ConcurrentRedisLockStore").
Within one process it is safe, since the event loop never switches between the GET and the SET.

This subclass performs every read-modify-write as a Redis optimistic transaction (WATCH the key,
MULTI/EXEC, retry when another process changed it in between). Keys, JSON format and settings
are those of `RedisLockStore`, so processes of both kinds can share one Redis. Endpoints:

    lock_store:
      type: server.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      password: ${REDIS_PASSWORD}
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Text

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

_RETRIES = 1000


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # loaded by module path from endpoints.yml
            kwargs = {**endpoint_config.kwargs, **kwargs}
            if endpoint_config.url:
                kwargs.setdefault("host", endpoint_config.url)
        # An empty REDIS_PASSWORD means "no password" (endpoints.yml cannot leave a ${VAR} out).
        if not kwargs.get("password"):
            kwargs["password"] = None
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Any]
    ) -> Any:
        """Apply `change` to the stored lock atomically.

        `change(lock)` edits the lock in place (lock is None when none is stored) and returns
        (result, lock_to_store); a lock_to_store of None deletes the key.
        """
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(_RETRIES):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, new_lock = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise LockError(f"Lock of conversation '{conversation_id}' kept changing; gave up.")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Any:
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, change)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove our ticket; delete the lock in the same step if nobody else holds one."""

        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, (lock if lock.is_someone_waiting() else None)

        self._change(conversation_id, change)
