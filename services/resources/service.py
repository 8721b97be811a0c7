"""The resources service's nameko entrypoints: each calls one use case (use_cases/) with the
store and the directory lookup."""
from __future__ import annotations

from nameko.timer import timer

from services.common.messaging.event_handler import subscribe
from services.common.messaging.ingress_consumer import IngressOutcome, raw_consumer
from services.common.messaging.outbox import OutboxRelay
from services.common.messaging.rpc_client import BoundedRpcProxy
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import INGRESS_COMMITMENTS, DeclareTopology
from services.common.storage.redis_store import Store
from services.resources.store import ResourcesStore
from services.resources.use_cases import (
    commitments,
    ingress,
    needs,
    pools,
    projections,
    views,
)


class ResourcesService:
    name = "resources"

    topology = DeclareTopology()
    store: ResourcesStore = Store(ResourcesStore)
    relay = OutboxRelay("resources")
    assignment = BoundedRpcProxy("assignment")

    def directory_entry(self, kind: str, code: str) -> dict | None:
        """A township, village or department: this service's projection, else the owner's."""
        return self.store.directory.resolve(kind, code, self.assignment.directory_entry)

    @timer(interval=10)
    def sweep_need_holds(self) -> None:
        projections.give_back_need_holds(self.store)

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    # --- what this service keeps from events -------------------------------------------------

    @subscribe(projections.DIRECTORY_CONSUMER)
    def on_directory_event(self, body: dict) -> None:
        projections.apply_directory_event(self.store, body)

    @subscribe("resources.commitment-views")
    def on_commitment_event(self, body: dict) -> None:
        projections.apply_commitment_event(self.store, body)

    @raw_consumer(INGRESS_COMMITMENTS)
    def on_department_message(self, body: bytes, properties: dict) -> IngressOutcome:
        return ingress.receive_commitment(self.store, self.directory_entry, body, properties)

    # --- pools -------------------------------------------------------------------------------

    @rpc
    def add_to_pool(self, actor: str, department_code: str, body: dict,
                    idempotency_key: str | None = None) -> dict:
        return pools.add_to_pool(self.store, self.directory_entry, actor, department_code,
                                 body, idempotency_key)

    @rpc
    def get_pool(self, actor: str, department_code: str) -> dict:
        return pools.get_pool(self.store, self.directory_entry, actor, department_code)

    # --- commitments -------------------------------------------------------------------------

    @rpc
    def commit_resources(self, actor: str, body: dict, idempotency_key: str | None = None) -> dict:
        return commitments.commit_resources(self.store, self.directory_entry, actor, body,
                                            idempotency_key)

    @rpc
    def get_commitment(self, actor: str, commitment_id: str) -> dict:
        return views.get_commitment(self.store, actor, commitment_id)

    @rpc
    def deliver(self, actor: str, commitment_id: str, body: dict) -> dict:
        return commitments.deliver(self.store, actor, commitment_id, body)

    @rpc
    def confirm(self, actor: str, commitment_id: str) -> dict:
        return commitments.confirm(self.store, actor, commitment_id)

    @rpc
    def cancel(self, actor: str, commitment_id: str, body: dict) -> dict:
        return commitments.cancel(self.store, actor, commitment_id, body)

    @rpc
    def list_commitments(self, actor: str, village: str | None = None,
                         department: str | None = None, status: str | None = None,
                         after=None, limit=None) -> dict:
        return views.list_commitments(self.store, actor, village, department, status, after,
                                      limit)

    @rpc
    def village_resources(self, actor: str, village_code: str) -> dict:
        return views.village_resources(self.store, self.directory_entry, actor, village_code)

    # --- needs -------------------------------------------------------------------------------

    @rpc
    def raise_need(self, actor: str, village_code: str, body: dict,
                   idempotency_key: str | None = None) -> dict:
        return needs.raise_need(self.store, self.directory_entry, actor, village_code, body,
                                idempotency_key)

    @rpc
    def list_needs(self, actor: str, status: str | None = "open", township: str | None = None,
                   kind: str | None = None, after=None, limit=None) -> dict:
        return needs.list_needs(self.store, actor, status, township, kind, after, limit)

    @rpc
    def village_needs(self, actor: str, village_code: str) -> dict:
        return needs.village_needs(self.store, self.directory_entry, actor, village_code)
