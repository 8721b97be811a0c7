"""`guabang`: the operator's command line (CONTRACT §3 Running it)."""
from __future__ import annotations

import argparse
import json
import sys
import warnings

from services.runner import SERVICES


def _keys_create(args) -> int:
    from pydantic import ValidationError

    from services.common.config import Settings
    from services.common.contract.http_bodies import ApiKeyRequest
    from services.common.storage.redis_store import connect
    from services.gateway.keys import ApiKeys

    try:
        ApiKeyRequest(principal=args.principal)
    except ValidationError:
        print(f"not a principal: {args.principal!r} (admin, department:<code>, "
              "township:<9 digits> or inspector:<name>)", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    created = ApiKeys(connect(settings.redis_url), settings.admin_token).create(args.principal)
    print(json.dumps(created) if args.json else created["key"])
    return 0


def _dlq(args) -> int:
    from services.common.config import Settings
    from services.common.messaging import dlq

    settings = Settings.from_env()
    if args.action == "list":
        parked = dlq.list_parked(settings.amqp_uri)
        for entry in parked:
            print(json.dumps(entry, ensure_ascii=False))
        print(f"{len(parked)} parked message(s)", file=sys.stderr)
    else:
        count = dlq.replay(settings.amqp_uri, limit=args.limit)
        print(f"replayed {count} message(s)")
    return 0


def _import_county(args) -> int:
    from pathlib import Path

    from services.assignment.county_import import SAMPLE_VILLAGES, county_name, import_county
    from services.assignment.store import AssignmentStore
    from services.common.config import Settings
    from services.common.storage.redis_store import connect

    villages = Path(args.villages) if args.villages else None
    if args.sample:
        villages = SAMPLE_VILLAGES / f"sample-villages-{args.county}.csv"
        if not villages.exists():
            print(f"no sample villages ship for county {args.county}", file=sys.stderr)
            return 2
    if villages is not None and not villages.exists():
        print(f"no such file: {villages}", file=sys.stderr)
        return 2
    store = AssignmentStore(connect(Settings.from_env().redis_url))
    report = import_county(store, args.county, villages)
    if report.errors:
        print("nothing imported:", *report.errors, sep="\n  ", file=sys.stderr)
        return 1
    print(f"imported county {args.county} {county_name(args.county) or ''}: "
          f"{report.townships} townships, {report.villages} villages")
    print("(each is announced once the assignment service runs: `guabang run assignment`)")
    return 0


def _broker(args) -> int:
    if args.action == "definitions":
        from services.common.messaging.broker_definitions import definitions

        print(json.dumps(definitions(), indent=2, ensure_ascii=False))
        return 0
    from services.common.config import Settings
    from services.common.messaging.broker_accounts import BrokerAccountError, add_department_account

    try:
        password = add_department_account(Settings.from_env(), args.department)
    except BrokerAccountError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(password)
    return 0


def _feed_status(args) -> int:
    from services.common.config import Settings
    from services.common.contract.codes import is_township_code
    from services.common.storage.redis_store import connect
    from services.notifications.store import NotificationsStore
    from services.notifications.use_cases.operators import feed_status

    if args.township and not is_township_code(args.township):
        print(f"not a township code: {args.township!r} (9 digits)", file=sys.stderr)
        return 2
    store = NotificationsStore(connect(Settings.from_env().redis_url))
    rows = feed_status(store, args.township)["items"]
    print(f"{'township':<11}{'unacked':>8}  webhooks")
    for row in rows:
        hooks = ", ".join(
            f"{w['url']} {w['status']}"
            + (f" failing x{w['consecutive_failures']}: {w['last_error']}"
               if w.get("consecutive_failures") else "")
            for w in row["webhooks"]) or "-"
        print(f"{row['township_code']:<11}{row['unacked']:>8}  {hooks}")
    return 0


def main(argv: list[str] | None = None) -> int:
    # eventlet warns on import that it is in maintenance; nameko 2 has no other concurrency.
    warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
    parser = argparse.ArgumentParser(prog="guabang", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the named services in one process")
    run.add_argument("services", nargs="+", choices=SERVICES, metavar="SERVICE",
                     help=f"one or more of: {', '.join(SERVICES)}")

    start = commands.add_parser("start", help="run every service, each in its own process")
    start.add_argument("services", nargs="*", metavar="SERVICE",
                       help=f"some of: {', '.join(SERVICES)} (default: all)")

    keys = commands.add_parser("keys", help="API keys")
    key_commands = keys.add_subparsers(dest="action", required=True)
    create = key_commands.add_parser("create", help="print a new API key for PRINCIPAL")
    create.add_argument("principal", help="admin, department:<code>, township:<code> or "
                                          "inspector:<name>")
    create.add_argument("--json", action="store_true", help="print id, principal and key")

    dlq = commands.add_parser("dlq", help="messages parked after their handler kept failing")
    dlq.add_argument("action", choices=("list", "replay"))
    dlq.add_argument("--limit", type=int, default=None, help="replay at most this many")

    directory = commands.add_parser("directory", help="the directory of townships and villages")
    directory_commands = directory.add_subparsers(dest="action", required=True)
    county = directory_commands.add_parser(
        "import-county", help="register a county's real townships (and villages from a CSV)")
    county.add_argument("county", metavar="CODE", help="the county's 6-digit code, e.g. 610581")
    source = county.add_mutually_exclusive_group()
    source.add_argument("--villages", metavar="FILE",
                        help="CSV with code,name,township_code,hardship,tags (tags split by ;)")
    source.add_argument("--sample", action="store_true",
                        help="the sample villages shipped for this county (invented data)")

    broker = commands.add_parser("broker", help="RabbitMQ accounts and definitions")
    broker_commands = broker.add_subparsers(dest="action", required=True)
    add_department = broker_commands.add_parser(
        "add-department", help="make a department system's broker account; prints its password")
    add_department.add_argument("department", metavar="CODE")
    broker_commands.add_parser(
        "definitions", help="print the broker definitions (exchanges, queues, bindings) as JSON")

    notifications = commands.add_parser("notifications", help="townships' feeds")
    feeds = notifications.add_subparsers(dest="action", required=True)
    status = feeds.add_parser("status", help="unacked notifications and failing webhooks")
    status.add_argument("--township", metavar="CODE", help="only this township")

    args = parser.parse_args(argv)
    try:
        return _dispatch(parser, args)
    except Exception as exc:
        # imported here, not above: `run` patches eventlet before anything loads nameko
        from services.common.config import ConfigError

        if not isinstance(exc, ConfigError):
            raise
        for line in exc.lines:  # one line per bad variable, and no traceback
            print(f"guabang: {line}", file=sys.stderr)
        return 2


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "run":
        from services.runner import run_in_process
        return run_in_process(args.services)
    if args.command == "start":
        from services.runner import start_all
        unknown = set(args.services) - set(SERVICES)
        if unknown:
            parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
        return start_all(args.services)
    if args.command == "keys":
        return _keys_create(args)
    if args.command == "directory":
        return _import_county(args)
    if args.command == "broker":
        return _broker(args)
    if args.command == "notifications":
        return _feed_status(args)
    return _dlq(args)


if __name__ == "__main__":
    sys.exit(main())
