"""The docs name only what the code has, and list everything the code has, for four things a
reader relies on: HTTP endpoints, event types, environment variables and Redis keys.

Where each is listed in full (the test compares both ways):
- endpoints: the table under "## Endpoints" in docs/api.md, against the gateway's route table
  (what /openapi.json is generated from);
- event types: the "### `<type>`" headings of docs/events.md, against `EVENT_TYPES`;
- environment variables: the table under "## Configuration" in README.md, against the
  settings' environment names (services/common/config.py);
- Redis keys: the table under "## Redis keys" in docs/architecture.md, against the key
  patterns the code builds (string constants, f-strings and the functions that make them, in
  services/**/*.py, and keys concatenated in services/**/*.lua), compared as patterns:
  `resources:{dept:<code>}:pool:<kind>` is `resources:{dept:<>}:pool:<>`.
Everywhere else in the docs (README.md and docs/*.md), each endpoint, event type, exchange or
queue, environment variable, Redis key and file of the repository named in `code` must exist.
"""
from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SERVICES = ROOT / "services"
CODE_DIRS = ("services", "scripts", "bench", "tests", "examples")

ENDPOINT = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH) (/[^\s`?#]*)")
EVENT_NAME = re.compile(r"(assignment|resources|notifications)\.[a-z_]+")
EXCHANGE_OR_QUEUE = re.compile(r"(guabang|resources|notifications)\.[a-z.-]+")
ENV_NAME = re.compile(r"(GUABANG|AMQP|REDIS|RABBIT|RABBITMQ|BENCH)_[A-Z0-9_]+")
KEY_PREFIXES = ("assignment", "resources", "notifications", "gateway", "processed")
KEY_SPAN = re.compile(rf"(<service>|{'|'.join(KEY_PREFIXES)}):(<[^>]*>|[^\s<])*")
ELLIPSIS = "…"


# --- reading the docs --------------------------------------------------------------------------

def text_of(path: Path) -> str:
    """The document without its fenced code blocks (examples, not claims about names)."""
    return re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)


def spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def all_spans() -> list[tuple[str, str]]:
    return [(path.name, span) for path in DOCS for span in spans(text_of(path))]


def section(path: Path, heading: str) -> str:
    """The text under `heading` (a `## ` line) up to the next heading of that level."""
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", text_of(path),
                      re.MULTILINE | re.DOTALL)
    assert match, f"{path.name} has no section {heading!r}"
    return match.group(1)


def first_cells(table_text: str) -> list[str]:
    """The code spans in the first cell of each row of the markdown tables in `table_text`."""
    cells = [line.split("|")[1] for line in table_text.splitlines()
             if line.startswith("|") and not re.match(r"^\|[-| :]+\|$", line)]
    return [span for cell in cells for span in spans(cell)]


# --- endpoints ---------------------------------------------------------------------------------

def normal_endpoint(method: str, path: str) -> str:
    return f"{method} {re.sub(r'{[^}]*}', '{}', path.rstrip('/') or '/')}"


def routes() -> set[str]:
    import services.gateway.service  # noqa: F401  registers every route
    from services.gateway.http import ROUTES

    return {normal_endpoint(spec.method, spec.openapi_path) for spec in ROUTES}


def endpoints_in(text: str) -> set[str]:
    return {normal_endpoint(method, path) for span in spans(text)
            for method, path in ENDPOINT.findall(span) if ELLIPSIS not in path}


def test_the_endpoint_table_of_api_md_lists_exactly_the_gateways_routes():
    listed = endpoints_in("\n".join(f"`{s}`" for s in first_cells(
        section(ROOT / "docs" / "api.md", "## Endpoints"))))
    assert sorted(listed - routes()) == [], "listed in docs/api.md, but no such route"
    assert sorted(routes() - listed) == [], "routes missing from docs/api.md's endpoint table"


def test_every_endpoint_the_docs_name_exists():
    """Also with real values in the path: `GET /v1/villages/520121101201/team`."""
    known = [re.escape(route).replace(r"\{\}", "[^/]+") for route in routes()]
    named = {(doc, endpoint) for doc, span in all_spans() for endpoint in endpoints_in(f"`{span}`")}
    assert sorted((doc, endpoint) for doc, endpoint in named
                  if not any(re.fullmatch(route, endpoint) for route in known)) == []


# --- event types, exchanges and queues ---------------------------------------------------------

def event_types() -> set[str]:
    from services.common.contract.events import EVENT_TYPES

    return set(EVENT_TYPES)


def exchanges_and_queues() -> set[str]:
    from kombu import Exchange, Queue

    from services.common.messaging import topology

    names = {value.name for value in vars(topology).values()
             if isinstance(value, (Exchange, Queue)) and value.name}
    for value in vars(topology).values():
        if isinstance(value, dict):
            names |= {key for key in value if isinstance(key, str)}
    return names


def test_the_event_headings_of_events_md_are_exactly_the_event_types():
    headings = set(re.findall(r"^### `([a-z_.]+)`", text_of(ROOT / "docs" / "events.md"),
                              re.MULTILINE))
    assert sorted(headings - event_types()) == [], "documented, but no such event type"
    assert sorted(event_types() - headings) == [], "event types missing from docs/events.md"


def test_every_event_type_exchange_and_queue_the_docs_name_exists():
    known = event_types() | exchanges_and_queues()
    unknown = {(doc, span) for doc, span in all_spans()
               if (EVENT_NAME.fullmatch(span) or EXCHANGE_OR_QUEUE.fullmatch(span))
               and span not in known}
    assert sorted(unknown) == []


# --- environment variables ---------------------------------------------------------------------

def read_from_the_environment() -> set[str]:
    """What services/ and scripts/ read with os.environ / os.getenv, by name."""
    names = set()
    for path in [*SERVICES.rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                    "os.environ.get", "os.getenv") and node.args:
                argument = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                argument = node.slice
            else:
                continue
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
    return names


def code_text() -> str:
    files = [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py")] + [ROOT / "Makefile"]
    return "\n".join(p.read_text() for p in files)


def test_the_configuration_table_lists_exactly_the_settings_the_code_declares():
    from services.common.config import Settings

    declared = {field.validation_alias for field in Settings.model_fields.values()}
    listed = set(first_cells(section(ROOT / "README.md", "## Configuration")))
    assert sorted(listed - declared) == [], "listed, but no such setting"
    assert sorted(declared - listed) == [], "settings missing from the table"


def test_every_variable_the_services_and_scripts_read_is_in_the_readme():
    readme = text_of(ROOT / "README.md")
    assert sorted(name for name in read_from_the_environment()
                  if f"`{name}`" not in readme) == []


def test_every_environment_variable_the_docs_name_is_read_by_the_code():
    code = code_text()
    named = {(doc, span) for doc, span in all_spans() if ENV_NAME.fullmatch(span)}
    assert sorted((doc, name) for doc, name in named
                  if f'"{name}"' not in code and f"{name}=" not in code) == []


# --- Redis keys --------------------------------------------------------------------------------

class KeyPatterns:
    """The strings the code builds, as patterns: what the code cannot know (an argument, an
    attribute) is `<>`. A name is followed to the module constant, local variable or function
    (with one `return`) it stands for, also across `from services… import`."""

    def __init__(self):
        self.modules: dict[str, ast.Module] = {}
        for path in SERVICES.rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            self.modules[name.removesuffix(".__init__")] = ast.parse(path.read_text())
        self.loop_names = self._loop_names()
        self.found: set[str] = set()
        for module, tree in self.modules.items():
            self._collect(module, tree)

    def _loop_names(self) -> set[int]:
        """Constants that only ever name a background loop to wake (`wakes_on = X`,
        `wake(X)`): they look like keys but never reach Redis. Their values' node ids."""
        uses: dict[str, int] = {}
        waking: dict[str, int] = {}
        for tree in self.modules.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    uses[node.id] = uses.get(node.id, 0) + 1
                names = []
                if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "wake":
                    names = [a.id for a in node.args if isinstance(a, ast.Name)]
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and any(
                        ast.unparse(t).split(".")[-1] == "wakes_on" for t in node.targets):
                    names = [node.value.id]
                for name in names:
                    waking[name] = waking.get(name, 0) + 1
        only_waking = {name for name, count in waking.items() if count == uses.get(name)}
        return {id(node.value) for tree in self.modules.values() for node in tree.body
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in only_waking for t in node.targets)}

    def _collect(self, module: str, tree: ast.Module) -> None:
        nested = set(self.loop_names)
        for node in ast.walk(tree):
            if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.FormattedValue)):
                nested |= {id(child) for child in ast.iter_child_nodes(node)}
        functions = [n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        owner = {id(n): f for f in functions for n in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in nested or not self._is_text(node):
                continue
            local = self._locals(owner.get(id(node)))
            self.found |= self.evaluate(node, module, local)

    @staticmethod
    def _is_text(node) -> bool:
        return (isinstance(node, ast.JoinedStr)
                or (isinstance(node, ast.Constant) and isinstance(node.value, str))
                or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)))

    @staticmethod
    def _locals(function) -> dict[str, ast.expr]:
        if function is None:
            return {}
        assigned: dict[str, list] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
        return {name: values[0] for name, values in assigned.items() if len(values) == 1}

    def _definition(self, module: str, name: str, depth: int = 0):
        """The module-level constant or function `name` in `module`, following imports."""
        tree = self.modules.get(module)
        if tree is None or depth > 5:
            return None, None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return module, node.value
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return module, node
            if isinstance(node, ast.ImportFrom) and node.module and any(
                    (alias.asname or alias.name) == name for alias in node.names):
                original = next(a.name for a in node.names if (a.asname or a.name) == name)
                return self._definition(node.module, original, depth + 1)
        return None, None

    def evaluate(self, node, module: str, local: dict, depth: int = 0) -> set[str]:
        if depth > 8:
            return {"<>"}
        if isinstance(node, ast.Constant):
            return {node.value} if isinstance(node.value, str) else {"<>"}
        if isinstance(node, ast.JoinedStr):
            parts = [self.evaluate(v, module, local, depth + 1) for v in node.values]
            return {"".join(choice) for choice in itertools.product(*parts)}
        if isinstance(node, ast.FormattedValue):
            return self.evaluate(node.value, module, local, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.evaluate(node.left, module, local, depth + 1)
            right = self.evaluate(node.right, module, local, depth + 1)
            return {a + b for a in left for b in right}
        if isinstance(node, ast.IfExp):
            return (self.evaluate(node.body, module, local, depth + 1)
                    | self.evaluate(node.orelse, module, local, depth + 1))
        if isinstance(node, ast.Name):
            if node.id in local:
                return self.evaluate(local[node.id], module, {}, depth + 1)
            where, definition = self._definition(module, node.id)
            if isinstance(definition, ast.expr):
                return self.evaluate(definition, where, {}, depth + 1)
            return {"<>"}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            where, definition = self._definition(module, node.func.id)
            if isinstance(definition, ast.FunctionDef):
                returns = [n.value for n in ast.walk(definition)
                           if isinstance(n, ast.Return) and n.value is not None]
                if len(returns) == 1:
                    return self.evaluate(returns[0], where, self._locals(definition),
                                         depth + 1)
        return {"<>"}


def lua_key_patterns() -> set[str]:
    """Keys a script builds itself: the first argument of a redis.call, concatenated."""
    found = set()
    for path in SERVICES.rglob("*.lua"):
        for expression in re.findall(r"redis\.call\(\s*'\w+'\s*,\s*([^,)]+)",
                                     path.read_text()):
            parts = [p.strip() for p in expression.split("..")]
            found.add("".join(p[1:-1] if p[:1] in "'\"" else "<>" for p in parts))
    return found


def normal_key(pattern: str) -> str:
    return re.sub(r"<[^>]*>", "<>", pattern)


def is_key(pattern: str) -> bool:
    """Built like a Redis key of ours: a service's prefix (or a prefix the code passes in)
    then `:` and at least one word of its own."""
    if not re.fullmatch(r"[a-z0-9:{}<>|_-]+", pattern) or ":" not in pattern:
        return False
    if not (pattern.startswith(tuple(f"{p}:" for p in KEY_PREFIXES)) or pattern.startswith("<>:")):
        return False
    return bool(re.search(r"[a-z]", pattern.replace("<>", "")))


def code_keys() -> set[str]:
    return {p for p in KeyPatterns().found | lua_key_patterns() if is_key(normal_key(p))}


def as_regex(code_pattern: str) -> str:
    return "".join(".+" if part == "<>" else re.escape(part)
                   for part in re.split(r"(<>)", normal_key(code_pattern)))


def built_by(code_pattern: str, documented: str) -> bool:
    """`documented` is this pattern, or a key whose name starts with it (a slot's prefix)."""
    regex = as_regex(code_pattern)
    return bool(re.fullmatch(regex, documented) or re.fullmatch(regex + ":.+", documented))


@pytest.fixture(scope="module")
def keys_in_code() -> set[str]:
    return code_keys()


def key_table() -> set[str]:
    rows = first_cells(section(ROOT / "docs" / "architecture.md", "## Redis keys"))
    return {normal_key(span) for span in rows if KEY_SPAN.fullmatch(span)}


def test_the_code_builds_its_keys_where_this_test_finds_them(keys_in_code):
    for expected in ("gateway:api-keys:by-hash", "<>:outbox",
                     "<>:idempotency:<>:<>", "<>:webhook:<>:health"):
        assert expected in {normal_key(k) for k in keys_in_code}, expected


def test_every_key_in_the_table_is_one_the_code_builds(keys_in_code):
    assert sorted(doc for doc in key_table()
                  if not any(re.fullmatch(as_regex(code), doc) for code in keys_in_code)) == []


def test_every_key_the_code_builds_is_in_the_table(keys_in_code):
    table = key_table()
    assert sorted(normal_key(code) for code in keys_in_code
                  if not any(built_by(code, doc) for doc in table)) == []


def test_every_key_the_docs_name_is_one_the_code_builds(keys_in_code):
    named = {(doc, normal_key(span)) for doc, span in all_spans()
             if KEY_SPAN.fullmatch(span) and ELLIPSIS not in span and ":" in span}
    assert sorted((doc, key) for doc, key in named
                  if not any(re.fullmatch(as_regex(code), key) for code in keys_in_code)) == []


# --- files the docs name ----------------------------------------------------------------------

FILE_PATH = re.compile(r"(?:services|tests|scripts|bench|examples|deploy|docs)/[\w./-]*\w")


def test_every_file_the_docs_name_exists():
    """`services/notifications/domain.py` in a doc is a file of this repository."""
    named = {(doc, path) for doc, span in all_spans() for path in FILE_PATH.findall(span)
             if ELLIPSIS not in span and "<" not in span and "*" not in span}
    assert sorted((doc, path) for doc, path in named if not (ROOT / path).exists()) == []


# --- links between the docs --------------------------------------------------------------------

def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text_of(path), re.MULTILINE)}


def test_every_link_between_the_docs_leads_somewhere():
    broken = []
    for path in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", text_of(path)):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists() or (anchor and linked.suffix == ".md"
                                       and anchor not in anchors(linked)):
                broken.append((path.name, target))
    assert broken == []
