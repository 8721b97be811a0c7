"""The resources service's nameko entrypoints."""
from __future__ import annotations

from services.common import events
from services.common.codes import is_department_code
from services.common.consumer import subscribe
from services.common.events import Envelope, utc_now
from services.common.fingerprints import request_fingerprint
from services.common.ids import new_id
from services.common.outbox import OutboxRelay
from services.common.problems import invalid, not_found, validated
from services.common.quantities import to_hundredths
from services.common.redis_provider import Store
from services.common.rpc import BoundedRpcProxy
from services.common.schemas import CommitmentRequest, PoolAddition
from services.common.service_kit import DeclareTopology, rpc
from services.resources.store import ResourcesStore


class ResourcesService:
    name = "resources"

    topology = DeclareTopology()
    store: ResourcesStore = Store(ResourcesStore)
    relay = OutboxRelay("resources")
    assignment = BoundedRpcProxy("assignment")

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    @subscribe("resources.directory")
    def on_directory_event(self, body: dict) -> None:
        self.store.directory.apply(Envelope.model_validate(body), "resources.directory")

    def _directory(self, kind: str, code: str) -> dict | None:
        return self.store.directory.resolve(kind, code, self.assignment.directory_entry)

    def _require_department(self, code: str) -> dict:
        if not is_department_code(code):
            raise invalid("a department code matches ^[a-z][a-z0-9-]{1,31}$", ["path", "code"])
        department = self._directory("department", code)
        if department is None:
            raise not_found("department", code)
        return department

    # --- pools -------------------------------------------------------------------------------

    @rpc
    def add_to_pool(self, department_code: str, body: dict,
                    idempotency_key: str | None = None) -> dict:
        """Returns {"item": pool item, "replayed": bool}."""
        self._require_department(department_code)
        addition = validated(PoolAddition, body)
        event = events.make_event(
            "resources.pool_increased",
            events.PoolIncreased(department_code=department_code, kind=addition.kind,
                                 unit=addition.unit, quantity=addition.quantity,
                                 note=addition.note),
        )
        item, replayed = self.store.add_to_pool(
            department_code, addition.kind, addition.unit, to_hundredths(addition.amount), event,
            request_fingerprint(body), idempotency_key,
        )
        return {"item": item, "replayed": replayed}

    @rpc
    def get_pool(self, department_code: str) -> dict:
        self._require_department(department_code)
        return {"items": self.store.pool(department_code)}

    # --- commitments -------------------------------------------------------------------------

    @rpc
    def commit_resources(self, body: dict, idempotency_key: str | None = None) -> dict:
        """Reserve from the department's pool for a village; {"commitment", "replayed"}."""
        request = validated(CommitmentRequest, body)
        if self._directory("department", request.department_code) is None:
            raise invalid(f"department {request.department_code} is not registered",
                          ["body", "department_code"], type="unknown-department")
        village = self._directory("village", request.village_code)
        if village is None:
            raise invalid(f"village {request.village_code} is not registered",
                          ["body", "village_code"], type="unknown-village")
        if request.need_id is not None:
            # Village needs arrive with the needs ledger; until then no need id can exist.
            raise invalid(f"need {request.need_id} does not exist", ["body", "need_id"],
                          type="unknown-need")
        commitment = {
            "id": new_id("cmt"),
            "status": "committed",
            "department_code": request.department_code,
            "village_code": request.village_code,
            "township_code": village["township_code"],
            "kind": request.kind,
            "unit": request.unit,
            "quantity": request.quantity,
            "need_id": request.need_id,
            "note": request.note,
            "created_at": utc_now(),
        }
        event = events.make_event(
            "resources.commitment_created",
            events.CommitmentCreated(**commitment),
            township_code=village["township_code"],
            village_code=request.village_code,
        )
        stored, replayed = self.store.commit(commitment, to_hundredths(request.amount), event,
                                             request_fingerprint(body), idempotency_key)
        return {"commitment": stored, "replayed": replayed}

    @rpc
    def get_commitment(self, commitment_id: str) -> dict:
        commitment = self.store.commitment(commitment_id)
        if commitment is None:
            raise not_found("commitment", commitment_id)
        return commitment


