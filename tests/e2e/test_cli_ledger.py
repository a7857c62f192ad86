"""The `inventory` ledger commands, end to end on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from adapters.cli import main
from adapters.db.database import Database
from adapters.demo import build_network, seed
from adapters.demo.seed import DAY, generate

LINES = [
    {
        "event_id": "po-1",
        "type": "receipt",
        "sku": "TRAIL-BLK-42",
        "location": "WH-KASSEL",
        "quantity": 40,
        "occurred_at": "2026-05-01T06:00:00Z",
        "channel": "wms",
    },
    {
        "event_id": "tr-1-out",
        "type": "transfer_out",
        "sku": "TRAIL-BLK-42",
        "location": "WH-KASSEL",
        "destination": "DE-BERLIN",
        "reference": "TR-1",
        "quantity": 10,
        "occurred_at": "2026-05-01T08:00:00Z",
        "channel": "wms",
    },
    {
        "event_id": "tr-1-in",
        "type": "transfer_in",
        "sku": "TRAIL-BLK-42",
        "location": "DE-BERLIN",
        "reference": "TR-1",
        "quantity": 10,
        "occurred_at": "2026-05-02T08:00:00+02:00",
    },
    {
        "event_id": "pos-1",
        "type": "sale",
        "sku": "TRAIL-BLK-42",
        "location": "DE-BERLIN",
        "quantity": 1,
        "occurred_at": "2026-05-02T11:00:00+02:00",
        "channel": "store",
    },
]


@pytest.fixture
def events_file(tmp_path):
    path = tmp_path / "events.jsonl"
    bad = {**LINES[-1], "event_id": "pos-2", "quantity": 0}
    path.write_text("\n".join(json.dumps(x) for x in [*LINES, bad]) + "\nnot json\n")
    return path


def test_ingest_reports_counts_and_rejected_lines(backend_url, events_file, capsys):
    assert main(["ingest", str(events_file), "--db", backend_url]) == 1
    out = capsys.readouterr().out
    assert "accepted=4 duplicate=0 conflict=0 rejected=2" in out
    assert "line 5 rejected (pos-2): quantity: must be greater than zero" in out
    assert "line 6 rejected (-): event: not valid JSON" in out
    main(["ingest", str(events_file), "--db", backend_url])
    assert "accepted=0 duplicate=4" in capsys.readouterr().out


def test_stock_history_as_of_replay_verify(backend_url, events_file, capsys):
    main(["ingest", str(events_file), "--db", backend_url])
    capsys.readouterr()
    main(["stock", "TRAIL-BLK-42", "--json", "--db", backend_url])
    body = json.loads(capsys.readouterr().out)
    by_location = {x["location"]: x for x in body["locations"]}
    assert by_location["DE-BERLIN"]["on_hand"] == 9
    assert by_location["WH-KASSEL"]["on_hand"] == 30
    assert body["total_available"] == 39

    main(
        [
            "stock",
            "TRAIL-BLK-42",
            "--as-of",
            "2026-05-01T12:00:00Z",
            "--json",
            "--location",
            "DE-BERLIN",
            "--db",
            backend_url,
        ]
    )
    [berlin] = json.loads(capsys.readouterr().out)["locations"]
    assert (berlin["on_hand"], berlin["in_transit"]) == (0, 10)

    main(["history", "TRAIL-BLK-42", "--location", "DE-BERLIN", "--json", "--db", backend_url])
    history = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["event_id"] for x in history] == ["pos-1", "tr-1-in", "tr-1-out"]  # newest first

    assert main(["replay", "--db", backend_url]) == 0
    assert "rebuilt 2 positions from 4 events" in capsys.readouterr().out
    assert main(["verify", "--db", backend_url]) == 0
    assert "0 differences" in capsys.readouterr().out


def test_verify_fires_when_the_projection_drifts(backend_url, events_file, capsys):
    main(["ingest", str(events_file), "--db", backend_url])
    db = Database(backend_url)
    with db.engines.write.begin() as connection:
        connection.exec_driver_sql("UPDATE positions SET on_hand = on_hand + 1")
    db.close()
    assert main(["verify", "--db", backend_url]) == 1
    assert "2 differences" in capsys.readouterr().out


def test_bad_as_of_is_a_clear_error(backend_url, capsys):
    assert main(["stock", "X", "--as-of", "yesterday", "--db", backend_url]) == 2
    assert "RFC 3339" in capsys.readouterr().err


def test_demo_network_is_real_and_large_enough():
    network = build_network()
    assert len(network.stores) >= 50 and len(network.warehouses) >= 2
    assert len(network.products) >= 1000
    berlin = next(s for s in network.stores if s.id == "DE-BERLIN")
    assert abs(berlin.lat - 52.52) < 0.05 and abs(berlin.lon - 13.41) < 0.05
    end = 1_790_000_000_000_000
    events = list(generate(network, end - 30 * DAY, end, random.Random(7)))
    assert len(events) >= 100_000
    assert len({e.event_id for e in events}) == len(events)
    channels = Counter(e.channel for e in events)
    assert {"web", "marketplace", "store", "wms"} <= set(channels)


def test_small_demo_seed_is_consistent_and_idempotent(backend_url):
    db = Database(backend_url)
    report = seed(db, days=4, stores=8, skus=40)
    assert report.seeded and report.events > 1000
    again = seed(db, days=4, stores=8, skus=40)
    assert not again.seeded and again.events == report.events
    from adapters.db.replay import verify

    assert verify(db.engines) == []
    db.close()
