"""Reliability, proven: under a steady stream of requests, kill every service in turn,
restart the broker and Redis, start a service late; every accepted request is stored once,
announced by one event, and reaches each township once on every channel.

`make test` runs a bounded form (GUABANG_FAULTS_REQUESTS, default 300: every fault once);
`make faults` runs thousands of requests and repeats the faults. Runs on a RabbitMQ node and
a Redis server of its own (tests/faults/infra.py), never the shared ones."""
import pytest

from tests.faults.suite import problems, requests_wanted, run_suite

pytestmark = pytest.mark.faults


def test_no_accepted_request_is_lost_or_duplicated_under_faults():
    results = run_suite(requests_wanted())

    assert results["totals"]["sent"] == requests_wanted()
    # every fault was injected (each one round per 1000 requests) with requests in flight
    assert {f["name"] for f in results["faults"]} == set(results["planned_faults"])
    for row in results["rows"]:
        assert row["lost"] == 0 and row["duplicated"] == 0, row
    assert problems(results) == []
