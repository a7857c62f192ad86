"""Benchmark of the staff tablet page in a real browser (Debian's Chromium via Playwright).

Serves the demo data (seeded into a scratch SQLite file unless --db is given) with
`inventory serve` in its own process and measures, at tablet size (768x1024):

- bytes transferred for the first load of the sign-in page and of the stock page after
  signing in (everything the browser fetched, as Chromium's network layer counts it);
- the time from submitting a lookup (Enter in the search field, as a scanner does) to the
  numbers of that SKU shown, median and p95 over --lookups random demo SKUs, as a ratio to
  the same browser's round trip for a bare static file (/staff/static/staff.css) in the
  same run.

    .venv/bin/python scripts/bench_staff.py [--db URL] [--lookups 200] [--stores 60] [--days 30]
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.db.database import Database  # noqa: E402
from adapters.demo import seed  # noqa: E402
from adapters.http.auth import KeyStore  # noqa: E402

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "import sys; from adapters.cli import main; sys.exit(main())"]
    process = subprocess.Popen(
        [*command, "serve", "--db", url, "--port", str(port), "--sweep-interval", "0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/staff/", timeout=1)
            return process
        except requests.ConnectionError:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}") from None
            time.sleep(0.1)
    raise SystemExit("server did not start")


def counted_bytes(page: Any, action: Any) -> int:
    """Bytes the browser received (headers and bodies) while `action` ran."""
    client = page.context.new_cdp_session(page)
    client.send("Network.enable")
    total = [0]
    client.on(
        "Network.loadingFinished",
        lambda e: total.__setitem__(0, total[0] + int(e["encodedDataLength"])),
    )
    action()
    page.wait_for_load_state("networkidle")
    client.detach()
    return total[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--stores", type=int, default=60)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-staff-")
    url = args.db or f"sqlite:///{scratch}/demo.db"
    db = Database(url)
    started = time.perf_counter()
    report = seed(db, days=args.days, stores=args.stores)
    print(
        f"demo: {report.events} events, {len(report.network.products)} SKUs "
        f"({time.perf_counter() - started:.0f} s to seed)"
    )
    store = report.network.stores[0].id
    key = KeyStore(db).create("bench tablet", [f"store:{store}"])
    skus = [p.sku for p in report.network.products]
    db.close()
    port = free_port()
    server = serve(url, port)
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(11)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 768, "height": 1024})
            page = context.new_page()
            sign_in_bytes = counted_bytes(page, lambda: page.goto(f"{base}/staff/"))
            page.fill("#key", key)

            def sign_in() -> None:
                page.click("button[type=submit]")
                page.wait_for_selector("#q")

            stock_bytes = counted_bytes(page, sign_in)
            print(
                f"first load: sign-in page with script and style sheet {sign_in_bytes:,} B; "
                f"stock page after sign-in {stock_bytes:,} B (script and style sheet cached)"
            )
            first = rng.choice(skus)
            page.fill("#q", first)
            page.press("#q", "Enter")
            page.wait_for_selector("[data-number=available]")

            def look_up() -> None:
                page.fill("#q", first)
                page.press("#q", "Enter")
                page.wait_for_selector("[data-number=available]")

            lookup_bytes = counted_bytes(page, look_up)
            print(
                f"one lookup (page with numbers, ledger lines, nearby, holds): {lookup_bytes:,} B"
            )
            baseline = []
            for _ in range(50):
                t0 = time.perf_counter()
                page.goto(f"{base}/staff/static/staff.css")
                baseline.append(time.perf_counter() - t0)
            page.goto(f"{base}/staff/")
            times = []
            for _ in range(args.lookups):
                sku = rng.choice(skus)
                page.fill("#q", sku)
                t0 = time.perf_counter()
                page.press("#q", "Enter")
                page.wait_for_function(
                    "sku => { const t = document.getElementById('product-title');"
                    " return t && t.textContent.startsWith(sku + ' ')"
                    " && document.querySelector('[data-number=available]'); }",
                    arg=sku,
                    polling="raf",
                )
                times.append(time.perf_counter() - t0)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    base_ms = statistics.median(baseline) * 1000
    median, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
    print(f"baseline (static file navigation): median {base_ms:.1f} ms")
    print(
        f"lookup submit -> numbers shown over {len(times)} lookups: median {median:.1f} ms "
        f"({median / base_ms:.1f}x baseline), p95 {p95:.1f} ms ({p95 / base_ms:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
