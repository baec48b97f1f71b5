"""Server CPU per request: the CPU time of the processes that serve a request, read from
``/proc`` (Linux), so that a figure does not depend on how busy the shared machine is.

The server's share is the user + system time of the web processes (the gunicorn workers, or
this process for the in-process runner); the database's share is that of the PostgreSQL
backends connected to the benchmark's database (PostgreSQL runs on this machine). Both are
read before and after a step and divided by the requests served in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), 0 if it has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime


def children_of(pid: int) -> list[int]:
    """The processes ``pid`` started (gunicorn's workers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@dataclass(frozen=True)
class CpuSample:
    server: dict[int, float]  # CPU seconds by process id
    database: dict[int, float]


@dataclass(frozen=True)
class CpuUsed:
    server: float  # seconds
    database: float

    def per_request_ms(self, requests: int) -> tuple[float, float]:
        return self.server * 1000 / max(requests, 1), self.database * 1000 / max(requests, 1)


class CpuMeter:
    """Samples the CPU of the web processes ``server_pids()`` names and of the PostgreSQL
    backends connected to the database of ``connection`` (its own backend excepted: it only
    asks which the others are)."""

    def __init__(self, server_pids: Callable[[], Iterable[int]], connection: Connection) -> None:
        self.server_pids = server_pids
        self.connection = connection

    def sample(self) -> CpuSample:
        backends = self.connection.scalars(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        return CpuSample(
            {pid: process_cpu_seconds(pid) for pid in self.server_pids()},
            {pid: process_cpu_seconds(pid) for pid in backends},
        )

    def since(self, before: CpuSample) -> CpuUsed:
        """CPU used since ``before``; a process started since counts from zero."""
        after = self.sample()
        return CpuUsed(_used(before.server, after.server), _used(before.database, after.database))


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def machine() -> str:
    """Cores and load average, printed beside every set of figures."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"
