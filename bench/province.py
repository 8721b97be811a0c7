"""Province scale: load 1,500 townships, 17,000 villages, 20,000 cadres and 1,000,000
commitments, then measure the reads users make most, and Redis memory.

Loading goes through the services' own stores and Lua scripts (every invariant they keep is
kept: pools, assignments, village totals, inboxes), in pipelined batches, without announcing
each write as an event: a bulk load is not news for the townships. Reads go over HTTP through
the running system, as a user makes them.

    python -m bench.province [--commitments 1000000] [--redis-db 4]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import redis

from services.assignment.store import AssignmentStore
from services.common.contract import events
from services.common.storage.directory_projection import DirectoryProjection
from services.common.storage.idempotent_requests import IdempotentRequest
from services.notifications.domain import notification_id
from services.notifications.store import NotificationsStore, pack
from services.resources.domain import totals_change
from services.resources.store import ResourcesStore
from tests.support.infra import BrokerAdmin, amqp_uri_for, redis_url_for
from tests.support.system import System

COUNTY_CODES = [f"61{n:04d}" for n in range(1, 101)]  # 100 counties, 15 townships each
BATCH = 2000


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def store_directory_record(writer, kind: str, record: dict, projections,
                           ascii_in_projections: bool) -> None:
    """A township, village or department as the assignment service keeps it (its hash and its
    code index) and as the other services' directory projections hold it. The projections'
    townships and departments have always been stored ASCII-escaped, their villages not: kept
    so, for the same bytes in Redis as earlier runs."""
    code = record["code"]
    writer.hset(f"assignment:{kind}s", code, json.dumps(record, ensure_ascii=False))
    writer.zadd(f"assignment:{kind}s:codes", {code: 0})
    projected = json.dumps(record, ensure_ascii=ascii_in_projections)
    for projection in projections:
        writer.hset(projection._key(kind), code, projected)


def load_directory(client: redis.Redis, townships: int, villages: int) -> list[dict]:
    projections = [DirectoryProjection(client, "resources"),
                   DirectoryProjection(client, "notifications")]
    rng = random.Random(1)
    township_codes = [f"{county}{100 + n:03d}" for county in COUNTY_CODES for n in range(15)]
    township_codes = township_codes[:townships]
    made = []
    per_township = villages // len(township_codes) + 1
    with client.pipeline(transaction=False) as pipe:
        for code in township_codes:
            record = {"code": code, "name": f"{code[-3:]}镇", "county_code": code[:6],
                      "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
                      "revision": 1}
            store_directory_record(pipe, "township", record, projections,
                                   ascii_in_projections=True)
            for n in range(per_township):
                if len(made) == villages:
                    break
                village = {"code": f"{code}{200 + n:03d}", "name": f"{n}村",
                           "township_code": code, "hardship": rng.randint(1, 5),
                           "tags": [], "created_at": "2026-11-01T00:00:00Z",
                           "updated_at": "2026-11-01T00:00:00Z", "revision": 1}
                store_directory_record(pipe, "village", village, projections,
                                       ascii_in_projections=False)
                pipe.zadd(f"assignment:township:{code}:villages", {village["code"]: 0})
                made.append(village)
            if len(pipe) > BATCH:
                pipe.execute()
        pipe.execute()
    return made


def load_departments(client: redis.Redis, count: int) -> list[str]:
    resources = ResourcesStore(client)
    codes = [f"dept-{n:03d}" for n in range(count)]
    projections = [DirectoryProjection(client, "resources"),
                   DirectoryProjection(client, "notifications")]
    for code in codes:
        record = {"code": code, "name": f"{code}局", "level": "county",
                  "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
                  "revision": 1}
        store_directory_record(client, "department", record, projections,
                               ascii_in_projections=True)
        event = events.make_event("resources.pool_increased", events.PoolIncreased(
            department_code=code, kind="cement", unit="吨", quantity="100000000.00"))
        resources.add_to_pool(code, "cement", "吨", 10_000_000_000, event, BULK)
    return codes


BULK = IdempotentRequest(None, "bulk")  # a bulk load carries no Idempotency-Key


def load_cadres(client: redis.Redis, villages: list[dict], departments: list[str],
                count: int) -> None:
    store = AssignmentStore(client)
    rng = random.Random(2)
    for n in range(count):
        department = departments[n % len(departments)]
        village = villages[n % len(villages)]
        cadre = {"id": f"cdr_bulk{n:06d}", "name": f"干部{n}", "department_code": department,
                 "phone": None, "title": None, "created_at": "2026-11-01T00:00:00Z"}
        store.add_cadre(cadre, None, BULK)
        assignment = {"id": f"asg_bulk{n:06d}", "status": "active", "cadre_id": cadre["id"],
                      "cadre_name": cadre["name"], "department_code": department,
                      "village_code": village["code"],
                      "township_code": village["township_code"],
                      "role": "leader" if n < len(villages) else "member",
                      "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                      "created_at": "2026-11-01T00:00:00Z"}
        event = events.make_event("assignment.assignment_started",
                                  events.AssignmentStarted.of(assignment))
        store.start_assignment(assignment, event, BULK)
        if rng.random() < 0.001:
            say(f"  cadres {n}/{count}")
    client.delete("assignment:outbox")  # a bulk load is not news


def load_commitments(client: redis.Redis, villages: list[dict], departments: list[str],
                     count: int) -> None:
    resources = ResourcesStore(client)
    inboxes = NotificationsStore(client)
    rng = random.Random(3)
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        department = departments[rng.randrange(len(departments))]
        village = villages[rng.randrange(len(villages))]
        commitment = {"id": f"cmt_bulk{n:07d}", "status": "committed",
                      "department_code": department, "village_code": village["code"],
                      "township_code": village["township_code"], "kind": "cement",
                      "unit": "吨", "quantity": "1.00", "need_id": None, "note": None,
                      "created_at": "2026-11-01T00:00:00Z"}
        event = events.make_event("resources.commitment_created",
                                  events.CommitmentCreated(**commitment),
                                  township_code=village["township_code"],
                                  village_code=village["code"])
        slot = f"resources:{{dept:{department}}}"
        pipe.hset("resources:commitment-department", commitment["id"], department)
        resources._scripts["commit"](keys=[
            f"{slot}:pool:cement", f"{slot}:commitments", f"{slot}:commitments:all",
            f"{slot}:commitments:committed", f"{slot}:idempotency:commitment:-",
            "resources:bulk:outbox",
        ], args=[commitment["id"], 100, "吨", json.dumps(commitment, ensure_ascii=False), "",
                 "bulk", 1, "0", n], client=pipe)
        change = totals_change(event.type, commitment)
        v = f"resources:{{village:{village['code']}}}"
        resources._scripts["project_commitment"](keys=[
            f"{v}:processed:{event.event_id}", f"{v}:totals", f"{v}:commitments:all",
            f"{v}:commitments:none", f"{v}:commitments:committed",
        ], args=[60, commitment["id"], n, "cement|吨", department, change.committed,
                 change.delivered, change.confirmed, "0"], client=pipe)
        pipe.zadd(f"resources:{{township:{village['township_code']}}}:commitments",
                  {commitment["id"]: n})
        pipe.zadd("resources:commitments:all", {commitment["id"]: n})
        township = village["township_code"]
        item = {"id": notification_id(event.event_id, township), "event_id": event.event_id,
                "type": event.type, "township_code": township,
                "village_code": village["code"], "occurred_at": event.occurred_at,
                "title_zh": f"{department}局承诺向{village['name']}提供 cement 1.00 吨",
                "title_en": f"{department} committed 1.00 吨 of cement to {village['name']}",
                "data": commitment, "acked_at": None}
        t = f"notifications:{{township:{township}}}"
        inboxes._deliver(keys=["notifications:ids", f"{t}:seq", f"{t}:items", f"{t}:order",
                               f"{t}:unacked", "notifications:bulk:outbox",
                               f"{t}:deliveries", "notifications:webhooks:due",
                               "notifications:townships", f"{t}:deliveries:index"],
                         args=[item["id"], township, pack(item), "",
                               n], client=pipe)
        if len(pipe) >= BATCH:
            pipe.execute()
        if n and n % 100_000 == 0:
            rate = n / (time.perf_counter() - started)
            say(f"  commitments {n}/{count} ({rate:.0f}/s)")
    pipe.execute()
    client.delete("resources:bulk:outbox", "notifications:bulk:outbox")
    for key in client.scan_iter("resources:{village:*}:processed:*", count=10_000):
        client.delete(key)  # markers of events that were never sent


def load_needs(client: redis.Redis, villages: list[dict], count: int) -> None:
    resources = ResourcesStore(client)
    for n in range(count):
        village = villages[n * 3 % len(villages)]
        need = {"id": f"need_bulk{n:05d}", "village_code": village["code"],
                "township_code": village["township_code"], "hardship": village["hardship"],
                "kind": "cement", "unit": "吨", "category": "economy", "purpose": "修路",
                "raised_by": "bulk", "created_at": f"2026-11-01T00:00:{n % 60:02d}Z"}
        event = events.make_event("resources.need_raised",
                                  events.NeedRaised.of(need, requested="50.00"),
                                  township_code=village["township_code"],
                                  village_code=village["code"])
        resources.raise_need(need, 5000, event, BULK, scope="bulk")
    for key in client.scan_iter("resources:{village:*}:outbox", count=10_000):
        client.delete(key)
    client.delete("resources:outboxes")


def measure(system: System, villages: list[dict], samples: int) -> dict:
    rng = random.Random(4)
    reads = {
        "township inbox page": lambda v: f"/v1/townships/{v['township_code']}/notifications",
        "village resources": lambda v: f"/v1/villages/{v['code']}/resources",
        "open needs, hardest first": lambda v: "/v1/needs?limit=50",
        "village team": lambda v: f"/v1/villages/{v['code']}/team",
    }
    results = {}
    with system.client(timeout=30) as client:
        for name, path_of in reads.items():
            timings = []
            for _ in range(samples):
                village = villages[rng.randrange(len(villages))]
                started = time.perf_counter()
                response = client.get(path_of(village))
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            results[name] = {"p50_ms": round(statistics.median(timings), 2),
                             "p99_ms": round(percentile(timings, 0.99), 2)}
            say(f"  {name:<28} p50 {results[name]['p50_ms']:7.2f} ms   "
                f"p99 {results[name]['p99_ms']:7.2f} ms")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--townships", type=int, default=1500)
    parser.add_argument("--villages", type=int, default=17_000)
    parser.add_argument("--cadres", type=int, default=20_000)
    parser.add_argument("--commitments", type=int, default=1_000_000)
    parser.add_argument("--needs", type=int, default=5_000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--redis-db", type=int, default=4)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--out", default="bench-results/province.json")
    parser.add_argument("--reads-only", action="store_true",
                        help="measure the reads on what an earlier run loaded")
    args = parser.parse_args(argv)

    url = redis_url_for(args.redis_db)
    client = redis.Redis.from_url(url, decode_responses=True)
    if args.reads_only:
        villages = [json.loads(raw) for raw in client.hvals("assignment:villages")]
        return measure_and_report(args, url, villages, client.info("memory")["used_memory"],
                                  {})
    client.flushdb()
    timings = {}
    for label, step in (
        ("directory", lambda: load_directory(client, args.townships, args.villages)),
    ):
        started = time.perf_counter()
        villages = step()
        timings[label] = time.perf_counter() - started
    say(f"directory: {args.townships} townships, {len(villages)} villages "
        f"({timings['directory']:.0f} s)")
    for label, step in (
        ("departments", lambda: load_departments(client, args.departments)),
    ):
        started = time.perf_counter()
        departments = step()
        timings[label] = time.perf_counter() - started
    started = time.perf_counter()
    load_cadres(client, villages, departments, args.cadres)
    timings["cadres"] = time.perf_counter() - started
    say(f"cadres and assignments: {args.cadres} ({timings['cadres']:.0f} s)")
    started = time.perf_counter()
    load_commitments(client, villages, departments, args.commitments)
    timings["commitments"] = time.perf_counter() - started
    say(f"commitments: {args.commitments} ({timings['commitments']:.0f} s)")
    load_needs(client, villages, args.needs)
    memory = client.info("memory")["used_memory"]
    say(f"Redis memory: {memory / 2**20:.0f} MiB")
    return measure_and_report(args, url, villages, memory, timings)


def measure_and_report(args, url: str, villages: list[dict], memory: int,
                       timings: dict) -> int:
    admin = BrokerAdmin.from_env()
    vhost = admin.create_vhost()
    system = System(amqp_uri_for(vhost), url, extra_env={"GUABANG_RATE_LIMIT": "100000"})
    system.start()
    try:
        system.wait_healthy(timeout=60)
        say("reads over HTTP, one at a time:")
        reads = measure(system, villages, args.samples)
    finally:
        system.stop()
        admin.delete_vhost(vhost)
    result = {"townships": args.townships, "villages": len(villages), "cadres": args.cadres,
              "commitments": args.commitments, "needs": args.needs,
              "redis_used_memory_mib": round(memory / 2**20), "reads": reads,
              "load_seconds": {k: round(v, 1) for k, v in timings.items()},
              "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
