"""Where the test suite's CPU goes, per test kind and per fixture: a pytest plugin that
records, for each test, the CPU time of the test process (every thread: a live server's
too) in its setup, body and teardown, and each fixture's own setup CPU (its nested
fixtures' subtracted). Wall time on a shared machine says little; CPU time does.

    ALMA_TEST_CPU=/tmp/cpu.jsonl .venv/bin/python -m pytest -p bench.suite_cpu -n 0 ... tests/...
    .venv/bin/python -m bench.suite_cpu /tmp/cpu.jsonl      # the table per test kind

Left out: the CPU of Chromium and of the PostgreSQL server (other processes)."""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

_fixture_stack: list[list[float]] = []  # per open fixture setup: [started, nested CPU]
_current: dict[str, Any] = {}


def _output() -> str | None:
    return os.environ.get("ALMA_TEST_CPU")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Iterator[None]:
    started = time.process_time()
    _fixture_stack.append([started, 0.0])
    yield
    _, nested = _fixture_stack.pop()
    spent = time.process_time() - started
    if _fixture_stack:
        _fixture_stack[-1][1] += spent
    fixtures = _current.setdefault("fixtures", collections.Counter())
    fixtures[fixturedef.argname] += spent - nested


def _phase(item: pytest.Item, phase: str) -> Iterator[None]:
    started, clock = time.process_time(), time.perf_counter()
    yield
    _current[phase] = time.process_time() - started
    _current["wall"] = _current.get("wall", 0.0) + time.perf_counter() - clock


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _current.clear()
    yield from _phase(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _phase(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    yield from _phase(item, "teardown")
    path = _output()
    if path is None:
        return
    record = {
        "test": item.nodeid,
        "kind": kind_of(item.nodeid),
        "setup": _current.get("setup", 0.0),
        "call": _current.get("call", 0.0),
        "teardown": _current.get("teardown", 0.0),
        "wall": _current.get("wall", 0.0),
        "fixtures": dict(_current.get("fixtures", {})),
    }
    with open(path, "a") as out:
        out.write(json.dumps(record) + "\n")


def kind_of(nodeid: str) -> str:
    """core, plugins, flows, e2e (browser), scale, examples, translations, architecture."""
    parts = nodeid.split("::")[0].split("/")
    return parts[1] if len(parts) > 2 else parts[-1].removesuffix(".py")


def report(path: str) -> None:
    """Per kind: tests, CPU per test in setup/body/teardown, and the costliest fixtures."""
    with open(path) as lines:
        records = [json.loads(line) for line in lines]
    by_kind: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        by_kind[kind_of(record["test"])].append(record)
    print("| kind | tests | CPU ms | setup | body | teardown | wall ms | top fixtures (ms/test) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind, rows in sorted(by_kind.items()):
        n = len(rows)
        mean = {p: 1000 * sum(r[p] for r in rows) / n for p in ("setup", "call", "teardown")}
        fixtures: collections.Counter[str] = collections.Counter()
        for r in rows:
            fixtures.update(r["fixtures"])
        top = ", ".join(f"{name} {1000 * cpu / n:.0f}" for name, cpu in fixtures.most_common(5))
        total = sum(mean.values())
        wall = 1000 * sum(r.get("wall", 0.0) for r in rows) / n
        print(
            f"| {kind} | {n} | {total:.0f} | {mean['setup']:.0f} | {mean['call']:.0f} "
            f"| {mean['teardown']:.0f} | {wall:.0f} | {top} |"
        )
    everything = sum(r["setup"] + r["call"] + r["teardown"] for r in records)
    print(f"\n{len(records)} tests, {everything:.1f} s CPU in the test process")


if __name__ == "__main__":
    report(sys.argv[1])
