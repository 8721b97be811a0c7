"""What a bench run does, from command-line flags, then BENCH_* environment variables, then
defaults sized for this project's 2-core machines (three to six minutes in all: longer when a
channel falls behind and the bench waits for it to catch up)."""
from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, fields


def _env(name: str, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    if isinstance(default, tuple):
        return tuple(float(part) for part in raw.split(",") if part.strip())
    return type(default)(raw)


@dataclass
class BenchConfig:
    duration: float = 15.0  # seconds of each closed-loop (maximum rate) phase
    warmup: float = 3.0  # seconds discarded at the start of each closed-loop phase
    open_duration: float = 10.0  # seconds of each open-loop phase
    open_warmup: float = 2.0  # seconds discarded at the start of each open-loop phase
    fractions: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)  # of the real path's maximum
    clients: int = 16  # closed-loop department clients (threads, each one request at a time)
    open_workers: int = 64  # open-loop senders: the most requests in flight at once
    amqp_share: float = 0.15  # of the real path's commitments sent over the AMQP ingress
    departments: int = 4
    townships: int = 3
    villages_per_township: int = 3
    redis_db: int = 5  # flushed at the start and at the end
    # which channels set the real path's maximum (and the open-loop loads): "amqp", like for
    # like with the baseline, whose only channel is AMQP; or "all", webhooks too
    max_by: str = "amqp"
    paths: tuple[str, ...] = ("real", "baseline")
    profile: bool = True  # py-spy the real services in an extra phase, if py-spy is installed
    profile_seconds: float = 8.0
    drain_limit: float = 30.0  # seconds to wait for the townships to catch up after a phase
    out: str = "bench-results"

    def as_dict(self) -> dict:
        return asdict(self)

    def planned_seconds(self) -> float:
        """Without the waits for a system that falls behind (each up to --drain-limit)."""
        per_path = self.duration + len(self.fractions) * (self.open_duration + 1.0) + 30.0
        extra = (1.5 * self.profile_seconds + 5.0 if self.profile and "real" in self.paths
                 else 0.0)
        return per_path * len(self.paths) + extra


SHORT = {"duration": 6.0, "warmup": 2.0, "open_duration": 4.0, "open_warmup": 1.0,
         "profile_seconds": 4.0}


def parse(argv: list[str] | None = None) -> BenchConfig:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark Guabang's full path (department commits over HTTP and AMQP → "
                    "township notified over AMQP and webhooks) against a bare nameko baseline "
                    "over the same hops, in one run. Every flag also reads BENCH_<FLAG> from "
                    "the environment (e.g. BENCH_DURATION=10).")
    add = parser.add_argument
    add("--short", action="store_true", default=_env("BENCH_SHORT", False),
        help="a quick check (about a minute and a half): short phases, for trying the bench")
    add("--duration", type=float, default=_env("BENCH_DURATION", defaults.duration),
        help="seconds of each closed-loop (maximum rate) phase (default %(default)s)")
    add("--warmup", type=float, default=_env("BENCH_WARMUP", defaults.warmup),
        help="seconds discarded at the start of a closed-loop phase (default %(default)s)")
    add("--open-duration", type=float,
        default=_env("BENCH_OPEN_DURATION", defaults.open_duration),
        help="seconds of each open-loop phase (default %(default)s)")
    add("--open-warmup", type=float, default=_env("BENCH_OPEN_WARMUP", defaults.open_warmup),
        help="seconds discarded at the start of an open-loop phase (default %(default)s)")
    add("--fractions", default=_env("BENCH_FRACTIONS", defaults.fractions),
        type=lambda raw: tuple(float(p) for p in raw.split(",") if p.strip()),
        help="open-loop offered loads as fractions of the real path's maximum "
             "(default 0.25,0.5,0.75,1.0)")
    add("--clients", type=int, default=_env("BENCH_CLIENTS", defaults.clients),
        help="closed-loop clients, each with one request in flight (default %(default)s)")
    add("--open-workers", type=int, default=_env("BENCH_OPEN_WORKERS", defaults.open_workers),
        help="open-loop senders: at most this many requests in flight (default %(default)s)")
    add("--amqp-share", type=float, default=_env("BENCH_AMQP_SHARE", defaults.amqp_share),
        help="share of the real path's commitments sent over AMQP (default %(default)s)")
    add("--departments", type=int, default=_env("BENCH_DEPARTMENTS", defaults.departments))
    add("--townships", type=int, default=_env("BENCH_TOWNSHIPS", defaults.townships))
    add("--villages-per-township", type=int,
        default=_env("BENCH_VILLAGES_PER_TOWNSHIP", defaults.villages_per_township))
    add("--redis-db", type=int, default=_env("BENCH_REDIS_DB", defaults.redis_db),
        help="Redis database of the real path, flushed at start and end (default %(default)s)")
    add("--max-by", choices=("amqp", "all"), default=_env("BENCH_MAX_BY", defaults.max_by),
        help="channels that set the real maximum: amqp (like the baseline's one channel; "
             "the default) or all (webhooks too)")
    add("--only", choices=("real", "baseline"), default=os.environ.get("BENCH_ONLY") or None,
        help="run one path only (no ratio; for working on the bench)")
    add("--no-profile", dest="profile", action="store_false",
        default=_env("BENCH_PROFILE", defaults.profile),
        help="skip the py-spy phase (it runs only when py-spy is installed)")
    add("--profile-seconds", type=float,
        default=_env("BENCH_PROFILE_SECONDS", defaults.profile_seconds))
    add("--drain-limit", type=float, default=_env("BENCH_DRAIN_LIMIT", defaults.drain_limit),
        help="seconds to wait after a phase for every notification (default %(default)s)")
    add("--out", default=_env("BENCH_OUT", defaults.out),
        help="directory of results.json and latency.png (default %(default)s)")
    args = parser.parse_args(argv)
    # every field has a flag of the same name, but for `paths`, which --only sets below
    values = {f.name: getattr(args, f.name) for f in fields(BenchConfig) if f.name != "paths"}
    if args.short:
        for name, value in SHORT.items():
            if getattr(args, name) == getattr(defaults, name):  # an explicit flag wins
                values[name] = value
    config = BenchConfig(**values)
    if args.only:
        config.paths = (args.only,)
    problems = []
    if config.warmup >= config.duration or config.open_warmup >= config.open_duration:
        problems.append("a warm-up must be shorter than its phase")
    if not 0 <= config.amqp_share <= 1:
        problems.append("--amqp-share is between 0 and 1")
    if config.clients < 1 or config.open_workers < 1 or not config.fractions:
        problems.append("--clients, --open-workers and --fractions must not be empty")
    if not 1 <= config.townships <= 9 or not 1 <= config.villages_per_township <= 9:
        problems.append("--townships and --villages-per-township are 1 to 9")
    if problems:
        parser.error("; ".join(problems))
    return config
