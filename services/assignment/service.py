"""The assignment service's nameko entrypoints: thin, they validate, call the store, answer."""
from __future__ import annotations

from services.assignment import directory
from services.assignment.inspections import InspectionsRpc
from services.assignment.programme import ProgrammeRpc
from services.assignment.store import AssignmentStore
from services.common.contract.paging import page, parse_limit
from services.common.contract.problems import invalid, not_found
from services.common.messaging.outbox import OutboxRelay
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import DeclareTopology
from services.common.storage.redis_store import Store


class AssignmentService(ProgrammeRpc, InspectionsRpc):
    name = "assignment"

    topology = DeclareTopology()
    store: AssignmentStore = Store(AssignmentStore)
    relay = OutboxRelay("assignment")

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    # --- directory ---------------------------------------------------------------------------

    @rpc
    def put_township(self, code: str, body: dict) -> dict:
        record, created = directory.register_township(self.store, code, body)
        return {"created": created, "township": record}

    @rpc
    def put_village(self, code: str, body: dict) -> dict:
        record, created = directory.register_village(self.store, code, body)
        return {"created": created, "village": record}

    @rpc
    def put_department(self, code: str, body: dict) -> dict:
        record, created = directory.register_department(self.store, code, body)
        return {"created": created, "department": record}

    def _get(self, kind: str, code: str) -> dict:
        record = self.store.get(kind, code)
        if record is None:
            raise not_found(kind, code)
        return directory.public(record)

    @rpc
    def get_township(self, code: str) -> dict:
        return self._get("township", code)

    @rpc
    def get_village(self, code: str) -> dict:
        return self._get("village", code)

    @rpc
    def get_department(self, code: str) -> dict:
        return self._get("department", code)

    def _list(self, kind: str, after, limit, township_code: str | None = None) -> dict:
        items, next_cursor = self.store.list(kind, after, parse_limit(limit), township_code)
        return page([directory.public(item) for item in items], next_cursor)

    @rpc
    def list_townships(self, after: str | None = None, limit=None) -> dict:
        return self._list("township", after, limit)

    @rpc
    def list_villages(self, township: str | None = None, after: str | None = None,
                      limit=None) -> dict:
        return self._list("village", after, limit, township)

    @rpc
    def list_departments(self, after: str | None = None, limit=None) -> dict:
        return self._list("department", after, limit)

    # --- for other services' projections -----------------------------------------------------

    @rpc
    def directory_entry(self, kind: str, code: str) -> dict | None:
        """The full stored record (with revision), for a projection that has not seen it yet."""
        if kind not in ("township", "village", "department"):
            raise invalid(f"unknown directory kind {kind!r}")
        return self.store.get(kind, code)
