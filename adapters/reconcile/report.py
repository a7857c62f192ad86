"""Reconciliation reports: a CSV of discrepancies, a JSON summary, and one HTML page.

The HTML page is self-contained (inline CSS and SVG, no scripts, no external assets) so a store
manager can open it from a mail attachment or a file share.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from adapters.reconcile.job import Reconciliation
from inventory.events import format_instant
from inventory.reconcile import Kind

CSV_COLUMNS = (
    "location",
    "sku",
    "class",
    "counted",
    "ledger",
    "delta",
    "reserved",
    "flags",
    "instant",
    "channels",
)


def summary(result: Reconciliation, top: int = 20) -> dict[str, Any]:
    tally = result.tally
    body: dict[str, Any] = {
        "snapshot": str(result.snapshot),
        "as_of": format_instant(result.default_instant),
        "rows": result.rows,
        "skipped_rows": result.skipped_rows,
        "instants": result.instants,
        "events_folded": result.events_folded,
        "locations": result.locations,
        "max_drift": result.max_drift,
        "within_max_drift": result.within,
        **tally.overall.as_dict(),
        "flags": dict(sorted(tally.flags.items())),
        "per_location": {k: v.as_dict() for k, v in sorted(tally.per_location.items())},
        "per_channel": {k: v.as_dict() for k, v in sorted(tally.per_channel.items())},
        "top_skus": [{"sku": sku, "drift_units": units} for sku, units in tally.top_skus(top)],
    }
    if result.applied is not None:
        body["applied"] = {
            "accepted": result.applied.accepted,
            "duplicate": result.applied.duplicate,
            "conflict": result.applied.conflict,
        }
    return body


def write_reports(result: Reconciliation, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": directory / "discrepancies.csv",
        "json": directory / "summary.json",
        "html": directory / "report.html",
    }
    write_csv(result, paths["csv"])
    body = summary(result)
    paths["json"].write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
    paths["html"].write_text(render_html(result, body), encoding="utf-8")
    return paths


def write_csv(result: Reconciliation, path: Path) -> None:
    findings = sorted(result.findings, key=lambda f: (f.location, f.sku))
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for f in findings:
            writer.writerow(
                (
                    f.location,
                    f.sku,
                    f.kind.value,
                    "" if f.counted is None else f.counted,
                    f.ledger,
                    f.delta if f.is_discrepancy else 0,
                    f.reserved,
                    "|".join(flag.value for flag in f.flags),
                    format_instant(f.instant),
                    "|".join(f.channels),
                )
            )


# -- HTML -----------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse}
td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37}.bad{color:#b42318}
svg text{font:12px system-ui,sans-serif}
"""


def render_html(result: Reconciliation, body: dict[str, Any]) -> str:
    e = html.escape
    status = "within" if result.within else "beyond"
    css = "ok" if result.within else "bad"
    per_location = sorted(
        ((loc, t["drift_units"], t["net_delta"]) for loc, t in body["per_location"].items()),
        key=lambda item: (-item[1], item[0]),
    )[:40]
    top_skus = [(s["sku"], s["drift_units"], None) for s in body["top_skus"]]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Stock reconciliation {e(body['as_of'])}</title><style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>Stock reconciliation as of {e(body['as_of'])}</h1>",
        f"<p>Snapshot <code>{e(body['snapshot'])}</code>: {body['rows']} rows, "
        f"{body['keys']} keys compared at {len(body['locations'])} locations. "
        f"Drift <b class='{css}'>{body['drift_units']} units</b> "
        f"({status} the allowed {body['max_drift']}); net {body['net_delta']:+d}.</p>",
        _applied(body),
        "<h2>Classes</h2>",
        _table(
            ("class", "keys"),
            [(kind.value.replace("_", " "), body["classes"][kind.value]) for kind in Kind],
        ),
        "<h2>Flags</h2>",
        _table(("flag", "keys"), [(k.replace("_", " "), v) for k, v in body["flags"].items()])
        if body["flags"]
        else "<p>None.</p>",
        "<h2>Drift per location (units)</h2>",
        "<p>Absolute drift; red where, on balance, less was counted than the ledger believed "
        "(missing stock), blue where more was counted.</p>",
        _bars(per_location, "location") if any(d for _, d, _ in per_location) else "<p>None.</p>",
        "<h2>Top drifting SKUs (units, all locations)</h2>",
        _bars(top_skus, "sku") if top_skus else "<p>None.</p>",
        "<h2>Per channel</h2>",
        "<p>A SKU at a location belongs to every channel that recorded an event for it there "
        "(sales, reservations, returns ...); totals overlap when several did.</p>",
        _table(
            ("channel", "keys", "discrepancies", "drift units", "net"),
            [
                (k, t["keys"], t["discrepancies"], t["drift_units"], f"{t['net_delta']:+d}")
                for k, t in body["per_channel"].items()
            ],
        ),
        "<h2>Per location</h2>",
        _table(
            ("location", "keys", "discrepancies", "drift units", "net"),
            [
                (k, t["keys"], t["discrepancies"], t["drift_units"], f"{t['net_delta']:+d}")
                for k, t in body["per_location"].items()
            ],
        ),
        "<p>Every discrepancy is listed in <code>discrepancies.csv</code> beside this page.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _applied(body: dict[str, Any]) -> str:
    applied = body.get("applied")
    if applied is None:
        return (
            "<p>Nothing was written to the ledger (run with <code>--apply</code> to correct).</p>"
        )
    return (
        f"<p>Corrections: {applied['accepted']} count events appended, "
        f"{applied['duplicate']} already recorded.</p>"
    )


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    lines = [
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    ]
    return f"<table><tr>{head}</tr>{''.join(lines)}</table>"


def _bars(items: Sequence[tuple[str, int, int | None]], what: str) -> str:
    """A horizontal bar chart as inline SVG; red where the ledger believed more than counted."""
    label_width, bar_width, row_height = 200, 640, 20
    largest = max((value for _, value, _ in items), default=0) or 1
    height = row_height * len(items) + 10
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_width + bar_width + 80}' "
        f"height='{height}' role='img' aria-label='drift per {what}'>"
    ]
    for index, (name, value, net) in enumerate(items):
        y = index * row_height + 5
        width = max(1, round(bar_width * value / largest)) if value else 0
        colour = "#b42318" if net is not None and net < 0 else "#2f6fba"
        label = html.escape(name if len(name) <= 30 else name[:29] + "…")
        out.append(
            f"<text x='{label_width - 6}' y='{y + 14}' text-anchor='end'>{label}</text>"
            f"<rect x='{label_width}' y='{y + 2}' width='{width}' height='{row_height - 6}' "
            f"fill='{colour}'><title>{html.escape(name)}: {value}</title></rect>"
            f"<text x='{label_width + width + 6}' y='{y + 14}'>{value}</text>"
        )
    out.append("</svg>")
    return "".join(out)
