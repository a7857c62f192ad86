"""The staff page over plain HTTP (both databases): sessions, CSRF, who may write where,
field errors, and numbers identical to the availability API."""

from __future__ import annotations

import re

import pytest
import requests

from adapters.db import intake_tables as it
from adapters.http.app import create_app
from adapters.http.auth import KeyStore
from adapters.http.settings import Settings
from tests.api_fixtures import Api, ServerThread, api, receipt  # noqa: F401  (fixture)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Tablet:
    """A signed-in tablet: a cookie jar and the CSRF token of the last page."""

    def __init__(self, server: Api, key: str) -> None:
        self.api = server
        self.http = requests.Session()
        self.page = self.http.post(f"{server.url}/staff/signin", data={"key": key}, timeout=30)
        found = CSRF.search(self.page.text)
        self.csrf = found.group(1) if found else ""

    def get(self, q: str = "") -> requests.Response:
        response = self.http.get(f"{self.api.url}/staff/", params={"q": q} if q else None)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, **form: object) -> requests.Response:
        form.setdefault("csrf", self.csrf)
        return self.http.post(f"{self.api.url}{path}", data=form, timeout=30)


@pytest.fixture
def stocked(api: Api) -> Api:  # noqa: F811
    api.events(
        receipt("r1", "SHOE-42", "S-BER", 10),
        receipt("r2", "SHOE-42", "S-POT", 4),
        receipt("r3", "SHOE-42", "S-HAM", 6),
        receipt("r4", "SHOE-42", "WH-KS", 50),
    )
    with api.db.engines.write.begin() as connection:
        connection.execute(
            it.sku_aliases.insert(),
            [{"kind": "gtin", "value": "04006381333931", "sku": "SHOE-42"}],
        )
    return api


def numbers(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-number="(\w+)">(-?\d+)<', html)}


def available(server: Api, sku: str, location: str) -> int:
    status, body = server.call(
        "GET", f"/v1/availability/{sku}", "read", params={"location": location}
    )
    assert status == 200
    return body["locations"][0]["available"]


def test_sign_in_gives_a_strict_httponly_expiring_cookie(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    assert tablet.page.status_code == 200
    cookie = tablet.page.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
    assert stocked.keys["store"] not in tablet.page.text
    assert stocked.keys["store"] not in tablet.page.url
    assert "S-BER" in tablet.page.text


@pytest.mark.parametrize(
    ("role", "status", "reason"),
    [("read", 403, "no store scope"), ("admin", 403, "no store scope"), (None, 401, "unknown")],
)
def test_keys_without_a_store_scope_cannot_sign_in(
    stocked: Api, role: str | None, status: int, reason: str
) -> None:
    key = stocked.keys[role] if role else "inv_nope_nope"
    tablet = Tablet(stocked, key)
    assert tablet.page.status_code == status
    assert reason in tablet.page.text
    assert "staff_session" not in tablet.http.cookies


def test_lookup_shows_the_api_numbers_by_sku_and_by_barcode(stocked: Api) -> None:
    stocked.call(
        "POST",
        "/v1/reservations",
        "ingest",
        json={
            "reservation_id": "web-1",
            "location": "S-BER",
            "lines": [{"sku": "SHOE-42", "quantity": 3}],
            "reference": "order 77",
        },
    )
    tablet = Tablet(stocked, stocked.keys["store"])
    _, api_body = stocked.call(
        "GET", "/v1/availability/SHOE-42", "read", params={"location": "S-BER"}
    )
    expected = {k: v for k, v in api_body["locations"][0].items() if k not in ("location", "flags")}
    assert numbers(tablet.get("SHOE-42").text) == expected
    by_barcode = tablet.get("4006381333931")
    assert numbers(by_barcode.text) == expected
    assert "order 77" in by_barcode.text  # a pickup waiting here
    missing = tablet.get("NO-SUCH")
    assert missing.status_code == 404 and "no such product" in missing.text


def test_nearby_distances_are_the_apis(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    html = tablet.get("SHOE-42").text
    shown = re.findall(
        r'data-location="([\w-]+)"><td>[\w-]+</td><td data-available>(\d+)</td>'
        r'<td data-km="([\d.]+)"',
        html,
    )
    _, body = stocked.call(
        "GET",
        "/v1/availability/SHOE-42",
        "read",
        params={"near": "52.52,13.405", "radius_km": 20040},
    )
    api_rows = [
        (r["location"], str(r["available"]), str(r["distance_km"]))
        for r in body["locations"]
        if r["location"] != "S-BER"
    ]
    assert shown == api_rows
    assert [r[0] for r in shown] == ["S-POT", "S-HAM", "WH-KS"]


def test_hold_hand_over_and_release(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    done = tablet.post(
        "/staff/hold",
        sku="SHOE-42",
        quantity=2,
        reference="Ms Weber",
        minutes=30,
        hold_id="0123456789abcdef",
        location="S-BER",
    )
    assert done.status_code == 200 and "Held 2" in done.text
    assert available(stocked, "SHOE-42", "S-BER") == 8
    again = tablet.post(
        "/staff/hold",
        sku="SHOE-42",
        quantity=2,
        reference="Ms Weber",
        minutes=30,
        hold_id="0123456789abcdef",
        location="S-BER",
    )
    assert again.status_code == 200  # a resent form holds nothing more
    assert available(stocked, "SHOE-42", "S-BER") == 8
    rid = "staff-0123456789abcdef"
    assert tablet.post(f"/staff/reservations/{rid}/fulfil", sku="SHOE-42").status_code == 200
    assert numbers(tablet.get("SHOE-42").text)["on_hand"] == 8
    tablet.post(
        "/staff/hold",
        sku="SHOE-42",
        quantity=3,
        reference="Mr Ali",
        minutes=30,
        hold_id="fedcba9876543210",
    )
    assert available(stocked, "SHOE-42", "S-BER") == 5
    tablet.post("/staff/reservations/staff-fedcba9876543210/release", sku="SHOE-42")
    assert available(stocked, "SHOE-42", "S-BER") == 8


def test_writes_elsewhere_are_refused_and_change_nothing(stocked: Api) -> None:
    stocked.call(
        "POST",
        "/v1/reservations",
        "ingest",
        json={
            "reservation_id": "ham-1",
            "location": "S-HAM",
            "lines": [{"sku": "SHOE-42", "quantity": 1}],
        },
    )
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    head = stocked.db.reader.head()
    attempts = [
        tablet.post(
            "/staff/hold", sku="SHOE-42", quantity=1, reference="x", minutes=5, location="S-HAM"
        ),
        tablet.post("/staff/count", sku="SHOE-42", counted=0, reason="lost", location="S-HAM"),
        tablet.post("/staff/reservations/ham-1/fulfil"),
        tablet.post("/staff/reservations/ham-1/release"),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403, 403]
    assert all("Traceback" not in a.text for a in attempts)
    no_csrf = tablet.post(
        "/staff/hold", csrf="forged", sku="SHOE-42", quantity=1, reference="x", minutes=5
    )
    assert no_csrf.status_code == 403
    assert stocked.db.reader.head() == head


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        ("0", "more than 0"),
        ("-2", "more than 0"),
        ("two", "whole number"),
        ("", "required"),
        ("11", "only 10 available"),
        ("١٢", "whole number"),  # Arabic-Indic digits
        ("1_0", "whole number"),
        ("+3", "whole number"),
        ("1" * 5000, "at most"),
    ],
)
def test_bad_quantities_mark_the_field(stocked: Api, quantity: str, reason: str) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    head = stocked.db.reader.head()
    page = tablet.post("/staff/hold", sku="SHOE-42", quantity=quantity, reference="x", minutes=5)
    assert page.status_code in (409, 422)
    assert re.search(r'id="hold-quantity"[^>]*aria-invalid="true"', page.text)
    assert reason in page.text
    assert stocked.db.reader.head() == head


def test_count_writes_a_count_with_its_reason(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    page = tablet.post(
        "/staff/count", sku="SHOE-42", counted=7, reason="damaged", count_id="00112233aabbccdd"
    )
    assert "on hand 10 → 7 (-3)" in page.text
    ((_, event),) = stocked.db.reader.history(
        "SHOE-42", "S-BER", after=stocked.db.reader.head() - 1
    )
    assert (event.type.value, event.quantity, event.reason) == ("count", 7, "damaged")
    bad = tablet.post("/staff/count", sku="SHOE-42", counted="-1", reason="damaged")
    assert bad.status_code == 422 and "at least 0" in bad.text


def test_after_sign_out_writes_are_refused(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    head = stocked.db.reader.head()
    tablet.post("/staff/signout")
    refused = tablet.post("/staff/hold", sku="SHOE-42", quantity=1, reference="x", minutes=5)
    assert refused.status_code == 401
    assert "Sign in" in tablet.get().text
    assert stocked.db.reader.head() == head


def test_a_revoked_key_ends_the_session_at_the_next_write(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    KeyStore(stocked.db).revoke(stocked.keys["store"].split("_")[1])
    refused = tablet.post("/staff/hold", sku="SHOE-42", quantity=1, reference="x", minutes=5)
    assert refused.status_code == 401
    assert available(stocked, "SHOE-42", "S-BER") == 10


def other_server(stocked: Api) -> ServerThread:
    """Another server process's application over the same database (or this one restarted)."""
    return ServerThread(create_app(stocked.db, Settings(sweep_interval_seconds=0)))


def with_cookie(value: str) -> requests.Session:
    browser = requests.Session()
    browser.cookies.set("staff_session", value, path="/staff")
    return browser


def test_a_session_survives_a_restart_and_is_shared_by_every_server(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    cookie = tablet.http.cookies["staff_session"]
    with other_server(stocked) as second:
        browser = with_cookie(cookie)
        page = browser.get(f"{second.url}/staff/", params={"q": "SHOE-42"}, timeout=30)
        assert page.status_code == 200 and "Sign out" in page.text and "S-BER" in page.text
        csrf = CSRF.search(page.text)
        assert csrf is not None
        held = browser.post(
            f"{second.url}/staff/hold",
            data={"csrf": csrf.group(1), "sku": "SHOE-42", "quantity": 2, "reference": "Ann"},
            timeout=30,
        )
        assert held.status_code == 422  # minutes missing: a form error, not a sign-in page
        held = browser.post(
            f"{second.url}/staff/hold",
            data={
                "csrf": csrf.group(1),
                "sku": "SHOE-42",
                "quantity": 2,
                "reference": "Ann",
                "minutes": 5,
            },
            timeout=30,
        )
        assert held.status_code == 200 and "Held 2" in held.text
    assert available(stocked, "SHOE-42", "S-BER") == 8
    assert "Held 2" not in tablet.get().text  # the flash was shown once, on the other server


def test_sign_out_ends_the_session_at_once_on_every_server(stocked: Api) -> None:
    tablet = Tablet(stocked, stocked.keys["store"])
    tablet.get("SHOE-42")
    cookie, csrf = tablet.http.cookies["staff_session"], tablet.csrf
    tablet.post("/staff/signout")
    stolen = with_cookie(cookie)  # a copy of the cookie kept from before
    assert "Sign in" in stolen.get(f"{stocked.url}/staff/", timeout=30).text
    with other_server(stocked) as second:
        refused = stolen.post(
            f"{second.url}/staff/hold",
            data={"csrf": csrf, "sku": "SHOE-42", "quantity": 1, "reference": "x", "minutes": 5},
            timeout=30,
        )
        assert refused.status_code == 401
    assert available(stocked, "SHOE-42", "S-BER") == 10


def test_revoking_the_key_ends_its_sessions_at_once(stocked: Api) -> None:
    tablets = [Tablet(stocked, stocked.keys["store"]) for _ in range(2)]
    assert all("Sign out" in t.get("SHOE-42").text for t in tablets)
    KeyStore(stocked.db).revoke(stocked.keys["store"].split("_")[1])
    assert all("Sign in" in t.get("SHOE-42").text for t in tablets)  # even a read


@pytest.mark.parametrize(
    ("trusted", "forwarded", "secure"),
    [
        ("127.0.0.1", "https", True),
        ("127.0.0.0/8, ::1", "http, https", True),
        ("127.0.0.1", None, False),
        ("127.0.0.1", "http", False),
        ("", "https", False),  # no proxy trusted: the header is not believed
        ("10.1.2.3", "https", False),  # not from the trusted proxy
    ],
)
def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(
    stocked: Api,
    monkeypatch: pytest.MonkeyPatch,
    trusted: str,
    forwarded: str | None,
    secure: bool,
) -> None:
    monkeypatch.setenv("INVENTORY_TRUSTED_PROXIES", trusted)
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    with other_server(stocked) as server:
        answer = requests.post(
            f"{server.url}/staff/signin",
            data={"key": stocked.keys["store"]},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
    cookie = answer.headers["Set-Cookie"]
    assert "staff_session=" in cookie and "HttpOnly" in cookie
    assert ("Secure" in cookie) is secure
