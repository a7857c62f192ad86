"""Every route the docs name is served by the application `inventory serve` builds.

The server is the real one (`create_app` with the settings `inventory serve` reads), on a free
127.0.0.1 port.  Paths come from every `METHOD /path` written in README.md and docs/*.md and
from /openapi.json; a path counts as served when some method gets an answer other than the
router's bare 404/405 (a problem document from a handler, e.g. "no such reservation", counts).
"""

from __future__ import annotations

import re
from pathlib import Path

import requests

from adapters.db.database import Database
from adapters.http.app import create_app
from adapters.http.routes import ROUTES
from adapters.http.settings import Settings
from tests.api_fixtures import ServerThread

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"`(?:GET|POST|PUT|DELETE|PATCH) (/[^`\s?\[]+)")


def documented_paths() -> set[str]:
    found = set()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found.update(m.group(1) for m in DOCUMENTED.finditer(doc.read_text()))
    return found


def bare_router_answer(response: requests.Response) -> bool:
    """The router's own 404/405 (no handler ran), as opposed to a handler's problem answer."""
    if response.status_code not in (404, 405):
        return False
    kind = response.headers.get("Content-Type", "")
    if "json" not in kind:
        return True
    body = response.json()
    return body.get("title") == "Not Found" and not body.get("detail")


def test_every_documented_and_described_route_is_served(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'routes.db'}")
    try:
        with ServerThread(create_app(db, Settings.from_env())) as server:
            described = set(requests.get(server.url + "/openapi.json", timeout=10).json()["paths"])
            paths = documented_paths() | described
            assert "/v1/webhooks/shop/{topic}" in paths
            unserved = []
            for path in sorted(paths):
                url = server.url + re.sub(r"\{[^}]+\}", "x", path)
                answers = [
                    requests.request(method, url, json={}, timeout=10)
                    for method in ("GET", "POST", "PUT", "DELETE")
                ]
                if all(bare_router_answer(a) for a in answers):
                    unserved.append(path)
            assert unserved == []
    finally:
        db.close()


def test_the_route_table_is_what_openapi_describes(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'routes.db'}")
    try:
        with ServerThread(create_app(db, Settings.from_env())) as server:
            document = requests.get(server.url + "/openapi.json", timeout=10).json()
        described = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
        assert described == {(r.method, r.path) for r in ROUTES}
    finally:
        db.close()
