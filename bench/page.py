"""The web page in headless Chromium against `roost demo` with a year of history.

    python bench/page.py              # 7 runs
    python bench/page.py --runs 15

Each run opens a fresh browser context (empty cache, as a first visit) at 1280 x 800 and measures:

- first live value: from the start of navigation to the dashboard showing the
  first values of the live snapshot (the page's `roost:first-value` mark);
- transferred: bytes over the wire for the page itself (HTML, JS, CSS, as sent:
  gzip-compressed for Chromium over plain HTTP), for the dashboard and with the
  charts module too, and the API replies of a first visit;
- year chart: three series over a year as the page asks for them at 1280 px
  (daily buckets, min/max/mean, drawn as a band and the mean line), from the
  data's arrival to the charts drawn (the page's `roost:chart-render` measure:
  building uPlot's arrays and drawing), and the whole round trip from opening
  the Charts view (fetch included).

Before the runs it writes a year of 3 series at one sample every 10 minutes as
CSV and imports it with `roost history import` into a temporary data directory.
Targets (issue 5): chart render under 200 ms, first live value under 1 s on
loopback. It prints medians; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PATHS = ["living_room/temperature", "outside/temperature", "solar/power_w"]
YEAR_S = 365 * 86400
STEP_S = 600


def write_year_csv(path: Path, now: float) -> int:
    """A year of plausible readings for PATHS: seasons, days and nights, noise."""
    rng = random.Random(5)
    rows = 0
    with path.open("w") as f:
        f.write("path,timestamp,value\n")
        t = int(now - YEAR_S - 86400) // STEP_S * STEP_S
        while t < now - STEP_S:
            season = math.sin((t / 86400 % 365) / 365 * 2 * math.pi - 1.9)
            day = math.sin(((t / 3600) % 24 - 9) / 24 * 2 * math.pi)
            f.write(f"{PATHS[0]},{t},{21 + 1.5 * season + 1.2 * day + rng.gauss(0, 0.2):.2f}\n")
            f.write(f"{PATHS[1]},{t},{9 + 9 * season + 5 * day + rng.gauss(0, 0.8):.2f}\n")
            f.write(
                f"{PATHS[2]},{t},{max(0.0, 3000 * (0.6 + 0.4 * season) * day) * rng.uniform(0.7, 1):.1f}\n"
            )
            t += STEP_S
            rows += 3
    return rows


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "roost", "demo", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"roost demo did not start:\n{log.read_text()}")


SIZES = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
    .map(e => [new URL(e.name).pathname, e.transferSize])"""


async def one_run(browser: Any, url: str) -> dict[str, Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    await context.add_init_script(
        "localStorage.setItem('roost.charts', JSON.stringify({paths: %s, range: '1y'}))" % PATHS  # noqa: UP031
    )
    page = await context.new_page()
    await page.goto(url + "/")
    await page.wait_for_function(
        "performance.getEntriesByName('roost:first-value').length > 0", timeout=10_000
    )
    first_value_ms = await page.evaluate("performance.getEntriesByName('roost:first-value')[0].startTime")
    await page.wait_for_load_state("networkidle")
    dashboard = await page.evaluate(SIZES)

    opened = time.perf_counter()
    await page.click('.tabs a[data-view="charts"]')
    await page.wait_for_function(
        "performance.getEntriesByName('roost:chart-render').length > 0", timeout=30_000
    )
    round_trip_ms = (time.perf_counter() - opened) * 1000
    render_ms = await page.evaluate("performance.getEntriesByName('roost:chart-render')[0].duration")
    points = await page.evaluate(
        "() => [...document.querySelectorAll('.chart')].map(c => [c.dataset.resolution, Number(c.dataset.points)])"
    )
    everything = await page.evaluate(SIZES)
    await context.close()

    def page_bytes(entries: list[list[Any]]) -> int:
        return sum(int(n) for p, n in entries if p == "/" or p.startswith("/static/"))

    return {
        "first_value_ms": first_value_ms,
        "dashboard_bytes": page_bytes(dashboard),
        "page_bytes": page_bytes(everything),
        "api_bytes": sum(int(n) for p, n in dashboard if p.startswith("/api/") or p == "/healthz"),
        "history_bytes": sum(int(n) for p, n in everything if p == "/api/history"),
        "render_ms": render_ms,
        "round_trip_ms": round_trip_ms,
        "points": points,
    }


def show(label: str, values: list[float], unit: str, target: str = "") -> None:
    median = statistics.median(values)
    print(
        f"  {label:<34} median {median:8.1f} {unit:<3} (min {min(values):.1f}, max {max(values):.1f})"
        + (f"  target {target}" if target else "")
    )


async def bench(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="roost-bench-page-") as tmp:
        data = Path(tmp) / "data"
        csv_path = Path(tmp) / "year.csv"
        rows = write_year_csv(csv_path, time.time())
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "roost", "history", "import", "--data-dir", str(data), str(csv_path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"imported {rows:,} rows (3 series, one sample per {STEP_S // 60} min, a year) in {time.monotonic() - started:.1f} s"
        )
        port = free_port()
        proc = start_demo(data, port, Path(tmp) / "roost.log")
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                await one_run(browser, f"http://127.0.0.1:{port}")  # warm up the server and the disk cache
                results = [await one_run(browser, f"http://127.0.0.1:{port}") for _ in range(runs)]
                await browser.close()
        finally:
            proc.terminate()
            proc.wait(10)

    print(f"\nthe page in headless Chromium, {runs} runs, fresh context each (cold cache), 1280 x 800")
    show("first live value", [r["first_value_ms"] for r in results], "ms", "< 1000 ms")
    show("year chart render (3 series)", [r["render_ms"] for r in results], "ms", "< 200 ms")
    show("open Charts to drawn (with fetch)", [r["round_trip_ms"] for r in results], "ms")
    r = results[-1]
    print(f"  charts drawn (resolution s, points): {r['points']}")
    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    print(
        f"  transferred: dashboard {kb(r['dashboard_bytes'])}, with charts {kb(r['page_bytes'])}"
        f" (budget 150 KB); API on first visit {kb(r['api_bytes'])}; year of history {kb(r['history_bytes'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="measured runs (default 7)")
    args = parser.parse_args()
    asyncio.run(bench(args.runs))


if __name__ == "__main__":
    main()
