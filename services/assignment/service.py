"""The assignment service's nameko entrypoints: each is one call to a use case
(`use_cases/`). Entrypoints that act on the programme's records receive the caller (`actor`, a
principal string) from the gateway, because who may act depends on the records involved."""
from __future__ import annotations

from services.assignment.store import AssignmentStore
from services.assignment.use_cases import (
    assignments,
    cadres,
    directory,
    inspections,
    problems,
    work,
)
from services.common.messaging.outbox import OutboxRelay
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import DeclareTopology
from services.common.storage.redis_store import Store


class AssignmentService:
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
        return directory.register_township(self.store, code, body)

    @rpc
    def put_village(self, code: str, body: dict) -> dict:
        return directory.register_village(self.store, code, body)

    @rpc
    def put_department(self, code: str, body: dict) -> dict:
        return directory.register_department(self.store, code, body)

    @rpc
    def get_township(self, actor: str, code: str) -> dict:
        return directory.get_township(self.store, actor, code)

    @rpc
    def get_village(self, actor: str, code: str) -> dict:
        return directory.get_village(self.store, actor, code)

    @rpc
    def get_department(self, code: str) -> dict:
        return directory.get_department(self.store, code)

    @rpc
    def list_townships(self, actor: str, after: str | None = None, limit=None) -> dict:
        return directory.list_townships(self.store, actor, after, limit)

    @rpc
    def list_villages(self, actor: str, township: str | None = None, after: str | None = None,
                      limit=None) -> dict:
        return directory.list_villages(self.store, actor, township, after, limit)

    @rpc
    def list_departments(self, after: str | None = None, limit=None) -> dict:
        return directory.list_departments(self.store, after, limit)

    @rpc
    def directory_entry(self, kind: str, code: str) -> dict | None:
        """The full stored record (with revision), for other services' projections."""
        return directory.directory_entry(self.store, kind, code)

    # --- cadres ------------------------------------------------------------------------------

    @rpc
    def register_cadre(self, actor: str, body: dict, idempotency_key: str | None = None) -> dict:
        return cadres.register_cadre(self.store, actor, body, idempotency_key)

    @rpc
    def get_cadre(self, actor: str, cadre_id: str) -> dict:
        return cadres.get_cadre(self.store, actor, cadre_id)

    @rpc
    def list_cadres(self, actor: str, department: str | None = None, after=None,
                    limit=None) -> dict:
        return cadres.list_cadres(self.store, actor, department, after, limit)

    # --- assignments -------------------------------------------------------------------------

    @rpc
    def start_assignment(self, actor: str, body: dict,
                         idempotency_key: str | None = None) -> dict:
        return assignments.start_assignment(self.store, actor, body, idempotency_key)

    @rpc
    def end_assignment(self, actor: str, assignment_id: str, body: dict) -> dict:
        return assignments.end_assignment(self.store, actor, assignment_id, body)

    @rpc
    def village_team(self, actor: str, village_code: str) -> dict:
        return assignments.village_team(self.store, actor, village_code)

    @rpc
    def cadre_assignments(self, actor: str, cadre_id: str, after=None, limit=None) -> dict:
        return assignments.cadre_assignments(self.store, actor, cadre_id, after, limit)

    # --- work logs ---------------------------------------------------------------------------

    @rpc
    def log_work(self, actor: str, assignment_id: str, body: dict,
                 idempotency_key: str | None = None) -> dict:
        return work.log_work(self.store, actor, assignment_id, body, idempotency_key)

    @rpc
    def village_work_summary(self, actor: str, village_code: str) -> dict:
        return work.village_work_summary(self.store, actor, village_code)

    @rpc
    def cadre_work_summary(self, actor: str, cadre_id: str) -> dict:
        return work.cadre_work_summary(self.store, actor, cadre_id)

    # --- problems ledger (问题清单) ------------------------------------------------------------

    @rpc
    def report_problem(self, actor: str, village_code: str, body: dict,
                       idempotency_key: str | None = None) -> dict:
        return problems.report_problem(self.store, actor, village_code, body, idempotency_key)

    @rpc
    def list_problems(self, actor: str, village_code: str, status: str | None = None,
                      after=None, limit=None) -> dict:
        return problems.list_problems(self.store, actor, village_code, status, after, limit)

    @rpc
    def resolve_problem(self, actor: str, problem_id: str, body: dict) -> dict:
        return problems.resolve_problem(self.store, actor, problem_id, body)

    # --- inspections (暗访暗查) -----------------------------------------------------------------

    @rpc
    def plan_inspection(self, actor: str, body: dict,
                        idempotency_key: str | None = None) -> dict:
        return inspections.plan_inspection(self.store, actor, body, idempotency_key)

    @rpc
    def file_report(self, actor: str, inspection_id: str, body: dict) -> dict:
        return inspections.file_report(self.store, actor, inspection_id, body)

    @rpc
    def get_inspection(self, actor: str, inspection_id: str) -> dict:
        return inspections.get_inspection(self.store, actor, inspection_id)

    @rpc
    def list_inspections(self, actor: str, village: str | None = None, after=None,
                         limit=None) -> dict:
        return inspections.list_inspections(self.store, actor, village, after, limit)
