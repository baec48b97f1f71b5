"""What a browser test pays Chromium: the machine's CPU for opening a page in a new browser
context (a new person, as ``open_page`` does) and for one navigation on an open page, for
each Chromium installed that the tests could drive.

    .venv/bin/python -m bench.browser [--rounds 30]

Chromium's processes come and go (a renderer per page), so the CPU is the whole machine's,
read from ``/proc/stat`` around each step: run it on a quiet machine, and compare the
executables of the same run. The page is a small one served from this process (a one-route
Flask app), so that what is measured is the browser's own work, not a page's.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from playwright.sync_api import sync_playwright

from core.testing import CHROMIUM_ARGS, CHROMIUM_EXECUTABLES, served

PAGE = "<!doctype html><title>bench</title><h1>A page</h1><p>" + "Some words. " * 200 + "</p>"


def page_app() -> Flask:
    """An app of one small page."""
    app = Flask(__name__)
    app.add_url_rule("/", "page", lambda: PAGE)
    return app


def machine_cpu_seconds() -> float:
    """CPU time every core of the machine spent busy since boot (not idle, not waiting)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, *_ = map(int, stat.readline().split()[1:])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class BrowserCost:
    new_page_ms: float  # machine CPU: a new context, a page in it, the page loaded, closed
    navigation_ms: float  # machine CPU: one more page loaded in an open page


def measure(browser: Any, rounds: int) -> BrowserCost:
    """What pages cost in ``browser``, a Chromium that Playwright launched."""
    with served(page_app()) as url:

        def new_page() -> None:
            context = browser.new_context()
            context.new_page().goto(url)
            context.close()

        new_page()  # warm up
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        navigation = per_round(lambda: page.goto(url), rounds)
        context.close()
        return BrowserCost(per_round(new_page, rounds), navigation)


def per_round(step: Callable[[], object], rounds: int) -> float:
    """Machine CPU in ms per run of ``step``."""
    before = machine_cpu_seconds()
    for _ in range(rounds):
        step()
    return (machine_cpu_seconds() - before) * 1000 / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per page loaded
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}, {time.ctime()}")
    print(f"{'executable':40} {'new context + page':>20} {'navigation':>12}  (machine CPU, ms)")
    named = [os.environ["ALMA_CHROMIUM"]] if os.environ.get("ALMA_CHROMIUM") else []
    with sync_playwright() as playwright:
        for executable in [*named, *(p for p in CHROMIUM_EXECUTABLES if os.path.exists(p))]:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            cost = measure(browser, options.rounds)
            browser.close()
            print(f"{executable:40} {cost.new_page_ms:20.0f} {cost.navigation_ms:12.0f}")


if __name__ == "__main__":
    main()
