"""Where the real services spend their CPU under load: py-spy (the bench extra installs it; the
phase is skipped where it is missing or may not attach to a process).

Each service is sampled from outside (`py-spy record --nonblocking`, raw collapsed stacks) while
the closed-loop load runs again; the summary is the share of samples per function (self time,
where the CPU was; and inclusive, what it was doing for) and per package.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(pids: dict[str, int], seconds: float, out_dir: Path) -> dict[str, tuple]:
    """Start one py-spy per process; returns {name: (process, raw file)}."""
    binary = py_spy()
    if binary is None:
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    running = {}
    for name, pid in pids.items():
        raw = out_dir / f"profile-{name}.txt"
        process = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--duration", str(int(seconds)),
             "--rate", "100", "--format", "raw", "--output", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        running[name] = (process, raw)
    return running


def finish(running: dict[str, tuple], top: int = 15) -> dict[str, dict]:
    summaries = {}
    for name, (process, raw) in running.items():
        try:
            _, error = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, error = process.communicate()
        if process.returncode != 0 or not raw.exists():
            summaries[name] = {"error": (error or "py-spy failed").strip()[-500:]}
            continue
        summaries[name] = summarize(raw.read_text(), top)
        summaries[name]["raw_file"] = str(raw)
    return summaries


def _where(file: str) -> str:
    """The package a frame is in: site-packages' top-level name, `services/...`, or stdlib."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    for mark in ("services/", "bench/"):
        if mark in file:
            return mark + file.split(mark, 1)[1].split("/", 1)[0]
    if "lib/python" in file:
        return "stdlib:" + file.rsplit("/", 1)[-1]
    return file


def _frame(text: str) -> tuple[str, str]:
    match = FRAME.match(text.strip())
    if not match:
        return text.strip(), text.strip()
    file = match["file"]
    short = file.split("site-packages/", 1)[-1]
    if "/lib/python3" in short:
        short = short.rsplit("/", 1)[-1]
    return f"{match['function']} ({short})", _where(file)


def summarize(raw: str, top: int = 15) -> dict:
    own, inclusive, packages = Counter(), Counter(), Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith(("process ",
                                                                                 "thread "))]
        if not frames:
            continue
        total += samples
        leaf, leaf_package = frames[-1]
        own[leaf] += samples
        packages[leaf_package] += samples
        for frame in {function for function, _ in frames}:
            inclusive[frame] += samples

    def shares(counter: Counter) -> list[list]:
        return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(top)]

    # the socket and poll frames are where a process waits on the kernel, or lost the CPU to
    # the peer it just woke (on a busy 2-core machine, most of their share): rank the rest too
    python_only = Counter({name: n for name, n in own.items()
                           if not name.endswith(("(eventlet/greenio/base.py)",
                                                 "(eventlet/hubs/epolls.py)",
                                                 "(eventlet/hubs/poll.py)",
                                                 "(eventlet/hubs/hub.py)"))})
    return {"samples": total, "self_top": shares(own), "inclusive_top": shares(inclusive),
            "self_top_outside_io_wait": shares(python_only),
            "by_package": shares(packages)} if total else {"samples": 0}


# --- Redis round trips per commitment, by process and command ----------------------------------

class RedisCensus:
    """Counts the commands each process sends to the bench's Redis database, with MONITOR (run
    only in the profiling phase: MONITOR slows Redis down). Commands run inside Lua scripts are
    counted apart: they cost Redis time but no round trip."""

    def __init__(self, host: str, port: int, db: int):
        import socket
        import threading

        self.db = db
        self.port = port
        self.counts: Counter = Counter()
        self.running = True
        self.sock = socket.create_connection((host, port), timeout=2)
        self.sock.sendall(b"MONITOR\r\n")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        prefix = f"[{self.db} ".encode()
        buffer = b""
        while self.running:
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\r\n")
            for line in lines:
                start = line.find(prefix)
                if start < 0:
                    continue
                close = line.find(b"]", start)
                client = line[start + len(prefix):close]
                command = line[close + 3:line.find(b'"', close + 3)].lower()
                who = "lua" if client == b"lua" else client.rsplit(b":", 1)[-1].decode()
                self.counts[(who, command.decode(errors="replace"))] += 1

    def stop(self, commitments: int, names: dict[int, str]) -> dict:
        self.running = False
        ports = _client_ports(self.port)
        self.sock.close()
        self.thread.join(3)
        if not commitments:
            return {}
        by_process: Counter = Counter()
        by_command: dict[str, Counter] = {}
        for (who, command), n in self.counts.items():
            process = "inside Lua scripts" if who == "lua" else names.get(
                ports.get(int(who) if who.isdigit() else -1), "other")
            by_process[process] += n
            by_command.setdefault(process, Counter())[command] += n
        return {
            "commitments": commitments,
            "per_commitment": {process: round(n / commitments, 2)
                               for process, n in by_process.most_common()},
            "commands_per_commitment": {
                process: {command: round(n / commitments, 2)
                          for command, n in counter.most_common(10)}
                for process, counter in by_command.items()},
        }


def _client_ports(server_port: int) -> dict[int, int]:
    """Local port of each TCP connection to `server_port` on this machine → its process id."""
    from bench.infra import socket_owners, tcp_sockets

    local_port = {s.inode: s.local_port for s in tcp_sockets() if s.remote_port == server_port}
    return {local_port[inode]: pid for inode, pid in socket_owners(local_port)}
