"""The bench's arithmetic (bench/): percentiles, the AMQP share, the phase summary and the
py-spy summary, on made-up sends and receipts."""
from bench.load import Sent, ingress_of
from bench.profile import summarize
from bench.report import percentile, phase_summary


def test_percentiles_interpolate_between_ranks_as_numpy_does():
    values = [float(n) for n in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == 99.01
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_the_amqp_share_is_spread_evenly():
    kinds = [ingress_of(n, 0.15) for n in range(1000)]
    assert kinds.count("amqp") == 150
    assert max(len(run) for run in "".join("a" if k == "amqp" else "h" for k in kinds)
               .split("a")) <= 7  # never a long stretch without one
    assert set(ingress_of(n, 0.0) for n in range(100)) == {"http"}


def test_a_phase_counts_its_window_and_its_latency_per_channel():
    sends = [Sent("open-0", "http", sent=10.0 + n / 10, started=10.0 + n / 10,
                  finished=10.0 + n / 10 + 0.01, status=201, id=f"c{n}") for n in range(100)]
    sends.append(Sent("open-0", "amqp", 12.0, 12.0, 12.5, 409, None, "insufficient"))
    receipts = {"amqp": {f"c{n}": 10.0 + n / 10 + 0.02 for n in range(100)},
                "webhook": {f"c{n}": 10.0 + n / 10 + 0.2 for n in range(80)}}  # c80.. late
    summary = phase_summary(sends, receipts, ("amqp", "webhook"), "open", (11.0, 19.0),
                            offered=10.0, senders=4, primary=("amqp",))
    assert summary["sent"] == 81 and summary["accepted"] == 80 and summary["refused"] == 1
    assert summary["achieved_rate"] == 10.0
    assert summary["channels"]["amqp"]["p50"] == 20.0  # ms
    assert summary["channels"]["webhook"]["p99"] == 200.0
    assert summary["channels"]["webhook"]["missing"] == 10
    assert summary["sustained_rate"] == 10.0  # set by amqp
    assert summary["sustained_rate_all_channels"] == 9.0  # webhooks: c8..c79 in the window


def test_py_spy_stacks_are_summed_by_function_and_package():
    raw = ("main (/v/lib/python3.11/site-packages/nameko/containers.py:10);"
           "hget (/v/lib/python3.11/site-packages/redis/commands/core.py:5) 3\n"
           "main (/v/lib/python3.11/site-packages/nameko/containers.py:10);"
           "commit (/w/services/resources/service.py:9) 1\n")
    summary = summarize(raw)
    assert summary["samples"] == 4
    assert summary["self_top"][0] == ["hget (redis/commands/core.py)", 75.0]
    assert ["main (nameko/containers.py)", 100.0] in summary["inclusive_top"]
    assert ["services/resources", 25.0] in summary["by_package"]
