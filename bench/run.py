"""`make bench`: Guabang's full path beside a bare nameko baseline, in one run.

For each path in turn (the real one first: its maximum sets the open-loop loads of both):
start it, point a sink at it, open every client connection, send probe commitments until they
arrive, then
  1. closed loop: `--clients` clients as fast as they are answered for `--duration` s; the
     first `--warmup` s are discarded. Max sustained = what was answered and reached the
     townships per second on the channels of `--max-by` (AMQP, like the baseline's one
     channel, by default); the rate on every channel (webhooks too) is reported beside it;
  2. open loop: `--fractions` of the real maximum, `--open-duration` s each, evenly spaced
     sends, latency from the scheduled send (a held-up sender still counts its wait); the
     baseline goes on to fractions of its own maximum past the real one;
waiting after each phase (up to `--drain-limit` s) until every channel has caught up. Then,
on the real path with py-spy installed, a profiling phase and a count of Redis commands per
commitment (MONITOR). Then the table, results.json and latency.png in `--out`.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

import redis

from bench import profile, report
from bench.baseline import BaselinePath
from bench.config import BenchConfig, parse
from bench.infra import (
    STATS_SETTLE,
    Broker,
    CpuMeter,
    broker_and_redis_counts,
    fresh_redis,
    load_snapshot,
    machine_facts,
    per_commitment,
    pid_listening_on,
)
from bench.load import ClientPool, Department, Tally, Target, closed_loop, open_loop
from bench.real import RealPath, county_villages
from bench.sink import Sink, SinkSpec
from tests.support.infra import AMQP_BASE, REDIS_BASE

PROBE_TIMEOUT = 60.0


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Window:
    """Samples the sink's counts and the processes' CPU at the edges of a measurement window
    (from a thread, since the load runs in the foreground)."""

    def __init__(self, sink: Sink, pids: dict[str, int], low: float, high: float):
        self.sink, self.pids, self.low, self.high = sink, pids, low, high
        self.counts: list[dict] = []
        self.cpu: dict | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        time.sleep(max(0.0, self.low - time.monotonic()))
        meter = CpuMeter(self.pids)
        self.counts.append(self.sink.counts())
        time.sleep(max(0.0, self.high - time.monotonic()))
        self.counts.append(self.sink.counts())
        self.cpu = meter.stop()
        wall = self.cpu["wall_s"] or 1
        ours = sum(self.cpu["cpu_s"].values()) / wall
        if self.cpu["machine_busy_cores"] is not None:
            self.cpu["others_busy_cores"] = round(self.cpu["machine_busy_cores"] - ours, 3)

    def delivered_rates(self) -> dict[str, float]:
        self.thread.join()
        seconds = self.high - self.low
        first, last = self.counts
        return {channel: (last[channel] - first[channel]) / seconds for channel in first}


def wait_drained(sink: Sink, expected: int, channels, limit: float) -> float | None:
    """Seconds until every channel has `expected` commitments; None if it stalled (nothing new
    for 10 s) or took longer than `limit`."""
    started = time.monotonic()
    last, changed = None, started
    while True:
        counts = sink.counts()
        if all(counts[channel] >= expected for channel in channels):
            return time.monotonic() - started
        now = time.monotonic()
        if counts != last:
            last, changed = counts, now
        if now - changed > 10 or now - started > limit:
            return None
        time.sleep(0.05)


def probe(pool: ClientPool, tally: Tally, sink: Sink, target: Target, share: float) -> None:
    """Commitments one at a time over each ingress until they reach every channel, then a few
    more: the system has made its connections and filled its caches before measuring."""
    ingresses = ["http", "amqp"] if share > 0 else ["http"]
    deadline = time.monotonic() + PROBE_TIMEOUT
    for n in range(2 * len(target.departments) + 10):
        for ingress in ingresses:
            record = pool.get(len(target.departments))[n % len(target.departments)].send(
                "probe", ingress, time.monotonic())
            tally.records.append(record)
            if record.status != 201:
                raise RuntimeError(f"probe commitment over {ingress} refused: "
                                   f"{record.status} {record.error}")
        if n == 0:  # the first ones must arrive before the rest are worth sending
            while not all(sink.counts()[c] >= tally.accepted() for c in target.channels):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"probe commitments never reached the townships: "
                                       f"{sink.counts()} of {tally.accepted()}")
                time.sleep(0.05)
    if wait_drained(sink, tally.accepted(), target.channels, PROBE_TIMEOUT) is None:
        raise RuntimeError(f"probe commitments did not all arrive: {sink.counts()}")


def measure(config: BenchConfig, target: Target, sink: Sink, pids: dict[str, int],
            rates: list[float] | None, share: float, profile_pids: dict[str, int] | None,
            counters) -> dict:
    tally = Tally()
    counted_before = counters()
    # the channels that set the maximum (all channels are waited for between phases, up to
    # --drain-limit seconds: each phase should start with nothing left over)
    primary = target.channels if config.max_by == "all" else ("amqp",)
    pool = ClientPool(target)
    phases = []
    try:
        pool.connect(max(config.clients, config.open_workers), amqp=share > 0)
        probe(pool, tally, sink, target, share)
        say(f"{target.path}: closed loop, {config.clients} clients, {config.duration:g} s")
        start = time.monotonic() + 0.2
        window = Window(sink, pids, start + config.warmup, start + config.duration)
        closed_loop(pool, tally, "closed", config.clients, start, config.duration, share)
        drained = wait_drained(sink, tally.accepted(), target.channels, config.drain_limit)
        answered = sum(1 for r in tally.records if r.status == 201
                       and window.low <= r.finished < window.high) / (window.high - window.low)
        delivered = window.delivered_rates()
        sustained = min([answered, *(delivered[c] for c in primary)])
        say(f"{target.path}: answered {answered:.0f}/s, reached townships "
            + ", ".join(f"{c} {delivered[c]:.0f}/s" for c in target.channels)
            + (f"; caught up {drained:.1f} s after the phase" if drained is not None
               else f"; NOT caught up {config.drain_limit:g} s after the phase"))
        phases.append({"shape": "closed", "window": (window.low, window.high), "offered": None,
                       "senders": config.clients, "unsent": 0, "drained": drained,
                       "cpu": window.cpu, "phase": "closed"})
        plan = ([(f, "real", r) for f, r in zip(config.fractions, rates, strict=True)]
                if rates else [(f, target.path, f * sustained) for f in config.fractions])
        if rates:  # the baseline goes on to fractions of its own maximum, past the real one's
            plan += [(f, target.path, f * sustained) for f in config.fractions
                     if f * sustained > 1.1 * max(rates)]
        rates = rates or [rate for _, _, rate in plan]
        for n, (fraction, of, rate) in enumerate(plan):
            name = f"open-{n}"
            say(f"{target.path}: open loop {rate:.0f}/s ({fraction:g}x the {of} maximum), "
                f"{config.open_duration:g} s")
            start = time.monotonic() + 0.3
            window = Window(sink, pids, start + config.open_warmup, start + config.open_duration)
            unsent = open_loop(pool, tally, name, rate, start, config.open_duration, share,
                               config.open_workers)
            drained = wait_drained(sink, tally.accepted(), target.channels, config.drain_limit)
            window.thread.join()
            if drained is None:
                say(f"{target.path}: NOT caught up {config.drain_limit:g} s after the phase: "
                    f"{sink.counts()} of {tally.accepted()}")
            phases.append({"shape": "open", "window": (window.low, window.high),
                           "offered": rate, "fraction": fraction, "of": of,
                           "senders": config.open_workers, "unsent": unsent,
                           "drained": drained, "cpu": window.cpu, "phase": name})
        profiled = None
        if profile_pids and config.profile:
            if profile.py_spy() is None:
                say("py-spy is not installed: no profile (pip install py-spy into the venv)")
            else:
                say(f"{target.path}: profiling {', '.join(profile_pids)} for "
                    f"{config.profile_seconds:g} s under the closed-loop load")
                start = time.monotonic() + 1.0
                running = profile.start(profile_pids, config.profile_seconds,
                                        Path(config.out))
                closed_loop(pool, tally, "profile", config.clients, start,
                            config.profile_seconds + 1.0, share)
                profiled = profile.finish(running)
                wait_drained(sink, tally.accepted(), target.channels, config.drain_limit)
                profiled["redis_round_trips"] = redis_census(
                    config, pool, tally, share, profile_pids, sink, target)
        final_drain = wait_drained(sink, tally.accepted(), target.channels, config.drain_limit)
        if final_drain is None:
            say(f"{target.path}: not every notification arrived within "
                f"{config.drain_limit:g} s of the end; the rest are counted missing")
    finally:
        pool.close()
    time.sleep(STATS_SETTLE)
    counted = per_commitment(counted_before, counters(), tally.accepted())
    receipts = sink.stop()
    firsts = {channel: receipts[channel]["first"] for channel in target.channels}
    summaries = []
    closed = None
    for phase in phases:
        records = [r for r in tally.records if r.phase == phase["phase"]]
        summary = report.phase_summary(
            records, firsts, target.channels, phase["shape"], phase["window"],
            phase["offered"], phase["senders"], phase["unsent"], phase["drained"], phase["cpu"],
            primary)
        if phase["shape"] == "open":
            summary["fraction"] = phase["fraction"]
            summary["fraction_of"] = phase["of"]
            summaries.append(summary)
        else:
            closed = summary
    return {"closed": closed, "open": summaries, "profile": profiled, "primary": primary,
            "timeline": report.timeline(tally.records, firsts, phases),
            "duplicates": {c: receipts[c]["duplicates"] for c in target.channels},
            "sent_in_all": len(tally.records), "rates": rates, "work_per_commitment": counted}


def redis_census(config: BenchConfig, pool: ClientPool, tally: Tally, share: float,
                 pids: dict[str, int], sink: Sink, target: Target) -> dict:
    """A short closed-loop run with Redis' MONITOR on, counted until every notification
    arrived: commands per commitment, by process."""
    from urllib.parse import urlparse

    parts = urlparse(REDIS_BASE)
    census = profile.RedisCensus(parts.hostname or "127.0.0.1", parts.port or 6379,
                                 config.redis_db)
    before = tally.accepted()
    seconds = max(2.0, config.profile_seconds / 2)
    closed_loop(pool, tally, "census", config.clients, time.monotonic(), seconds, share)
    wait_drained(sink, tally.accepted(), target.channels, config.drain_limit)
    names = {pid: name for name, pid in pids.items()}
    return census.stop(tally.accepted() - before, names)


def run_real(config: BenchConfig, broker: Broker, results: dict):
    vhost = broker.create_vhost("real")
    redis_url = fresh_redis(config.redis_db)
    real = RealPath(broker, vhost, redis_url, config.departments, config.townships,
                    config.villages_per_township)
    say(f"real: starting the four services (vhost {vhost}, Redis db {config.redis_db})")
    sink = None
    try:
        real.start()
        sink = Sink(SinkSpec(real.amqp_uri, "guabang.notifications", "topic", True,
                             real.sink_bindings(), "notification", webhook=True))
        target = real.set_up(sink.webhook_url)
        say(f"real: {len(target.departments)} departments, {len(real.townships)} townships, "
            f"{len(real.villages)} villages, a webhook per township; "
            f"{config.amqp_share:.0%} of commitments over AMQP")
        pids = measured_pids(real.pids(), sink)
        profile_pids = {name: pid for name, pid in real.pids().items() if name != "assignment"}
        data = measure(config, target, sink, pids, None, config.amqp_share, profile_pids,
                       lambda: broker_and_redis_counts(broker, vhost, REDIS_BASE))
        sink = None
        results["paths"]["real"] = data
        return target
    except Exception:
        note_failure(results, "real path", real.logs())
        raise
    finally:
        kill_unstopped(sink)
        real.stop()
        redis.Redis.from_url(redis_url).flushdb()


def run_baseline(config: BenchConfig, broker: Broker, results: dict, target: Target | None,
                 rates: list[float] | None) -> None:
    vhost = broker.create_vhost("baseline")
    amqp_uri = broker.amqp_uri(vhost)
    villages = (target.villages if target
                else county_villages(config.townships, config.villages_per_township))
    departments = ([Department(d.code, d.api_key) for d in target.departments] if target
                   else [Department(f"bench-{n}") for n in range(config.departments)])
    baseline = BaselinePath(amqp_uri, villages, departments)
    townships = sorted({township for _, township in villages})
    say(f"baseline: starting the three bare services (vhost {vhost})")
    sink = None
    try:
        sink = Sink(SinkSpec(amqp_uri, "bench.baseline", "topic", False,
                             baseline.sink_bindings(townships), "plain", webhook=False))
        baseline.start(broker.admin, vhost)
        pids = measured_pids(baseline.pids(), sink)
        data = measure(config, baseline.target(), sink, pids, rates, 0.0, None,
                       lambda: broker_and_redis_counts(broker, vhost, REDIS_BASE))
        sink = None
        results["paths"]["baseline"] = data
    except Exception:
        note_failure(results, "baseline", baseline.output())
        raise
    finally:
        kill_unstopped(sink)
        baseline.stop()


def measured_pids(path_pids: dict[str, int], sink: Sink) -> dict[str, int]:
    """The processes whose CPU a phase counts: the path's services, the broker and Redis they
    share, and the bench's own clients and sink (harness_*, left out of the system's share)."""
    return {**path_pids, **shared_pids(), "harness_clients": os.getpid(),
            "harness_sink": sink.pid}


def note_failure(results: dict, what: str, logs: str) -> None:
    """In an `except` block: the traceback and the tail of the path's logs, for the report."""
    results["notes"].append(f"{what} failed:\n" + traceback.format_exc() + "\n" + logs[-6000:])


def kill_unstopped(sink: Sink | None) -> None:
    """The sink's process, if measure() never stopped it (the path failed first)."""
    if sink is not None:
        sink.process.kill()


def shared_pids() -> dict[str, int]:
    from urllib.parse import urlparse

    found = {"rabbitmq": pid_listening_on(urlparse(AMQP_BASE).port or 5672),
             "redis": pid_listening_on(urlparse(REDIS_BASE).port or 6379)}
    return {name: pid for name, pid in found.items() if pid}


def system_cpu_ms(phase: dict) -> float | None:
    """CPU milliseconds per commitment of the system under test (its services, the broker and
    Redis; not the bench's own clients and sink)."""
    per = phase.get("cpu_ms_per_commitment")
    if not per:
        return None
    return round(sum(ms for name, ms in per.items() if not name.startswith("harness_")), 2)


def ratios(results: dict) -> dict:
    paths = results["paths"]
    if "real" not in paths or "baseline" not in paths:
        return {}
    real, bare = paths["real"], paths["baseline"]
    cpu = {name: system_cpu_ms(paths[name]["closed"]) for name in ("real", "baseline")}
    out = {"cpu_ms_per_commitment": cpu,
           "cpu": round(cpu["baseline"] / cpu["real"], 3) if cpu["real"] else None,
           "others_busy_cores": {name: (paths[name]["closed"].get("cpu") or {}).get(
               "others_busy_cores") for name in ("real", "baseline")},
           "throughput": round(real["closed"]["sustained_rate"]
                               / bare["closed"]["sustained_rate"], 3)
           if bare["closed"]["sustained_rate"] else None,
           "throughput_all_channels": round(real["closed"]["sustained_rate_all_channels"]
                                            / bare["closed"]["sustained_rate"], 3)
           if bare["closed"]["sustained_rate"] else None,
           "answered_throughput": round(real["closed"]["achieved_rate"]
                                        / bare["closed"]["achieved_rate"], 3)
           if bare["closed"]["achieved_rate"] else None,
           "latency_p50_at_same_load": []}
    for mine, theirs in zip(real["open"], bare["open"], strict=False):
        base = theirs["channels"]["amqp"]["p50"]
        out["latency_p50_at_same_load"].append({
            "offered_rate": mine["offered_rate"],
            "ratios": {channel: round(stats["p50"] / base, 2) if base and stats["p50"] else None
                       for channel, stats in mine["channels"].items()}})
    return out


def main(argv: list[str] | None = None) -> int:
    config = parse(argv)
    out_dir = Path(config.out)
    broker = Broker()
    results: dict = {"config": config.as_dict(), "notes": [], "paths": {}}
    results["machine"] = machine_facts(broker, REDIS_BASE)
    results["load_before"] = load_snapshot()
    say(f"about {config.planned_seconds() / 60:.1f} min; load average "
        f"{results['load_before']['loadavg']}, other guabang processes: "
        f"{results['load_before']['other_guabang_processes']}")
    started = time.time()
    status = 0
    try:
        target = None
        if "real" in config.paths:
            target = run_real(config, broker, results)
        if "baseline" in config.paths:
            rates = results["paths"]["real"]["rates"] if target else None
            run_baseline(config, broker, results, target, rates)
    except Exception as exc:
        say(f"the bench failed: {type(exc).__name__}: {exc}")
        status = 1
    finally:
        broker.cleanup()
    results["load_after"] = load_snapshot()
    results["duration_s"] = round(time.time() - started, 1)
    results["ratio"] = ratios(results)
    if status == 0:
        report.plot(results, out_dir)
    path = report.write_json(results, out_dir)
    if status == 0:
        print()
        print(report.table(results))
        print()
        print(report.headline(results))
        for name, summary in (results["paths"].get("real", {}).get("profile") or {}).items():
            if "by_package" in summary:
                print(f"  py-spy {name}: " + ", ".join(f"{p} {s}%" for p, s in
                                                       summary["by_package"][:6]))
    else:
        print("\n".join(results["notes"]), file=sys.stderr)
    say(f"results in {path}" + (f" and {out_dir / 'latency.png'}"
                                if (out_dir / "latency.png").exists() and status == 0 else "")
        + f"; took {results['duration_s']:.0f} s; load average now "
          f"{results['load_after']['loadavg']}")
    return status


if __name__ == "__main__":
    sys.exit(main())
