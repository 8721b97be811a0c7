"""Routes of pooled resources, village needs and the commitment lifecycle, mixed into the
gateway. The resources service decides who may do what (services/resources/access.py, the
same rules for a department system's AMQP message): these pass the caller."""
from __future__ import annotations

from services.common.contract.http_bodies import (
    COMMITMENT_STATUSES,
    Cancellation,
    Commitment,
    CommitmentRequest,
    Delivery,
    Need,
    NeedIn,
    PoolAddition,
    PoolItem,
    VillageResources,
    page_of,
)
from services.gateway import access
from services.gateway.http import PAGING, Call, replayable, route


class ResourcesRoutes:
    # --- pools -------------------------------------------------------------------------------

    @route("POST", "/v1/departments/<code>/pool", "Add to a department's pool",
           allow=access.anyone, body=PoolAddition, response=PoolItem, status=201,
           tag="resources", idempotent=True, errors=(404,))
    def add_to_pool(self, call: Call, code: str):
        result = self.resources.add_to_pool(call.actor, code, call.raw_body,
                                            call.idempotency_key)
        return replayable(result, "item")

    @route("GET", "/v1/departments/<code>/pool", "Read a department's pool",
           allow=access.anyone, response=page_of(PoolItem), tag="resources", errors=(404,))
    def get_pool(self, call: Call, code: str):
        return {**self.resources.get_pool(call.actor, code), "next": None}

    # --- commitments -------------------------------------------------------------------------

    @route("POST", "/v1/commitments", "Commit resources to a village",
           allow=access.anyone, body=CommitmentRequest, response=Commitment,
           status=201, tag="resources", idempotent=True, errors=(409,))
    def commit_resources(self, call: Call):
        result = self.resources.commit_resources(call.actor, call.raw_body,
                                                 call.idempotency_key)
        return replayable(result, "commitment")

    @route("GET", "/v1/commitments", "List commitments", allow=access.anyone,
           response=page_of(Commitment), tag="resources",
           query={"village": "only to this village", "department": "only of this department",
                  "status": f"{', '.join(COMMITMENT_STATUSES[:-1])} or "
                            f"{COMMITMENT_STATUSES[-1]}", **PAGING})
    def list_commitments(self, call: Call):
        return self.resources.list_commitments(
            call.actor, call.query("village"), call.query("department"),
            call.query("status"), call.query("after"), call.query("limit"))

    @route("GET", "/v1/commitments/<commitment_id>", "Read a commitment", allow=access.anyone,
           response=Commitment, tag="resources", errors=(404,))
    def get_commitment(self, call: Call, commitment_id: str):
        return self.resources.get_commitment(call.actor, commitment_id)

    @route("POST", "/v1/commitments/<commitment_id>/deliver",
           "Record a delivery (a smaller quantity gives the rest back to the pool)",
           allow=access.anyone, body=Delivery, response=Commitment, tag="resources",
           errors=(404, 409))
    def deliver(self, call: Call, commitment_id: str):
        return self.resources.deliver(call.actor, commitment_id, call.raw_body)

    @route("POST", "/v1/commitments/<commitment_id>/confirm",
           "Confirm a delivery (the township's receipt)", allow=access.anyone,
           response=Commitment, tag="resources", errors=(404, 409))
    def confirm(self, call: Call, commitment_id: str):
        return self.resources.confirm(call.actor, commitment_id)

    @route("POST", "/v1/commitments/<commitment_id>/cancel",
           "Cancel a commitment before delivery (its reservation goes back to the pool)",
           allow=access.anyone, body=Cancellation, response=Commitment, tag="resources",
           errors=(404, 409))
    def cancel(self, call: Call, commitment_id: str):
        return self.resources.cancel(call.actor, commitment_id, call.raw_body)

    @route("GET", "/v1/villages/<code>/resources",
           "What a village has been committed, delivered and confirmed, and by whom",
           allow=access.anyone, response=VillageResources, tag="resources", errors=(404,))
    def village_resources(self, call: Call, code: str):
        return self.resources.village_resources(call.actor, code)

    # --- needs -------------------------------------------------------------------------------

    @route("POST", "/v1/villages/<code>/needs", "Raise a village's need", allow=access.anyone,
           body=NeedIn, response=Need, status=201, tag="needs", idempotent=True,
           errors=(404,))
    def raise_need(self, call: Call, code: str):
        return replayable(self.resources.raise_need(call.actor, code, call.raw_body,
                                                    call.idempotency_key), "need")

    @route("GET", "/v1/needs", "Needs, hardest villages first", allow=access.anyone,
           response=page_of(Need), tag="needs",
           query={"status": "open (default), covered or unfulfilled",
                  "township": "only this township's", "kind": "only of this kind", **PAGING})
    def list_needs(self, call: Call):
        return self.resources.list_needs(call.actor, call.query("status"),
                                         call.query("township"), call.query("kind"),
                                         call.query("after"), call.query("limit"))

    @route("GET", "/v1/villages/<code>/needs", "A village's needs, whatever their status",
           allow=access.anyone, response=page_of(Need), tag="needs", errors=(404,))
    def village_needs(self, call: Call, code: str):
        return self.resources.village_needs(call.actor, code)
