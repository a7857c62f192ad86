"""The staff page in a real browser (Debian's Chromium through Playwright), on seeded demo
data: sign in, look up, nearby, hold / hand over / release seen live by a second tablet,
refusals, field errors, offline banner, accessibility, and a screenshot of every screen.

SQLite only: the page's logic is the same on both databases (tests/e2e/test_staff_http.py runs
on both).  One browser for the module; each test opens its own contexts (tablets).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.db.database import Database
from adapters.demo import seed
from adapters.http.app import create_app
from adapters.http.auth import KeyStore
from adapters.http.settings import Settings
from adapters.locations import get
from inventory.events import EventType, StockEvent
from inventory.reservations import Line
from inventory.services.reservations import reserve
from tests.api_fixtures import ServerThread

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
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "staff"
PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1024, "height": 768}

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists() and os.environ.get("INVENTORY_REQUIRE_BROWSER") == "1":
    pytest.fail("Chromium required (CI) but missing: run scripts/install_browser.sh", pytrace=False)
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="run scripts/install_browser.sh")


@dataclass
class Shop:
    url: str
    db: Database
    store: str  # the tablet's store (A)
    other: str  # another store (B)
    keys: dict[str, str]
    skus: list[str]  # SKUs with at least 6 available at A, one per test
    gtins: dict[str, str]

    def available(self, sku: str, location: str | None = None) -> dict[str, Any]:
        response = requests.get(
            f"{self.url}/v1/availability/{sku}",
            params={"location": location or self.store},
            headers={"Authorization": f"Bearer {self.keys['read']}"},
            timeout=10,
        )
        return dict(response.json()["locations"][0])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    path = tmp_path_factory.mktemp("staff") / "shop.db"
    db = Database(f"sqlite:///{path}")
    report = seed(db, days=3, stores=8, skus=40)
    store, other = report.network.stores[0].id, report.network.stores[1].id
    keys = KeyStore(db)
    made = {
        "store": keys.create("tablet A", [f"store:{store}"]),
        "read": keys.create("storefront", ["read"]),
    }
    now = db.reader.clock()
    skus = [p.sku for p in report.network.products[:8]]
    db.ledger.append(
        [
            StockEvent(f"staff-test-{sku}", EventType.RECEIPT, sku, store, 20, now, channel="wms")
            for sku in skus
        ]
    )
    pickup = skus.pop()
    reserve(
        db.unit_of_work,
        "web-1001",
        store,
        [Line(pickup, 1)],
        now + 3_600_000_000,
        "web",
        "order W-1001",
    )
    app = create_app(db, Settings(sweep_interval_seconds=0))
    with ServerThread(app) as server:
        yield Shop(
            server.url,
            db,
            store,
            other,
            made,
            skus,
            {p.sku: p.gtin for p in report.network.products},
        )
    db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def tablet(browser: Any, shop: Shop, viewport: dict[str, int] = PORTRAIT) -> Any:
    """A signed-in page in a fresh context (its own cookie jar)."""
    context = browser.new_context(viewport=viewport, has_touch=True)
    page = context.new_page()
    page.goto(f"{shop.url}/staff/")
    page.fill("#key", shop.keys["store"])
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("#q")
    return page


def look_up(page: Any, text: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")  # what a scanner sends after the digits
    page.wait_for_selector("[data-number=available]")


def shown(page: Any) -> dict[str, int]:
    return {
        name: int(page.inner_text(f"[data-number={name}]"))
        for name in ("available", "on_hand", "reserved", "in_transit", "safety_stock")
    }


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_sign_in_refuses_a_key_without_a_store_scope(browser: Any, shop: Shop) -> None:
    context = browser.new_context(viewport=PORTRAIT)
    page = context.new_page()
    page.goto(f"{shop.url}/staff/")
    shot(page, "01-sign-in")
    assert serious_violations(page) == []
    page.fill("#key", shop.keys["read"])
    page.click("button:has-text('Sign in')")
    assert "no store scope" in page.inner_text("#key-error")
    assert page.get_attribute("#key", "aria-invalid") == "true"
    assert context.cookies() == []
    context.close()


def test_look_up_by_sku_and_barcode_shows_the_api_numbers(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    cookie = page.context.cookies()[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert page.evaluate("document.cookie") == ""  # not readable by scripts
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    sku = shop.skus[0]
    look_up(page, sku)
    expected = {k: v for k, v in shop.available(sku).items() if k not in ("location", "flags")}
    assert shown(page) == expected
    assert page.locator("table.lines tbody tr").count() >= 1
    shot(page, "02-lookup-portrait")
    assert serious_violations(page) == []
    look_up(page, shop.gtins[sku])
    assert page.inner_text("#product-title").startswith(sku)
    assert shown(page) == expected
    assert shop.keys["store"] not in page.url
    page.set_viewport_size(LANDSCAPE)
    shot(page, "03-lookup-landscape")
    page.fill("#q", "0000000000000")
    page.press("#q", "Enter")
    assert "no such product" in page.inner_text("#no-product")
    shot(page, "04-no-such-product")
    page.context.close()


def test_touch_targets_are_at_least_44px(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    look_up(page, shop.skus[0])
    sizes = page.eval_on_selector_all(
        "button, input:not([type=hidden]), select",
        "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
    )
    assert sizes and all(w >= 44 and h >= 44 for w, h in sizes), sizes
    page.context.close()


def test_nearby_stores_come_nearest_first_with_the_apis_distances(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    sku = shop.skus[1]
    look_up(page, sku)
    rows = page.eval_on_selector_all(
        "section.nearby table:first-of-type tbody tr[data-location]",
        "rows => rows.map(r => [r.dataset.location, Number(r.querySelector('[data-km]')"
        ".dataset.km)])",
    )
    assert rows, "no nearby store listed"
    assert [km for _, km in rows] == sorted(km for _, km in rows)
    here = get(shop.db, shop.store)  # the store's coordinates, from the locations table
    assert here is not None
    response = requests.get(
        f"{shop.url}/v1/availability/{sku}",
        params={"near": f"{here['lat']},{here['lon']}", "radius_km": "20040"},
        headers={"Authorization": f"Bearer {shop.keys['read']}"},
        timeout=10,
    ).json()
    api = {r["location"]: r["distance_km"] for r in response["locations"]}
    assert all(api[location] == km for location, km in rows)
    shot(page, "05-nearby")
    page.context.close()


def test_hold_is_seen_live_by_a_second_tablet_then_hand_over_and_release(
    browser: Any, shop: Shop
) -> None:
    sku = shop.skus[2]
    first, second = tablet(browser, shop), tablet(browser, shop, LANDSCAPE)
    look_up(first, sku)
    look_up(second, sku)
    before = shown(second)
    first.fill("#hold-quantity", "2")
    first.fill("#hold-reference", "Ms Weber")
    first.click("button:has-text('Hold')")
    first.wait_for_selector("text=Held 2")
    sync_api.expect(second.locator("[data-number=available]")).to_have_text(
        str(before["available"] - 2), timeout=2500
    )
    assert shown(second)["reserved"] == before["reserved"] + 2
    shot(first, "06-hold")
    holding = first.locator(".holds .reservation", has_text="Ms Weber")
    holding.locator("button:has-text('Handed over')").click()
    first.wait_for_selector("text=Handed over 2")
    assert shown(first)["on_hand"] == before["on_hand"] - 2
    sync_api.expect(second.locator("[data-number=on_hand]")).to_have_text(
        str(before["on_hand"] - 2), timeout=2500
    )
    first.fill("#hold-quantity", "3")
    first.fill("#hold-reference", "Mr Ali")
    first.click("button:has-text('Hold')")
    first.wait_for_selector("text=Held 3")
    assert shown(first)["available"] == before["available"] - 2 - 3
    first.locator(".holds .reservation", has_text="Mr Ali").locator("button").nth(1).click()
    first.wait_for_selector("text=Released")
    assert shown(first)["available"] == before["available"] - 2
    assert shop.available(sku)["available"] == before["available"] - 2
    first.context.close()
    second.context.close()


def test_pickups_are_listed_and_handed_over(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    pickup = page.locator(".pickups .reservation", has_text="order W-1001")
    sync_api.expect(pickup).to_have_count(1)
    shot(page, "07-pickups")
    assert serious_violations(page) == []
    pickup.locator("button:has-text('Handed over')").click()
    page.wait_for_selector("text=Handed over 1")
    sync_api.expect(page.locator(".pickups .reservation", has_text="W-1001")).to_have_count(0)
    page.context.close()


def test_a_hold_at_another_store_is_refused_and_changes_nothing(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    sku = shop.skus[3]
    look_up(page, sku)
    before = shop.available(sku, shop.other)
    head = shop.db.reader.head()
    # the form's hidden location edited by hand, as a hand-crafted request would
    page.eval_on_selector(
        "form[action='/staff/hold'] input[name=location]", f"e => e.value = '{shop.other}'"
    )
    page.fill("#hold-quantity", "1")
    page.fill("#hold-reference", "x")
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if "/hold" in r.url else None)
    page.click("button:has-text('Hold')")
    page.wait_for_selector("[data-status='403']")
    assert 403 in response_status
    assert "may act only at" in page.inner_text("main")
    shot(page, "08-refused")
    csrf = page.input_value("form.signout input[name=csrf]")
    crafted = page.request.post(
        f"{shop.url}/staff/hold",
        form={
            "csrf": csrf,
            "sku": sku,
            "quantity": "1",
            "reference": "x",
            "minutes": "5",
            "location": shop.other,
        },
    )
    assert crafted.status == 403
    assert shop.available(sku, shop.other) == before
    assert shop.db.reader.head() == head
    page.context.close()


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [("0", "more than 0"), ("-1", "more than 0"), ("abc", "whole number"), ("9999", "only")],
)
def test_bad_quantities_are_marked_on_the_field(
    browser: Any, shop: Shop, quantity: str, reason: str
) -> None:
    page = tablet(browser, shop)
    sku = shop.skus[4]
    look_up(page, sku)
    head = shop.db.reader.head()
    page.fill("#hold-quantity", quantity)
    page.fill("#hold-reference", "x")
    page.click("button:has-text('Hold')")
    page.wait_for_selector("#hold-quantity-error")
    assert reason in page.inner_text("#hold-quantity-error")
    assert page.get_attribute("#hold-quantity", "aria-invalid") == "true"
    assert "Traceback" not in page.content()
    assert shop.db.reader.head() == head
    if quantity == "abc":
        shot(page, "09-field-error")
        assert serious_violations(page) == []
    page.context.close()


def test_count_shows_the_change_it_made(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    sku = shop.skus[5]
    look_up(page, sku)
    on_hand = shown(page)["on_hand"]
    page.fill("#count-counted", str(on_hand + 1))
    page.select_option("#count-reason", "found")
    page.click("button:has-text('Record count')")
    page.wait_for_selector(f"text=on hand {on_hand} → {on_hand + 1} (+1)")
    assert shown(page)["on_hand"] == on_hand + 1
    shot(page, "10-count")
    page.context.close()


def test_offline_banner_disables_writes(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    look_up(page, shop.skus[0])
    page.context.set_offline(True)
    banner = page.locator("#offline")
    sync_api.expect(banner).to_be_visible(timeout=5000)
    assert re.fullmatch(r"offline — last updated \d\d:\d\d", banner.inner_text().strip())
    assert page.is_disabled("form[action='/staff/hold'] button")
    shot(page, "11-offline")
    page.context.set_offline(False)
    sync_api.expect(banner).to_be_hidden(timeout=5000)
    assert page.is_enabled("form[action='/staff/hold'] button")
    page.context.close()


def test_after_sign_out_writes_are_refused(browser: Any, shop: Shop) -> None:
    page = tablet(browser, shop)
    sku = shop.skus[0]
    look_up(page, sku)
    csrf = page.input_value("form.signout input[name=csrf]")
    head = shop.db.reader.head()
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("#key")
    crafted = page.request.post(
        f"{shop.url}/staff/hold",
        form={"csrf": csrf, "sku": sku, "quantity": "1", "reference": "x", "minutes": "5"},
    )
    assert crafted.status == 401
    assert shop.db.reader.head() == head
    page.context.close()


def test_readme_images(shop: Shop) -> None:
    """Two of the screenshots illustrate docs/staff.md: copied when missing, or refreshed with
    STAFF_DOCS_IMAGES=1 (so a test run does not rewrite committed images every time)."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "img"
    docs.mkdir(parents=True, exist_ok=True)
    for name in ("02-lookup-portrait", "06-hold"):
        source, target = SHOTS / f"{name}.png", docs / f"staff-{name[3:]}.png"
        if source.exists() and (not target.exists() or os.environ.get("STAFF_DOCS_IMAGES")):
            shutil.copyfile(source, target)
