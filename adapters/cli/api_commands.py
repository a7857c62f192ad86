"""`inventory serve`, `inventory keys ...` and `inventory sweep`: the availability service."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from adapters.cli import add_db_option, demo_command, readable
from adapters.db.database import Database
from adapters.demo.showcase import STAFF_STORE
from adapters.retention import retention_from_env
from inventory.services.personal import purge
from inventory.services.reservations import sweep

DEMO_ROLES = ("read", "store", "ingest", "admin")


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the availability API over HTTP")
    add_db_option(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)"
    )
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--channels", metavar="FILE", help="JSON file of channel policies")
    serve.add_argument(
        "--sweep-interval",
        type=float,
        default=None,
        help="seconds between expiry sweeps (default 30; 0 turns the sweeper off)",
    )
    serve.add_argument("--threads", type=int, default=None, help="database threads (default 8)")
    serve.set_defaults(func=cmd_serve)

    keys = subparsers.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key (its secret is shown once)")
    add_db_option(create)
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help="read | ingest | admin | store:<location>; repeat for several",
    )
    create.add_argument("--name", default="api key", help="a label for people")
    create.set_defaults(func=cmd_keys_create)
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    add_db_option(listing)
    listing.set_defaults(func=cmd_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    add_db_option(revoke)
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_keys_revoke)

    sweep = subparsers.add_parser(
        "sweep",
        help="release expired reservations now, and purge personal data and dead letters "
        "past their retention (INVENTORY_PERSONAL_DATA_DAYS, INVENTORY_DEAD_LETTER_DAYS)",
    )
    add_db_option(sweep)
    sweep.set_defaults(func=cmd_sweep)


def _keystore(db: Database) -> Any:
    from adapters.http.auth import KeyStore

    return KeyStore(db)


def cmd_keys_create(args: argparse.Namespace) -> int:
    from adapters.http.auth import check_scope
    from adapters.http.locations import LocationBook

    db = Database(args.db)
    try:
        scopes = [check_scope(s) for s in args.scope]
    except ValueError as error:
        print(f"error: --scope: {error}", file=sys.stderr)
        return 2
    stores = [s[6:] for s in scopes if s.startswith("store:")]
    unknown = LocationBook(db).unknown(stores)
    if unknown:
        print(f"error: --scope: unknown location(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    print(_keystore(db).create(args.name, scopes))
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = _keystore(Database(args.db)).list()
    if not keys:
        print("no API keys: none (inventory keys create --scope read)")
    for key in keys:
        state = "revoked" if key["revoked"] else "active"
        print(f"{key['key_id']}\t{state}\t{' '.join(key['scopes'])}\t{key['name']}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    if _keystore(Database(args.db)).revoke(args.key_id):
        print(f"revoked {args.key_id}")
        return 0
    print(f"error: no active key {args.key_id}", file=sys.stderr)
    return 1


def cmd_sweep(args: argparse.Namespace) -> int:
    db = Database(args.db)
    total = 0
    while released := sweep(db.unit_of_work):
        total += released
    purged = purge(db.unit_of_work, retention_from_env())
    print(f"released {total} expired reservation lines")
    print(
        f"purged {purged.records} personal-data records and {purged.dead_letters} dead letters "
        "past their retention"
    )
    return 0


def run(db: Database, host: str, port: int, **settings: Any) -> int:
    """Serve until interrupted (uvloop when installed)."""
    from aiohttp import web

    from adapters.http.app import create_app
    from adapters.http.settings import Settings

    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # plain asyncio works, only slower
        pass
    # the writer thread gives up the GIL at every database call; with the default 5 ms switch
    # interval it then waits behind the event loop for that long, many times per reservation
    from adapters.config import env_settings

    sys.setswitchinterval(env_settings().switch_interval)
    app = create_app(db, Settings.from_env(host=host, port=port, **settings))
    print(f"serving {db.url} on http://{host}:{port} (OpenAPI: /openapi.json)", flush=True)
    web.run_app(app, host=host, port=port, access_log=None, print=None)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.channels:
        readable(args.channels, "--channels: ")
    db = Database(args.db)
    return run(
        db,
        args.host,
        args.port,
        channels_file=args.channels,
        sweep_interval_seconds=args.sweep_interval,
        db_threads=args.threads,
    )


def demo_keys(db: Database, store: str) -> dict[str, str]:
    """One key per role, the same on every run: kept (owner-only) beside the database."""
    path = _demo_keys_path(db)
    store_scope = f"store:{store}"
    wanted = {"read": "read", "store": store_scope, "ingest": "ingest", "admin": "admin"}
    keys = _keystore(db)
    saved: dict[str, str] = {}
    if path.exists():
        saved = json.loads(path.read_text())
    result: dict[str, str] = {}
    for role, scope in wanted.items():
        token = saved.get(role)
        who = keys.verify(token) if token else None
        if token is None or who is None or scope not in who.scopes:
            token = keys.create(f"demo {role}", [scope])
        result[role] = token
    # created owner-only from the start (never readable by others, not even for an instant)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(json.dumps(result, indent=2))
    os.chmod(path, 0o600)  # an older file may have been created with wider rights
    return result


def _demo_keys_path(db: Database) -> Path:
    from adapters.demo.showcase import demo_file

    return demo_file(db, ".demo-keys.json")


def serve_demo(db: Database, args: argparse.Namespace) -> int:
    from adapters.http.locations import LocationBook

    stores = sorted(p.id for p in LocationBook(db).places().values() if p.kind == "store")
    store = STAFF_STORE if STAFF_STORE in stores else (stores[0] if stores else "STORE")
    keys = demo_keys(db, store)
    print("API keys (Authorization: Bearer <key>):")
    for role, token in keys.items():
        label = f"store:{store}" if role == "store" else role
        print(f"  {label:<24} {token}")
    base = f"http://{args.host}:{args.port}"
    print(f"API:        {base}/v1/availability/TRAIL-BLK-42   (spec: {base}/openapi.json)")
    print(f"staff page: {base}/staff/   (sign in with the store:{store} key above)")
    return run(db, args.host, args.port)


demo_command.SERVERS.append(serve_demo)
