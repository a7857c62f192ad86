"""One settings model for every environment variable, and the README's table generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.config import EnvSettings, env_settings, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_table_is_the_models() -> None:
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme, "regenerate it: inventory settings --markdown"


def test_every_variable_the_code_names_is_in_the_model() -> None:
    named = set()
    for path in [*ROOT.glob("adapters/**/*.py"), *ROOT.glob("inventory/**/*.py")]:
        named |= set(re.findall(r"\bINVENTORY_([A-Z0-9_]+[A-Z0-9])\b", path.read_text()))
    assert named - {n.upper() for n in EnvSettings.model_fields} == set()


def test_values_come_from_the_environment_or_a_mapping(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_DB_THREADS", "3")
    monkeypatch.setenv("INVENTORY_KAFKA_GROUP", "")  # empty counts as unset
    assert env_settings().db_threads == 3
    assert env_settings().kafka_group == "inventory-intake"
    assert env_settings({"INVENTORY_STAFF_NEARBY_KM": "25"}).staff_nearby_km == 25.0
    with pytest.raises(ValidationError, match="kafka_batch"):
        env_settings({"INVENTORY_KAFKA_BATCH": "many"})
