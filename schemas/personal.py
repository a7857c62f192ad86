"""Wire models of the personal-data endpoints (erasure requests)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ForgetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    customer: str = Field(
        min_length=1,
        max_length=300,
        description="Whom to forget: a name or phone number or e-mail address as it was "
        "given, a customer subject id (`customer-…`) or a reservation id.",
    )


class ErasedRecord(BaseModel):
    subject_id: str
    reservation_id: str


class ForgetResult(BaseModel):
    """What was erased, by id only (the answer repeats no personal data)."""

    personal_data: list[ErasedRecord]
    dead_letters: list[int] = Field(description="ids of the dead letters whose bytes were erased")
    ledger: str = Field(description="the ledger holds only opaque ids and is left unchanged")
