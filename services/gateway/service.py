"""The gateway: every public HTTP endpoint, each a thin call to the service that owns it."""
from __future__ import annotations

import eventlet
from nameko.exceptions import RemoteError
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.common.config import SettingsProvider, settings_of
from services.common.contract.http_bodies import (
    ApiKey,
    ApiKeyRequest,
    Department,
    DepartmentIn,
    Health,
    Township,
    TownshipIn,
    Village,
    VillageIn,
    page_of,
)
from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, not_found
from services.common.messaging.rpc_client import BoundedRpcProxy
from services.common.storage.redis_store import STORE_DOWN, connect
from services.gateway import access
from services.gateway.http import PAGING, Call, bearer_token, json_response, route
from services.gateway.keys import ApiKeys
from services.gateway.metrics import MetricsProvider
from services.gateway.notifications_routes import NotificationsRoutes
from services.gateway.openapi import build_openapi
from services.gateway.programme_routes import ProgrammeRoutes
from services.gateway.resources_routes import ResourcesRoutes

DOMAIN_SERVICES = ("assignment", "resources", "notifications")


class KeysProvider(DependencyProvider):
    def setup(self):
        settings = settings_of(self.container)
        self.keys = ApiKeys(connect(settings.redis_url), settings.admin_token)

    def get_dependency(self, worker_ctx):
        return self.keys


def _created(result: dict, name: str):
    return (201 if result["created"] else 200), result[name]


class GatewayService(ProgrammeRoutes, ResourcesRoutes, NotificationsRoutes):
    name = "gateway"

    settings = SettingsProvider()
    keys: ApiKeys = KeysProvider()
    metrics = MetricsProvider()
    assignment = BoundedRpcProxy("assignment")
    resources = BoundedRpcProxy("resources")
    notifications = BoundedRpcProxy("notifications")

    def authenticate(self, request) -> Principal:
        token = bearer_token(request)
        if token is None:
            raise Problem(401, "unauthorized", "send `Authorization: Bearer <api key>`")
        principal, wait = self.keys.authenticate(token, self.settings.rate_limit)
        if principal is None:
            raise Problem(401, "unauthorized", "unknown or revoked api key")
        if wait:
            raise Problem(429, "rate-limited",
                          f"more than {self.settings.rate_limit} requests a second with this "
                          "key; slow down", headers={"Retry-After": str(wait)})
        return Principal.parse(principal)

    # --- operations --------------------------------------------------------------------------

    @route("GET", "/health", "Report whether every service answers", allow=None,
           response=Health, errors=(503,))
    def health(self, call: Call):
        def check(name):
            try:
                getattr(self, name).call_within(2.0, "health")
                return name, None
            except Problem as problem:  # 503: it did not answer, or its Redis did not
                return name, problem.detail
            except RemoteError as exc:  # its check failed some other way
                return name, f"the {name} service's health check failed: {exc.exc_type}"

        def own_redis():
            try:
                self.keys.redis.ping()
                return None
            except STORE_DOWN:
                return "the gateway's Redis does not answer (API keys, rate limits)"

        causes = dict(eventlet.GreenPool().imap(check, DOMAIN_SERVICES))
        causes["gateway"] = own_redis()
        causes = {name: cause for name, cause in causes.items() if cause}
        services = {name: "down" if name in causes else "ok" for name in DOMAIN_SERVICES}
        if not causes:
            return 200, {"status": "ok", "services": services}
        return 503, {"status": "degraded", "services": services, "causes": causes}

    @route("GET", "/metrics", "Prometheus metrics", allow=None)
    def prometheus(self, call: Call):
        body, content_type = self.metrics.exposition()
        return Response(body, status=200, content_type=content_type)

    @route("GET", "/openapi.json", "This API, as OpenAPI 3.1", allow=None)
    def openapi(self, call: Call):
        return json_response(build_openapi())

    # --- api keys ----------------------------------------------------------------------------

    @route("POST", "/v1/api-keys", "Create an API key", allow=access.admin_only, body=ApiKeyRequest,
           response=ApiKey, status=201, tag="keys")
    def create_api_key(self, call: Call):
        return 201, self.keys.create(call.body.principal)

    @route("DELETE", "/v1/api-keys/<key_id>", "Revoke an API key", allow=access.admin_only,
           status=204, tag="keys", errors=(404,))
    def revoke_api_key(self, call: Call, key_id: str):
        if not self.keys.revoke(key_id):
            raise not_found("api key", key_id)
        return Response(status=204)

    # --- directory ---------------------------------------------------------------------------

    @route("PUT", "/v1/townships/<code>", "Register or update a township", allow=access.admin_only,
           body=TownshipIn, response=Township, tag="directory")
    def put_township(self, call: Call, code: str):
        return _created(self.assignment.put_township(code, call.raw_body), "township")

    @route("GET", "/v1/townships", "List townships", allow=access.anyone,
           response=page_of(Township), tag="directory", query=PAGING)
    def list_townships(self, call: Call):
        return self.assignment.list_townships(call.actor, call.query("after"),
                                              call.query("limit"))

    @route("GET", "/v1/townships/<code>", "Read a township", allow=access.anyone,
           response=Township, tag="directory", errors=(404,))
    def get_township(self, call: Call, code: str):
        return self.assignment.get_township(call.actor, code)

    @route("PUT", "/v1/villages/<code>", "Register or update a village", allow=access.admin_only,
           body=VillageIn, response=Village, tag="directory")
    def put_village(self, call: Call, code: str):
        return _created(self.assignment.put_village(code, call.raw_body), "village")

    @route("GET", "/v1/villages", "List villages", allow=access.anyone,
           response=page_of(Village), tag="directory",
           query={"township": "only this township's villages", **PAGING})
    def list_villages(self, call: Call):
        return self.assignment.list_villages(call.actor, call.query("township"),
                                             call.query("after"), call.query("limit"))

    @route("GET", "/v1/villages/<code>", "Read a village", allow=access.anyone, response=Village,
           tag="directory", errors=(404,))
    def get_village(self, call: Call, code: str):
        return self.assignment.get_village(call.actor, code)

    @route("PUT", "/v1/departments/<code>", "Register or update a department",
           allow=access.admin_only, body=DepartmentIn, response=Department, tag="directory")
    def put_department(self, call: Call, code: str):
        return _created(self.assignment.put_department(code, call.raw_body), "department")

    @route("GET", "/v1/departments", "List departments", allow=access.anyone,
           response=page_of(Department), tag="directory", query=PAGING)
    def list_departments(self, call: Call):
        return self.assignment.list_departments(call.query("after"), call.query("limit"))

    @route("GET", "/v1/departments/<code>", "Read a department", allow=access.anyone,
           response=Department, tag="directory", errors=(404,))
    def get_department(self, call: Call, code: str):
        return self.assignment.get_department(code)
