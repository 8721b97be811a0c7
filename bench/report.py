"""From sends and receipts to numbers: per phase, the achieved rate and the commit → township
latency on each channel; then the table on stdout, results.json and latency.png."""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

from bench.load import Sent


def percentile(ordered: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), of a sorted list."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    ms = {f"p{q}": _ms(percentile(ordered, q)) for q in (50, 95, 99)}
    return {"count": len(ordered), **ms,
            "mean": _ms(sum(ordered) / len(ordered)) if ordered else None,
            "max": _ms(ordered[-1]) if ordered else None}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def phase_summary(records: list[Sent], receipts: dict[str, dict], channels: tuple[str, ...],
                  shape: str, window: tuple[float, float], offered: float | None,
                  senders: int, unsent: int = 0, drained_in: float | None = None,
                  cpu: dict | None = None, primary: tuple[str, ...] = ()) -> dict:
    low, high = window
    seconds = high - low
    cohort = [r for r in records if low <= r.sent < high]  # what was sent in the window
    accepted = [r for r in cohort if r.status == 201]
    done_in_window = sum(1 for r in records if r.status == 201 and low <= r.finished < high)
    statuses = Counter(r.status for r in cohort if r.status != 201)
    errors = Counter(r.error.split(":")[0][:60] for r in cohort if r.error)
    summary = {
        "shape": shape,
        "offered_rate": round(offered, 1) if offered is not None else None,
        "senders": senders,
        "window_s": round(seconds, 2),
        "sent": len(cohort),
        "accepted": len(accepted),
        "achieved_rate": round(done_in_window / seconds, 1),
        "refused": sum(n for status, n in statuses.items() if status),
        "no_answer": statuses.get(0, 0),
        "unsent": unsent,
        "statuses": {str(k): v for k, v in statuses.items()},
        "error_samples": dict(errors.most_common(5)),
        "answer_ms": distribution([r.finished - r.sent for r in accepted]),
        "answer_ms_by_ingress": {
            ingress: distribution([r.finished - r.sent for r in accepted if r.ingress == ingress])
            for ingress in sorted({r.ingress for r in accepted})},
        "by_ingress": dict(Counter(r.ingress for r in cohort)),
        "drained_in_s": round(drained_in, 2) if drained_in is not None else None,
        "channels": {},
    }
    delivered_rates = {}
    for channel in channels:
        got = receipts.get(channel, {})
        latencies = [got[r.id] - r.sent for r in accepted if r.id in got]
        in_window = sum(1 for at in got.values() if low <= at < high)
        delivered_rates[channel] = in_window / seconds
        summary["channels"][channel] = {
            **distribution(latencies),
            "missing": len(accepted) - len(latencies),
            "delivered_rate": round(in_window / seconds, 1),
            "by_ingress": {ingress: distribution([got[r.id] - r.sent for r in accepted
                                                  if r.ingress == ingress and r.id in got])
                           for ingress in sorted({r.ingress for r in accepted})},
        }
    # sustained: what was answered and got all the way through on the primary channels (and
    # on every channel: the slowest one)
    summary["sustained_rate"] = round(min([summary["achieved_rate"],
                                           *(delivered_rates[c] for c in primary or channels)]),
                                      1)
    summary["sustained_rate_all_channels"] = round(min([summary["achieved_rate"],
                                                        *delivered_rates.values()]), 1)
    if cpu:
        summary["cpu"] = cpu
        if done_in_window and cpu.get("cpu_s"):
            per = {name: round(1000 * used / max(1, len(accepted)), 3)
                   for name, used in cpu["cpu_s"].items()}
            summary["cpu_ms_per_commitment"] = per
    return summary


def timeline(records: list[Sent], receipts: dict[str, dict], phases: list[dict]) -> dict:
    """Per second of the run: commitments sent, answered (accepted), and received on each
    channel; where a channel stalls under load and catches up afterwards shows here."""
    if not records:
        return {}
    origin = min(r.sent for r in records)
    length = int(max([r.finished for r in records]
                     + [t for got in receipts.values() for t in got.values()]) - origin) + 1
    series = {"sent": [0] * length, "answered": [0] * length,
              **{f"received_{channel}": [0] * length for channel in receipts}}
    for r in records:
        series["sent"][int(r.sent - origin)] += 1
        if r.status == 201:
            series["answered"][int(r.finished - origin)] += 1
    for channel, got in receipts.items():
        for at in got.values():
            if at >= origin:
                series[f"received_{channel}"][int(at - origin)] += 1
    marks = [{"phase": p["phase"], "from_s": round(p["window"][0] - origin, 1),
              "to_s": round(p["window"][1] - origin, 1)} for p in phases]
    return {"seconds": length, "phases": marks, **series}


# --- the table ---------------------------------------------------------------------------------

HEADER = ("path", "load", "offered/s", "achieved/s", "township via", "p50 ms", "p95 ms",
          "p99 ms", "errors", "late", "caught up")


def rows(results: dict) -> list[tuple]:
    out = []
    for path, data in results["paths"].items():
        for phase in [data["closed"], *data["open"]]:
            load = "closed"
            if phase["shape"] == "open":  # a fraction of the real maximum, or of its own
                own = f" of {path}" if phase["fraction_of"] != "real" else ""
                load = f"open {phase['fraction']:g}x{own}"
            offered = "max" if phase["offered_rate"] is None else f"{phase['offered_rate']:.0f}"
            errors = phase["refused"] + phase["no_answer"] + phase["unsent"]
            caught_up = ("no" if phase["drained_in_s"] is None
                         else f"{phase['drained_in_s']:.1f} s")
            for channel, stats in phase["channels"].items():
                out.append((path, load, offered, f"{phase['achieved_rate']:.0f}", channel,
                            _fmt(stats["p50"]), _fmt(stats["p95"]), _fmt(stats["p99"]),
                            str(errors), str(stats["missing"]), caught_up))
    return out


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


LEGEND = ("latency: commit sent (its scheduled time, open loop) → township received; errors: "
          "refused, unanswered or never sent; late: answered but not at the township by the "
          "end of the run; caught up: seconds after the phase until every channel had all")


def table(results: dict) -> str:
    lines = [HEADER, *rows(results)]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(HEADER))]
    text = []
    for n, line in enumerate(lines):
        text.append("  ".join(str(cell).rjust(w) if i >= 2 and i != 4 else str(cell).ljust(w)
                              for i, (cell, w) in enumerate(zip(line, widths, strict=True))))
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join([*text, "", LEGEND])


def headline(results: dict) -> str:
    ratio = results.get("ratio") or {}
    lines = []
    for path, data in results["paths"].items():
        closed = data["closed"]
        lines.append(f"{path:>8}: max sustained {closed['sustained_rate']:.0f} commitments/s "
                     f"to the townships via {'+'.join(data['primary'])} "
                     f"({closed['senders']} closed-loop clients; answered "
                     f"{closed['achieved_rate']:.0f}/s, p50 answer "
                     f"{_fmt(closed['answer_ms']['p50'])} ms)")
        for channel, stats in closed["channels"].items():
            if channel not in data["primary"]:
                lines.append(f"          via {channel}: {stats['delivered_rate']:.0f}/s "
                             f"reached the townships in that phase "
                             f"(all channels: {closed['sustained_rate_all_channels']:.0f}/s)")
    for path, data in results["paths"].items():
        per = data["closed"].get("cpu_ms_per_commitment") or {}
        cpu = data["closed"].get("cpu") or {}
        if per:
            lines.append(f"          {path} CPU ms per commitment at max: "
                         + ", ".join(f"{name} {ms:.1f}" for name, ms in
                                     sorted(per.items(), key=lambda item: -item[1]))
                         + f" (machine busy {cpu.get('machine_busy_cores')} cores, of which "
                           f"others' {cpu.get('others_busy_cores')})")
    if ratio.get("throughput"):
        lines.append(f"   ratio: real / baseline max sustained throughput = "
                     f"{ratio['throughput']:.2f} (baseline {1 / ratio['throughput']:.1f}x "
                     f"faster); with webhooks counted: {ratio['throughput_all_channels']:.2f}")
    if ratio.get("cpu"):
        cpu = ratio["cpu_ms_per_commitment"]
        lines.append(f"     CPU per commitment (services, broker, Redis): real "
                     f"{cpu['real']:.1f} ms, baseline {cpu['baseline']:.1f} ms: ratio "
                     f"{ratio['cpu']:.2f}, the capacity ratio when both are CPU-bound, "
                     "whatever else the machine ran")
    for point in ratio.get("latency_p50_at_same_load", []):
        lines.append(f"          at {point['offered_rate']:.0f}/s offered: p50 real/baseline = "
                     + ", ".join(f"{ch} {v:.1f}x" for ch, v in point["ratios"].items() if v))
    return "\n".join(lines)


# --- files -------------------------------------------------------------------------------------

def write_json(results: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def plot(results: dict, out_dir: Path) -> Path | None:
    """latency.png: p50 and p99 commit → township against offered load, every path and
    channel. None (and a note) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        results.setdefault("notes", []).append(
            "latency.png not drawn: matplotlib is missing (pip install -e '.[bench]')")
        return None
    figure, axis = plt.subplots(figsize=(9, 5.5), dpi=110)
    colours = {("real", "amqp"): "tab:blue", ("real", "webhook"): "tab:orange",
               ("baseline", "amqp"): "tab:green"}
    for path, data in results["paths"].items():
        phases = sorted(data["open"], key=lambda p: p["offered_rate"])
        for channel in phases[0]["channels"] if phases else ():
            colour = colours.get((path, channel), None)
            xs = [p["offered_rate"] for p in phases]
            for q, style in (("p50", "-"), ("p99", "--")):
                ys = [p["channels"][channel][q] for p in phases]
                axis.plot(xs, ys, style, marker="o", color=colour,
                          label=f"{path} → township via {channel}, {q}")
        closed = data["closed"]
        axis.axvline(closed["sustained_rate"], color=colours.get((path, "amqp")), alpha=0.3,
                     linestyle=":", label=f"{path}: max sustained "
                                          f"({closed['sustained_rate']:.0f}/s)")
    axis.set_yscale("log")
    axis.set_xlabel("offered load (commitments per second, open loop)")
    axis.set_ylabel("commit sent → township received (ms, log scale)")
    machine = results["machine"]
    axis.set_title(f"Guabang vs bare nameko hops — {machine['cpu_count']} CPUs, "
                   f"load {results['load_before']['loadavg'][0]} at start, "
                   f"{(machine.get('git_commit') or '')[:8]}", fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "latency.png"
    figure.savefig(path)
    plt.close(figure)
    return path
