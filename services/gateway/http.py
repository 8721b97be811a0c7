"""HTTP plumbing of the gateway: routes that authenticate, parse and validate before the
handler runs, and answer every failure (unknown path included) as application/problem+json."""
from __future__ import annotations

import functools
import json
import logging
import re
import socket
import time
from dataclasses import dataclass, field

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, unavailable, validated
from services.common.storage.redis_store import STORE_DOWN
from services.gateway.access import Rule

log = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
PAGING = {"limit": "page size, 1 to 500 (default 50)", "after": "cursor from `next`"}
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
MAX_BODY_BYTES = 1024 * 1024  # CONTRACT §1: 413 over 1 MiB


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False)
    return Response(body, status=status, headers=headers, content_type=JSON)


def replayable(result: dict, name: str) -> Response:
    """201 with the created record; a replayed Idempotency-Key gets the first response, the
    same body and the same 201, marked by a header."""
    headers = {"Idempotent-Replayed": "true"} if result["replayed"] else None
    return json_response(result[name], 201, headers)


def problem_response(problem: Problem, headers: dict | None = None) -> Response:
    body = json.dumps(problem.to_dict(), ensure_ascii=False)
    return Response(body, status=problem.status, headers=headers, content_type=PROBLEM)


class ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, but an unknown path or method is a problem, not an HTML page."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.code, "http-error")
            response = problem_response(Problem(exc.code or 500, slug, exc.description or ""))
        return response(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self):
        return ProblemWsgiApp(self)

    def process_request(self, sock, address):
        # eventlet writes a response's head and body separately: with Nagle's algorithm on,
        # the body waits for the client's delayed ACK of the head, ~40 ms on every large reply
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().process_request(sock, address)


class ApiEntrypoint(HttpRequestHandler):
    server = ProblemWebServer()

    def response_from_exception(self, exc):
        # Reached only if the worker itself could not run; handlers answer their own errors.
        log.error("request failed before its handler ran: %r", exc)
        return problem_response(Problem(500, "internal-error", "the request could not be handled"))


api_entrypoint = ApiEntrypoint.decorator


@dataclass(frozen=True)
class Call:
    """What a handler receives besides `self`: who calls, with what, validated."""

    request: Request
    principal: Principal | None
    path: dict
    body: BaseModel | None
    raw_body: dict | None

    @property
    def idempotency_key(self) -> str | None:
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not IDEMPOTENCY_KEY.match(key):
            raise Problem(422, "validation-failed",
                          "Idempotency-Key must be 1 to 255 visible ASCII characters",
                          errors=[{"loc": ["header", "Idempotency-Key"], "msg": "invalid"}])
        return key

    @property
    def actor(self) -> str:
        """The caller as the services take it (`department:agri`), to decide on records."""
        return str(self.principal)

    def query(self, name: str) -> str | None:
        return self.request.args.get(name)


@dataclass
class RouteSpec:
    method: str
    path: str  # werkzeug form, /v1/townships/<code>
    summary: str
    allow: Rule | None  # None: no authentication at all
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "operations"
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    idempotent: bool = False  # honours Idempotency-Key
    # False for what must leave no trace a stranger can read: /metrics needs no key, and a
    # count of planned inspections would announce unannounced ones.
    metered: bool = True
    errors: tuple[int, ...] = ()

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.path)


ROUTES: list[RouteSpec] = []


def _read_body(request: Request) -> bytes:
    too_large = f"the request body exceeds {MAX_BODY_BYTES} bytes"
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Problem(413, "body-too-large", too_large)
    data = request.stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise Problem(413, "body-too-large", too_large)
    return data


def _parse_json(data: bytes):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(400, "malformed-json", f"the request body is not valid JSON: {exc}") from None


def route(method: str, path: str, summary: str, allow: Rule | None, **options):
    """Declare an endpoint: registers it for /openapi.json and wraps the handler so that it
    runs only for an allowed, authenticated caller with a valid body."""
    spec = RouteSpec(method, path, summary, allow, **options)
    ROUTES.append(spec)

    def decorate(handler):
        @functools.wraps(handler)
        def endpoint(self, request: Request, **path_values):
            started = time.perf_counter()
            try:
                response = serve(self, spec, handler, request, path_values)
            except Problem as problem:
                response = problem_response(problem, problem.headers)
            except STORE_DOWN as exc:  # the gateway's own Redis: API keys, rate counts
                log.warning("%s %s: the gateway's Redis does not answer (%s)", method, path, exc)
                response = problem_response(
                    unavailable("the gateway's Redis does not answer; retry later"))
            except Exception:
                log.exception("unexpected failure in %s %s", method, path)
                response = problem_response(
                    Problem(500, "internal-error", "an unexpected error occurred; it was logged"))
            if spec.metered:
                self.metrics.observe(spec, response.status_code, time.perf_counter() - started)
            return response

        return api_entrypoint(method, path)(endpoint)

    return decorate


def serve(service, spec: RouteSpec, handler, request: Request, path_values: dict) -> Response:
    """Authenticate, authorise, parse and validate, then run the handler."""
    principal = None
    if spec.allow is not None:
        principal = service.authenticate(request)
    raw_body = None
    body = None
    if spec.body is not None:
        data = _read_body(request)
        raw_body = _parse_json(data) if data.strip() else {}
        body = validated(spec.body, raw_body)
    if spec.allow is not None and not spec.allow(principal):
        raise Problem(403, "forbidden", f"{principal} may not call {spec.method} "
                                        f"{spec.openapi_path} ({spec.summary})")
    result = handler(service, Call(request, principal, path_values, body, raw_body),
                     **path_values)
    if isinstance(result, Response):
        return result
    status, payload = result if isinstance(result, tuple) else (spec.status, result)
    return json_response(payload, status)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
