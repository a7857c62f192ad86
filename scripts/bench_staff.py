"""Benchmark of the staff tablet page in a real browser (Debian's Chromium via Playwright).

    .venv/bin/python scripts/bench_staff.py [--backends sqlite,postgresql] [--db URL]
                                            [--lookups 200] [--baseline 50] [--stores 60]
                                            [--days 30] [--rounds 3] [--smoke] [--json PATH]

Serves the demo data (seeded into a scratch database per backend, or the database of --db)
with `inventory serve` in its own process and measures, at tablet size (768x1024):
- `staff/<db>/lookup` (headline): the time from submitting a lookup (Enter in the search field,
  as a scanner does) to the numbers of that SKU shown, median over random demo SKUs, beside the
  same browser's round trip for a bare static file (/staff/static/staff.css), median; the
  lookups and the static-file loads are split over the rounds, in alternation;
- `staff/<db>/lookup-p95`: the 95th percentile of the same lookups, beside the same baseline;
- `staff/<db>/bytes-sign-in`, `bytes-stock`, `bytes-lookup`: bytes transferred for the first
  load of the sign-in page, of the stock page after signing in, and of one lookup (everything
  the browser fetched, as Chromium's network layer counts it).
Needs /usr/bin/chromium (scripts/install_browser.sh).
"""

from __future__ import annotations

import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as b

from adapters.db.database import Database
from adapters.demo import seed

ROOT = b.ROOT

CHROMIUM = Path("/usr/bin/chromium")
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
    return subprocess.Popen(
        [*b.CLI, "serve", "--db", url, "--port", str(port), "--sweep-interval", "0"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/staff/", timeout=1)
            return
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


def wait_for_numbers(page: Any, sku: str) -> None:
    page.wait_for_function(
        "sku => { const t = document.getElementById('product-title');"
        " return t && t.textContent.startsWith(sku + ' ')"
        " && document.querySelector('[data-number=available]'); }",
        arg=sku,
        polling="raf",
    )


class Browser:
    """Chromium, launched on first use (while the first server starts)."""

    def __init__(self, playwright: Any) -> None:
        self.playwright = playwright
        self.browser: Any = None

    def get(self) -> Any:
        if self.browser is None:
            self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        return self.browser

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


def run(backend: str, url: str, chromium: Browser, args: Any, report: b.Report) -> None:
    print(f"{backend}: {args.rounds} round(s)", flush=True)
    db = Database(url)
    started = time.perf_counter()
    demo = seed(db, days=args.days, stores=args.stores, skus=40 if args.smoke else None)
    print(
        f"  demo: {demo.events} events, {len(demo.network.products)} SKUs "
        f"({time.perf_counter() - started:.0f} s to seed)",
        flush=True,
    )
    store = demo.network.stores[0].id
    skus = [p.sku for p in demo.network.products]
    db.close()
    port = free_port()
    server = serve(url, port)  # starts while the key is made
    key = b.command("keys", "create", "--db", url, "--scope", f"store:{store}", "--name", "bench")
    key = key.strip()
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(11)
    try:
        browser = chromium.get()
        wait_ready(server, port)
        context = browser.new_context(viewport={"width": 768, "height": 1024})
        page = context.new_page()
        sign_in_bytes = counted_bytes(page, lambda: page.goto(f"{base}/staff/"))
        page.fill("#key", key)

        def sign_in() -> None:
            page.click("button[type=submit]")
            page.wait_for_selector("#q")

        stock_bytes = counted_bytes(page, sign_in)
        first = rng.choice(skus)
        page.fill("#q", first)
        page.press("#q", "Enter")
        wait_for_numbers(page, first)

        def look_up() -> None:
            page.fill("#q", first)
            page.press("#q", "Enter")
            page.wait_for_selector("[data-number=available]")

        lookup_bytes = counted_bytes(page, look_up)
        baseline_ms: list[list[float]] = []
        lookup_ms: list[list[float]] = []

        def static_file() -> float:
            times = []
            for _ in range(max(1, args.baseline // args.rounds)):
                t0 = time.perf_counter()
                page.goto(f"{base}/staff/static/staff.css")
                times.append((time.perf_counter() - t0) * 1000)
            baseline_ms.append(times)
            return statistics.median(times)

        def lookups() -> float:
            page.goto(f"{base}/staff/")
            times = []
            for _ in range(max(1, args.lookups // args.rounds)):
                sku = rng.choice(skus)
                page.fill("#q", sku)
                t0 = time.perf_counter()
                page.press("#q", "Enter")
                wait_for_numbers(page, sku)
                times.append((time.perf_counter() - t0) * 1000)
            lookup_ms.append(times)
            return statistics.median(times)

        baseline, median = b.alternate(args.rounds, static_file, lookups)
        context.close()
    finally:
        server.terminate()
        server.wait(10)
    count = sum(len(x) for x in lookup_ms)
    report.add(
        b.Figure(
            f"staff/{backend}/lookup",
            "ms",
            median,
            baseline="static-file navigation",
            baseline_samples=baseline,
            higher_is_better=False,
            note=f"submit to numbers shown, median of {count} lookups",
        )
    )
    report.add(
        b.Figure(
            f"staff/{backend}/lookup-p95",
            "ms",
            [percentile(x, 0.95) for x in lookup_ms],
            baseline="static-file navigation",
            baseline_samples=baseline,
            higher_is_better=False,
            headline=False,
        )
    )
    for name, value in (
        ("bytes-sign-in", sign_in_bytes),
        ("bytes-stock", stock_bytes),
        ("bytes-lookup", lookup_bytes),
    ):
        report.add(
            b.Figure(
                f"staff/{backend}/{name}",
                "B",
                [float(value)],
                higher_is_better=False,
                headline=False,
            )
        )


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--db", help="an existing database URL instead of scratch ones")
    parser.add_argument("--lookups", type=int, default=200, help="lookups, over all rounds")
    parser.add_argument("--baseline", type=int, default=50, help="static-file loads, all rounds")
    parser.add_argument("--stores", type=int, default=60)
    parser.add_argument("--days", type=int, default=30)
    args = b.parse(parser, {"lookups": 5, "baseline": 3, "stores": 4, "days": 1})
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is needed: sh scripts/install_browser.sh")
    report = b.Report("staff", args)
    with sync_playwright() as playwright:
        browser = Browser(playwright)
        if args.db:
            backend = "postgresql" if args.db.startswith("postgresql") else "sqlite"
            run(backend, args.db, browser, args, report)
            backends = [backend]
        else:
            backends = b.usable_backends(args.backends, report)
            for backend in backends:
                with b.scratch_database(backend, "staff") as url:
                    run(backend, url, browser, args, report)
        browser.close()
    names = ("lookup", "lookup-p95", "bytes-sign-in", "bytes-stock", "bytes-lookup")
    return report.finish([f"staff/{x}/{n}" for x in backends for n in names])


if __name__ == "__main__":
    raise SystemExit(main())
