"""The township examples (examples/township_*.py) against the whole system.

Each runs as a township's IT staff would run it, in its own process: the webhook receiver
(verifying signatures by hand), the AMQP queue consumer and the live-stream client. Each must
print the title of every notification of its township exactly once.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import create_key
from tests.support.system import ROOT, free_port, wait_until

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples"


class Example:
    """One example program in its own process; its output kept in files (no pipes to read
    from green threads)."""

    def __init__(self, script: str, *args: str, env: dict | None = None):
        self.out = tempfile.NamedTemporaryFile(prefix="township-example-", suffix=".out",
                                               delete=False)
        self.err = tempfile.NamedTemporaryFile(prefix="township-example-", suffix=".err",
                                               delete=False)
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), *args], cwd=ROOT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
            stdout=self.out, stderr=self.err)

    def lines(self) -> list[str]:
        return Path(self.out.name).read_text(encoding="utf-8").splitlines()

    def stderr(self) -> str:
        return Path(self.err.name).read_text(encoding="utf-8", errors="replace")

    def wait_for_stderr(self, text: str, timeout: float = 20.0) -> None:
        def said():
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode}:\n{self.stderr()}")
            return text in self.stderr()

        wait_until(said, timeout, 0.1, f"{text!r} from the example")

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"still running after {timeout}s; printed {self.lines()}, "
                                 f"said:\n{self.stderr()}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks signing, for the test's own forgeries and replays."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def inbox(system, township: str, key: str) -> list[dict]:
    with system.client(key) as client:
        response = client.get(f"/v1/townships/{township}/notifications",
                              params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def report_problem(client: httpx.Client, village: str, category: str, title: str) -> dict:
    response = client.post(f"/v1/villages/{village}/problems",
                           json={"category": category, "title": title})
    assert response.status_code == 201, response.text
    return response.json()


def test_each_example_prints_every_title_once_and_the_receiver_refuses_forgeries(
        system, county):
    township, village = county["township"], county["village"]
    key = create_key(system, f"township:{township}")
    port = free_port()
    with system.client(key) as client:
        created = client.post(f"/v1/townships/{township}/webhooks",
                              json={"url": f"http://127.0.0.1:{port}/guabang", "types": ["*"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    receiver = Example("township_webhook_receiver.py", "--port", str(port),
                       env={"GUABANG_WEBHOOK_SECRET": secret})
    queue_name = f"township-{township}.examples-test"
    amqp_uri = system.env["AMQP_URI"]
    queue = Example("township_queue.py", "--amqp-uri", amqp_uri, "--township", township,
                    "--queue", queue_name, "--count", "4", "--timeout", "60")
    stream = Example("township_stream.py", "--base-url", system.base_url, "--township",
                     township, "--key", key, "--count", "5", "--timeout", "60")
    examples = [receiver, queue, stream]
    try:
        receiver.wait_for_stderr("listening on")
        queue.wait_for_stderr("consuming")  # bound: nothing published from now on is dropped
        stream.wait_for_stderr("connected")

        with system.client(key) as client:
            first = report_problem(client, village, "dispute", "宅基地边界纠纷")
            report_problem(client, village, "plan", "村规划待修编")
            report_problem(client, village, "economy", "茶叶销路不畅")
            resolved = client.post(f"/v1/problems/{first['id']}/resolve",
                                   json={"resolution": "村委会调解，双方签字确认"})
            assert resolved.status_code == 200, resolved.text
        assert queue.wait_exit() == 0, queue.stderr()  # --count 4 reached

        # Its queue is durable: what comes while the consumer is away waits for it.
        with system.client(key) as client:
            report_problem(client, village, "organization", "支部换届筹备")
        again = Example("township_queue.py", "--amqp-uri", amqp_uri, "--township", township,
                        "--queue", queue_name, "--count", "1", "--timeout", "30")
        examples.append(again)
        assert again.wait_exit() == 0, again.stderr()
        assert stream.wait_exit() == 0, stream.stderr()  # --count 5 reached

        items = inbox(system, township, key)
        titles = [item["title_zh"] for item in items]
        assert len(titles) == len(set(titles)) == 5, titles
        wait_until(lambda: len(receiver.lines()) >= 5, 20, 0.2, "every webhook delivery")

        assert stream.lines() == titles  # the stream keeps the inbox's order
        assert sorted(queue.lines() + again.lines()) == sorted(titles)
        assert again.lines() == [titles[4]]  # the one made while no consumer ran
        assert sorted(receiver.lines()) == sorted(titles)  # webhooks may come in any order

        # A forged delivery, a stale one and a replay: the first two are refused, the third
        # is answered 204 (the receiver has it) but not handled again.
        url = f"http://127.0.0.1:{port}/guabang"
        genuine = items[0]
        body = json.dumps({k: v for k, v in genuine.items() if k not in ("cursor", "acked_by")},
                          ensure_ascii=False).encode()
        now = int(time.time())
        forged = httpx.post(url, content=body, headers={
            "webhook-id": genuine["id"], "webhook-timestamp": str(now),
            "webhook-signature": sign("whsec_" + "QUJD" * 8, genuine["id"], now, body)})
        assert 400 <= forged.status_code < 500
        tampered = httpx.post(url, content=body.replace("纠纷".encode(), "冒充".encode()),
                              headers={"webhook-id": genuine["id"],
                                       "webhook-timestamp": str(now),
                                       "webhook-signature": sign(secret, genuine["id"], now,
                                                                 body)})
        assert 400 <= tampered.status_code < 500
        stale_at = now - 6 * 60
        stale = httpx.post(url, content=body, headers={
            "webhook-id": genuine["id"], "webhook-timestamp": str(stale_at),
            "webhook-signature": sign(secret, genuine["id"], stale_at, body)})
        assert 400 <= stale.status_code < 500
        replay = httpx.post(url, content=body, headers={
            "webhook-id": genuine["id"], "webhook-timestamp": str(now),
            "webhook-signature": sign(secret, genuine["id"], now, body)})
        assert replay.status_code == 204

        time.sleep(1.5)  # anything doubled would have arrived by now
        for name, printed in (("webhook", receiver.lines()),
                              ("amqp", queue.lines() + again.lines()),
                              ("stream", stream.lines())):
            doubled = [title for title, n in Counter(printed).items() if n > 1]
            assert not doubled, f"{name} printed twice: {doubled}"
            assert sorted(printed) == sorted(titles), name
        assert "refused a delivery: bad signature" in receiver.stderr()
        assert "webhook-timestamp is" in receiver.stderr()
    finally:
        for example in examples:
            example.stop()


def test_the_stream_example_carries_on_across_a_gateway_restart(system, county):
    township, village = county["township"], county["village"]
    key = create_key(system, f"township:{township}")
    stream = Example("township_stream.py", "--base-url", system.base_url, "--township",
                     township, "--key", key, "--count", "4", "--timeout", "90")
    try:
        stream.wait_for_stderr("connected")
        with system.client(key) as client:
            for n in range(2):
                report_problem(client, village, "economy", f"重启前{n}")
        wait_until(lambda: len(stream.lines()) >= 2, 20, 0.1, "two titles")
        system.stop("gateway")
        system.start("gateway")
        system.wait_healthy()
        with system.client(key) as client:
            for n in range(2):
                report_problem(client, village, "economy", f"重启后{n}")
        assert stream.wait_exit(60) == 0, stream.stderr()
        assert stream.lines() == [item["title_zh"] for item in inbox(system, township, key)]
        assert [line.rsplit("：", 1)[1] for line in stream.lines()] == [
            "重启前0", "重启前1", "重启后0", "重启后1"]  # no gap, no repeat, in order
        assert "reconnecting after" in stream.stderr()  # it did lose the connection
    finally:
        stream.stop()


def test_the_stream_example_stops_at_once_on_a_refused_key(system, county):
    stream = Example("township_stream.py", "--base-url", system.base_url, "--township",
                     county["township"], "--key", "gbk_not-a-key", "--timeout", "30")
    try:
        assert stream.wait_exit(20) == 2
        assert "401" in stream.stderr()
    finally:
        stream.stop()
