"""The location registry: CSV/JSON import (all or nothing), listing, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import locations as registry
from adapters.cli import main
from adapters.db.database import Database
from adapters.geocode import Geocoder, UnknownPlace

HEADER = (
    "id,name,kind,lat,lon,address,postal_code,city,country,timezone,pickup_enabled,"
    "ship_enabled,opening_hours,handling_minutes,pickup_capacity\n"
)
HOURS = '"{""mon"": [[""09:00"", ""20:00""]], ""sat"": [[""10:00"", ""16:00""]]}"'
GOOD = (
    f"DE-BERLIN,Berlin Mitte,store,52.52,13.405,Alexanderplatz 1,10178,Berlin,DE,Europe/Berlin,"
    f"yes,no,{HOURS},45,80\n"
    "WH-KASSEL,Warehouse Kassel,warehouse,51.31,9.49,,,Kassel,DE,Europe/Berlin,false,true,,240,\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_writes_every_field(database: Database, tmp_path: Path) -> None:
    report = registry.import_file(database, write(tmp_path, "l.csv", HEADER + GOOD))
    assert report.errors == [] and report.written == 2
    berlin = registry.get(database, "DE-BERLIN")
    assert berlin is not None
    assert berlin["opening_hours"] == {"mon": [["09:00", "20:00"]], "sat": [["10:00", "16:00"]]}
    assert (berlin["pickup_enabled"], berlin["ship_enabled"]) == (True, False)
    assert (berlin["handling_minutes"], berlin["pickup_capacity"], berlin["postal_code"]) == (
        45,
        80,
        "10178",
    )
    kassel = registry.get(database, "WH-KASSEL")
    assert kassel is not None and kassel["pickup_capacity"] is None and kassel["address"] is None
    assert [r["id"] for r in registry.rows(database, "store")] == ["DE-BERLIN"]


def test_a_bad_row_names_line_and_reason_and_nothing_is_imported(
    database: Database, tmp_path: Path
) -> None:
    bad = (
        HEADER
        + GOOD
        + "X-1,Nowhere,shop,52,13,,,,,UTC,yes,no,,30,\n"
        + "X-2,Far,store,95,13,,,,,Europe/Berlin,yes,no,,30,\n"
        + "X-3,Zone,store,50,8,,,,,Mars/Olympus,yes,no,,30,\n"
        + 'X-4,Hours,store,50,8,,,,,UTC,yes,no,"{""mon"": [[""20:00"", ""09:00""]]}",30,\n'
        + "DE-BERLIN,Again,store,50,8,,,,,UTC,yes,no,,30,\n"
        + "X-5,Flag,store,50,8,,,,,UTC,perhaps,no,,30,\n"
    )
    report = registry.import_file(database, write(tmp_path, "bad.csv", bad))
    reasons = {error.line: error.reason for error in report.errors}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9]
    assert "kind" in reasons[4] and "'store' or 'warehouse'" in reasons[4]
    assert reasons[5].startswith("lat:")
    assert "unknown time zone 'Mars/Olympus'" in reasons[6]
    assert "opening_hours" in reasons[7] and "20:00 is not before 09:00" in reasons[7]
    assert "repeats line 2" in reasons[8]
    assert "pickup_enabled" in reasons[9]
    assert report.written == 0 and registry.rows(database) == []


def test_json_and_json_lines(database: Database, tmp_path: Path) -> None:
    record = {
        "id": "NL-UTRECHT",
        "name": "Utrecht",
        "kind": "store",
        "lat": 52.09,
        "lon": 5.12,
        "timezone": "Europe/Amsterdam",
        "pickup_enabled": True,
        "opening_hours": {"mon": [["09:00", "18:00"]]},
    }
    path = write(tmp_path, "l.json", json.dumps({"locations": [record]}))
    assert registry.import_file(database, path).written == 1
    broken = write(
        tmp_path, "l.jsonl", json.dumps(record) + "\n{not json}\n" + json.dumps({"id": "x"})
    )
    report = registry.import_file(database, broken)
    assert [e.line for e in report.errors] == [2, 3]
    assert (
        "not JSON" in report.errors[0].reason and "name: Field required" in report.errors[1].reason
    )
    assert report.written == 0


def test_cli_import_and_list(database: Database, tmp_path: Path, capsys) -> None:
    url = database.url
    bad = write(tmp_path, "bad.csv", HEADER + "X,Y,store,200,0,,,,,UTC,yes,no,,30,\n")
    assert main(["locations", "import", str(bad), "--db", url]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: lat: Input should be less than or equal to 90" in err
    assert "nothing imported" in err
    good = write(tmp_path, "good.csv", HEADER + GOOD)
    assert main(["locations", "import", str(good), "--check", "--db", url]) == 0
    assert registry.rows(database) == []
    assert main(["locations", "import", str(good), "--db", url]) == 0
    assert "imported: 2 location(s)" in capsys.readouterr().out
    assert main(["locations", "list", "--db", url]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == [
        "id",
        "kind",
        "name",
        "city",
        "country",
        "timezone",
        "pickup_enabled",
        "ship_enabled",
    ]
    assert listing[1].startswith("DE-BERLIN") and "yes" in listing[1]
    assert main(["locations", "list", "--kind", "warehouse", "--json", "--db", url]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["WH-KASSEL"]


def test_geocoder_resolves_offline_and_says_when_it_cannot(tmp_path: Path) -> None:
    postal = write(
        tmp_path, "postal.csv", "country,postal_code,lat,lon\nDE,10178,52.5213,13.4096\n"
    )
    geocoder = Geocoder(postal)
    assert geocoder.resolve({"lat": 50.0, "lon": 8.0}).lat == 50.0
    munich = geocoder.resolve({"city": "munchen", "country": "de"})
    assert abs(munich.lat - 48.137) < 0.01 and abs(munich.lon - 11.575) < 0.01
    assert geocoder.resolve({"city": "Vienna", "country": "AT"}).lon == pytest.approx(
        16.37, abs=0.01
    )
    nyc = geocoder.resolve({"postal_code": "10001", "country": "US"})
    assert abs(nyc.lat - 40.75) < 0.01
    assert geocoder.resolve({"postal_code": "10178", "country": "DE"}).lat == 52.5213
    with pytest.raises(UnknownPlace, match="no city 'Atlantis' in country 'DE'"):
        geocoder.resolve({"city": "Atlantis", "country": "DE"})
    with pytest.raises(UnknownPlace, match="postal code '99999' in country 'NL' is not known"):
        geocoder.resolve({"postal_code": "99999", "country": "NL"})
    with pytest.raises(UnknownPlace, match="postal code '00000' in country 'US'"):
        geocoder.resolve({"postal_code": "00000", "country": "US"})


def test_a_row_routing_cannot_read_is_left_out_not_fatal(database: Database) -> None:
    from adapters.db import tables as t

    rows = [
        {
            "id": "OK",
            "name": "ok",
            "kind": "store",
            "lat": 50.0,
            "lon": 8.0,
            "pickup_enabled": True,
        },
        {
            "id": "BAD-TZ",
            "name": "x",
            "kind": "store",
            "lat": 50.0,
            "lon": 8.0,
            "timezone": "Mars/X",
        },
        {
            "id": "BAD-H",
            "name": "x",
            "kind": "store",
            "lat": 50,
            "lon": 8,
            "opening_hours": {"mo": []},
        },
    ]
    with database.engines.write.begin() as connection:  # written around the import checks
        for row in rows:
            connection.execute(t.locations.insert().values(**row))
    network = registry.Registry(database).network()
    assert sorted(network.sites) == ["OK"]
