"""Reconciliation against a real ledger, on SQLite and PostgreSQL (the `database` fixture)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cli import main
from adapters.db.database import Database
from adapters.reconcile.export import export_snapshot
from adapters.reconcile.job import Options, apply_corrections, reconcile
from adapters.reconcile.snapshot import SnapshotError, read_snapshot
from inventory.events import EventType, StockEvent, format_instant
from inventory.reconcile import Kind
from tests.conftest import at, truncate_all

NIGHT = at("2026-05-01T21:00:00Z")
HOUR = 3_600_000_000


def _event(
    kind: EventType, sku: str, location: str, quantity: int, when: int, **extra
) -> StockEvent:  # type: ignore[no-untyped-def]
    _event.counter += 1  # type: ignore[attr-defined]
    return StockEvent(f"ev-{_event.counter:06d}", kind, sku, location, quantity, when, **extra)  # type: ignore[attr-defined]


_event.counter = 0  # type: ignore[attr-defined]


def _ledger(
    db: Database, skus: int = 30, locations: int = 10, seed: int = 1
) -> list[tuple[str, str]]:
    """Receipts, sales by two channels, a count, and sales after the night (never drift)."""
    rng = random.Random(seed)
    events = []
    keys = [(f"SKU-{s:03d}", f"LOC-{loc:02d}") for loc in range(locations) for s in range(skus)]
    for sku, location in keys:
        events.append(
            _event(EventType.RECEIPT, sku, location, rng.randint(5, 50), NIGHT - 48 * HOUR)
        )
        events.append(
            _event(
                EventType.SALE,
                sku,
                location,
                rng.randint(1, 4),
                NIGHT - 5 * HOUR,
                channel=rng.choice(["web", "store"]),
            )
        )
        events.append(_event(EventType.SALE, sku, location, 1, NIGHT + HOUR, channel="web"))
    events.append(_event(EventType.COUNT, "SKU-000", "LOC-00", 2, NIGHT - 2 * HOUR))
    db.ledger.append(events)
    return keys


def _export(db: Database, path: Path, when: int = NIGHT, **kw) -> Path:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    export_snapshot(db, out, when, **kw)
    path.write_text(out.getvalue())
    return path


def _change_rows(path: Path, fraction: float, seed: int = 7) -> set[tuple[str, str]]:
    lines = path.read_text().splitlines()
    rng = random.Random(seed)
    picks = rng.sample(range(1, len(lines)), max(1, round((len(lines) - 1) * fraction)))
    changed = set()
    for index in picks:
        sku, location, on_hand, counted_at = lines[index].split(",")
        lines[index] = f"{sku},{location},{int(on_hand) + rng.choice([-3, -1, 2, 5])},{counted_at}"
        changed.add((sku, location))
    path.write_text("\n".join(lines) + "\n")
    return changed


def test_round_trip_reports_exactly_the_changed_rows_and_apply_corrects_once(
    database: Database, tmp_path: Path
) -> None:
    keys = _ledger(database)
    snapshot = _export(database, tmp_path / "night.csv")
    assert sum(1 for _ in read_snapshot(snapshot)) == len(keys)
    clean = reconcile(database, Options(snapshot))
    assert clean.tally.overall.discrepancies == 0 and clean.exit_code == 0
    assert clean.tally.overall.keys == len(keys)

    changed = _change_rows(snapshot, 0.01)
    first = reconcile(database, Options(snapshot))
    assert {(f.sku, f.location) for f in first.findings if f.is_discrepancy} == changed
    assert first.exit_code == 1
    assert {f.kind for f in first.findings} <= {Kind.LEDGER_OVER, Kind.LEDGER_UNDER}
    assert database.reader.count_events() == len(keys) * 3 + 1  # nothing written

    events_before = database.reader.count_events()
    applied = reconcile(database, Options(snapshot, apply=True))
    assert applied.applied is not None and applied.applied.accepted == len(changed)
    assert database.reader.count_events() == events_before + len(changed)

    second = reconcile(database, Options(snapshot, apply=True))
    assert second.tally.overall.drift == 0 and second.exit_code == 0
    assert second.applied is not None and second.applied.accepted == 0
    assert database.reader.count_events() == events_before + len(changed)
    again = apply_corrections(database, first.findings)  # the same file's corrections again
    assert (again.accepted, again.duplicate) == (0, len(changed))
    # live stock: the count plus the sale after the night
    for sku, location in changed:
        counted = next(
            r.on_hand for r in read_snapshot(snapshot) if (r.sku, r.location) == (sku, location)
        )
        assert database.reader.position(sku, location).on_hand == counted - 1


def test_each_row_is_compared_at_its_own_instant(database: Database, tmp_path: Path) -> None:
    database.ledger.append(
        [
            _event(EventType.RECEIPT, "A", "S1", 10, NIGHT - 10 * HOUR),
            _event(EventType.SALE, "A", "S1", 3, NIGHT - 5 * HOUR, channel="store"),
            _event(EventType.RECEIPT, "B", "S1", 4, NIGHT - 10 * HOUR),
            _event(EventType.SALE, "B", "S1", 1, NIGHT - 1 * HOUR, channel="web"),
        ]
    )
    early, late = format_instant(NIGHT - 6 * HOUR), format_instant(NIGHT)
    path = tmp_path / "counts.csv"
    path.write_text(f"sku,location,on_hand,counted_at\nA,S1,10,{early}\nB,S1,3,{late}\n")
    result = reconcile(database, Options(path, as_of=NIGHT))
    assert result.tally.overall.drift == 0 and result.instants == 2
    assert result.tally.per_channel["store"].keys == 0  # the store sale came after A's count
    assert result.tally.per_channel["web"].keys == 1


def test_classes_flags_and_scope(database: Database, tmp_path: Path) -> None:
    database.ledger.append(
        [
            _event(EventType.RECEIPT, "A", "S1", 5, NIGHT - HOUR),
            _event(EventType.RECEIPT, "GONE", "S1", 2, NIGHT - HOUR),
            _event(EventType.SALE, "NEG", "S1", 2, NIGHT - HOUR, channel="web"),
            _event(EventType.RECEIPT, "R", "S1", 4, NIGHT - HOUR),
            _event(
                EventType.RESERVATION,
                "R",
                "S1",
                3,
                NIGHT - HOUR,
                channel="web",
                reservation_id="o1",
            ),
            _event(EventType.RECEIPT, "A", "S2", 9, NIGHT - HOUR),  # outside the scope
        ]
    )
    path = tmp_path / "s1.jsonl"
    rows = [("A", 5), ("NEW", 3), ("NEG", 0), ("R", 1), ("ZERO", 0)]
    path.write_text(
        "".join(json.dumps({"sku": s, "location": "S1", "on_hand": n}) + "\n" for s, n in rows)
    )
    result = reconcile(database, Options(path, as_of=NIGHT))
    found = {f.sku: f for f in result.findings}
    assert result.locations == ["S1"]
    assert found["NEW"].kind is Kind.ONLY_IN_SNAPSHOT
    assert found["GONE"].kind is Kind.ONLY_IN_LEDGER and found["GONE"].delta == -2
    assert found["NEG"].kind is Kind.LEDGER_UNDER and found["NEG"].flags == ("negative_on_hand",)
    assert found["R"].kind is Kind.LEDGER_OVER
    assert found["R"].flags == ("reserved_exceeds_on_hand", "oversold")
    assert "A" not in found and "ZERO" not in found
    assert result.tally.overall.keys == 6  # the five rows and GONE
    assert result.tally.overall.drift == 3 + 2 + 2 + 3
    assert result.exit_code == 1
    applied = reconcile(database, Options(path, as_of=NIGHT, apply=True))
    assert applied.applied is not None and applied.applied.accepted == 4
    assert reconcile(database, Options(path, as_of=NIGHT)).tally.overall.drift == 0
    assert database.reader.position("A", "S2").on_hand == 9
    with pytest.raises(SnapshotError, match="no rows in the snapshot for S2"):
        reconcile(database, Options(path, as_of=NIGHT, locations=["S1", "S2"]))
    other = tmp_path / "s2.csv"
    other.write_text("A,S1,1\nA,S2,8\n")
    only = reconcile(database, Options(other, as_of=NIGHT, locations=["S2"]))
    assert only.skipped_rows == 1 and only.tally.overall.kinds == {"ledger_over": 1}
    empty = tmp_path / "empty.csv"
    empty.write_text("sku,location,on_hand\n")
    with pytest.raises(SnapshotError, match="no rows"):
        reconcile(database, Options(empty, as_of=NIGHT))


def test_bad_file_applies_nothing(database: Database, tmp_path: Path) -> None:
    _ledger(database, skus=3, locations=2)
    snapshot = _export(database, tmp_path / "night.csv")
    text = snapshot.read_text().splitlines()
    text[1] = text[1].rsplit(",", 2)[0] + ",0,yesterday"
    text[4] = text[4].rsplit(",", 2)[0] + ",99," + text[4].rsplit(",", 1)[1]
    snapshot.write_text("\n".join(text) + "\n")
    before = database.reader.count_events()
    with pytest.raises(SnapshotError) as caught:
        reconcile(database, Options(snapshot, apply=True))
    assert caught.value.line == 2 and caught.value.field == "counted_at"
    code = main(["reconcile", str(snapshot), "--apply", "--db", database.url])
    assert code == 2
    assert database.reader.count_events() == before
    negative = tmp_path / "neg.csv"
    negative.write_text("sku,location,on_hand\nSKU-000,LOC-00,-1\n")
    assert (
        main(["reconcile", str(negative), "--db", database.url, "--as-of", "2026-05-01T21:00:00Z"])
        == 1
    )
    assert main(["reconcile", str(negative), "--apply", "--db", database.url]) == 2
    assert main(["reconcile", str(negative), "--as-of", "yesterday", "--db", database.url]) == 2
    assert main(["snapshot", "--as-of", "2026-05-01", "--db", database.url]) == 2
    assert main(["reconcile", str(tmp_path / "missing.csv"), "--db", database.url]) == 2
    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("SKU-000,LOC-00,1\nSKU-000,LOC-00,1\n")
    with pytest.raises(SnapshotError, match="already given on line 1"):
        reconcile(database, Options(duplicate))


def test_cli_exit_codes_reports_and_snapshot_export(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = _ledger(database, skus=10, locations=3)
    assert main(["snapshot", "--as-of", format_instant(NIGHT), "--db", database.url]) == 0
    exported = capsys.readouterr().out
    assert exported.splitlines()[0] == "sku,location,on_hand,counted_at"
    assert len(exported.splitlines()) == len(keys) + 1
    path = tmp_path / "night.csv"
    path.write_text(exported)
    changed = _change_rows(path, 0.1)
    report = tmp_path / "report"
    args = ["reconcile", str(path), "--db", database.url, "--report", str(report)]
    assert main(args) == 1
    assert main([*args, "--max-drift", "1000"]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["discrepancies"] == len(changed)
    assert summary["classes"]["match"] == len(keys) - len(changed)
    assert set(summary["per_location"]) == {"LOC-00", "LOC-01", "LOC-02"}
    assert {"web", "store"} <= set(summary["per_channel"])
    lines = (report / "discrepancies.csv").read_text().splitlines()
    assert len(lines) == len(changed) + 1
    page = (report / "report.html").read_text()
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page and "src=" not in page
    assert main([*args, "--apply"]) == 1  # drift found (and corrected)
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "applied: " in captured.out
    assert captured.err == ""  # no progress bar when not on a terminal


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[StockEvent], list[tuple[str, str, int, int]]]:
    skus, locations = ["A", "B", "C"], ["S1", "S2"]
    events = []
    for index in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from([EventType.RECEIPT, EventType.SALE, EventType.COUNT]))
        events.append(
            StockEvent(
                f"h{index:03d}",
                kind,
                draw(st.sampled_from(skus)),
                draw(st.sampled_from(locations)),
                draw(st.integers(0 if kind is EventType.COUNT else 1, 9)),
                NIGHT + draw(st.integers(-6, 3)) * HOUR,
                channel=draw(st.sampled_from([None, "web"])),
            )
        )
    rows = []
    for sku in skus:
        for location in locations:
            if draw(st.booleans()):
                when = NIGHT + draw(st.integers(-4, 0)) * HOUR
                rows.append((sku, location, draw(st.integers(0, 12)), when))
    return events, rows


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(worlds())
def test_every_key_is_classified_and_apply_leaves_no_drift(
    database: Database,
    tmp_path: Path,
    world: tuple[list[StockEvent], list[tuple[str, str, int, int]]],
) -> None:
    events, rows = world
    truncate_all(database)
    database.ledger.append(events)
    path = tmp_path / "h.csv"
    path.write_text(
        "sku,location,on_hand,counted_at\n"
        + "".join(f"{s},{loc},{n},{format_instant(w)}\n" for s, loc, n, w in rows)
    )
    scope = sorted({loc for _, loc, _, _ in rows})
    if not rows:
        with pytest.raises(SnapshotError, match="no rows"):
            reconcile(database, Options(path, as_of=NIGHT))
        return
    result = reconcile(database, Options(path, as_of=NIGHT, locations=scope))
    keys = {(s, loc) for s, loc, _, _ in rows} | {
        e.key for e in events if e.location in scope and e.occurred_at <= NIGHT
    }
    kinds = result.tally.overall.kinds
    assert result.tally.overall.keys == len(keys)
    assert kinds["match"] + result.tally.overall.discrepancies == len(keys)
    assert (
        len([f for f in result.findings if f.is_discrepancy]) == result.tally.overall.discrepancies
    )
    reconcile(database, Options(path, as_of=NIGHT, locations=scope, apply=True))
    after = reconcile(database, Options(path, as_of=NIGHT, locations=scope))
    assert after.tally.overall.drift == 0, [f for f in after.findings if f.is_discrepancy]


def test_counts_at_one_instant_agree_with_the_live_projection(
    database: Database, tmp_path: Path
) -> None:
    """The greatest event_id wins as code points (a locale collation would order "B" after "a")."""
    database.ledger.append(
        [
            StockEvent("a-count", EventType.COUNT, "A", "S1", 4, NIGHT - HOUR),
            StockEvent("B-count", EventType.COUNT, "A", "S1", 9, NIGHT - HOUR),
        ]
    )
    path = tmp_path / "c.csv"
    path.write_text(f"A,S1,{database.reader.position('A', 'S1').on_hand}\n")
    assert reconcile(database, Options(path, as_of=NIGHT)).tally.overall.drift == 0
