"""Refusals say what was wrong and what is expected instead."""

from __future__ import annotations

from adapters.geocode import Geocoder, UnknownPlace
from tests.api_fixtures import Api, api

__all__ = ["api"]

SKU = "/v1/availability/SKU-1"


def reason(body: dict, field: str) -> str:
    found = [e["reason"] for e in body["errors"] if e["field"] == field]
    assert found, body
    return str(found[0])


def test_availability_query_mistakes_are_explained(api: Api) -> None:
    status, body = api.call("GET", SKU, "read", params={"near": "berlin"})
    assert status == 422
    assert "latitude,longitude" in reason(body, "near") and "place name" in reason(body, "near")
    status, body = api.call("GET", SKU, "read", params={"near": "52.5"})
    assert status == 422 and "both latitude and longitude" in reason(body, "near")
    status, body = api.call("GET", SKU, "read", params={"radius_km": "5"})
    assert status == 422 and "only together with near" in reason(body, "radius_km")
    # '+' unencoded in the URL arrives as a space
    status, body = api.call("GET", SKU + "?as_of=2026-05-01T09:30:00+02:00", "read")
    assert status == 422 and "%2B" in reason(body, "as_of")
    status, body = api.call("GET", SKU, "read", params={"as_of": "2026-05-01T09:30:00+02:00"})
    assert status == 200, body  # encoded, it works
    status, body = api.call("GET", SKU, "read", params={"near": "52.5,13.4", "radius_km": "5"})
    assert status == 200, body


def test_postal_codes_of_a_country_without_a_table_point_to_city_or_coordinates() -> None:
    geocoder = Geocoder(postal_file=None)
    try:
        geocoder.postal("10115", "DE")
    except UnknownPlace as error:
        text = str(error)
    else:
        raise AssertionError("a DE postal code resolved without a table")
    assert "cannot be resolved offline" in text and '{"city", "country"}' in text
