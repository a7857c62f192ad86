"""Personal data: kept beside the ledger, never in it, and only for as long as a flow needs it.

The ledger is append-only: whatever it records is in every replay, snapshot and export for
good.  So it records only opaque ids.  What a flow needs to know about a person (whom to call
when a hold is ready, the name on a pickup) is a `PersonalRecord` in a separate, mutable store
(`inventory.ports.PersonalData`), keyed by the opaque `subject_id` the ledger's `reference`
carries.  A record ends when its reservation no longer holds stock (handed over, released,
expired); `Retention` says how long it is kept after that, and how long dead letters (which
keep the original bytes of a message, personal fields included) are kept at all.

The rules here decide which records and which dead letters belong to a person an erasure
request names (`lookup_keys`, `Mentions`); they are shared by every store.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace

DAY = 86_400 * 1_000_000  # microseconds
SUBJECT_PREFIX = "customer-"
# a telephone number as people write it: + or a digit, then digits and separators
PHONE = re.compile(r"\+?\d[\d\s\-/().]{4,}\d")
MIN_PHONE_DIGITS = 6
# what an erased dead letter says instead of its reason
ERASED_REASON = "erased: the message mentioned a person whose data was erased"
PHONE_KEY_DIGITS = 9


@dataclass(frozen=True)
class Customer:
    """What the staff (or a channel) tells about the person a hold is for."""

    name: str
    contact: str | None = None  # a phone number or an e-mail address, to call when it is ready


@dataclass(frozen=True)
class PersonalRecord:
    """One person's details for one reservation, in the personal-data store."""

    subject_id: str  # opaque; the reservation events carry it as their `reference`
    reservation_id: str
    name: str
    contact: str | None
    created_at: int
    ended_at: int | None = None  # when the reservation stopped holding (None: still open)

    @property
    def name_key(self) -> str:
        return fold(self.name)

    @property
    def contact_key(self) -> str | None:
        return fold(self.contact) if self.contact else None

    @property
    def phone_key(self) -> str | None:
        """The key of the telephone number in the contact, else of one written in the name
        (staff may type "Ms Weber 0170 1234567" into one field)."""
        for text in (self.contact or "", self.name):
            for found in PHONE.findall(text):
                if len(digits(found)) >= MIN_PHONE_DIGITS:
                    return phone_key(found)
        return None

    @property
    def keys(self) -> frozenset[str]:
        """What an erasure request may name this record by (compared with `lookup_keys`)."""
        found = {self.subject_id, self.reservation_id, self.name_key}
        found.update(k for k in (self.contact_key, self.phone_key) if k)
        return frozenset(found)

    def ended(self, now: int) -> PersonalRecord:
        return self if self.ended_at is not None else replace(self, ended_at=now)


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept: records for `personal_data_days` after their
    reservation ended, dead letters for `dead_letter_days` after they arrived."""

    personal_data_days: float = 7
    dead_letter_days: float = 30

    def __post_init__(self) -> None:
        if self.personal_data_days < 0 or self.dead_letter_days < 0:
            raise ValueError("retention periods must be zero or more days")

    def records_ended_before(self, now: int) -> int:
        return now - int(self.personal_data_days * DAY)

    def letters_received_before(self, now: int) -> int:
        return now - int(self.dead_letter_days * DAY)


def new_subject_id() -> str:
    """A fresh opaque id for a person's details (it says nothing about the person)."""
    return SUBJECT_PREFIX + secrets.token_hex(12)


def is_subject_id(text: str | None) -> bool:
    """Whether a ledger reference is a personal-data subject id (and not an order number)."""
    return bool(text) and str(text).startswith(SUBJECT_PREFIX)


def fold(text: str) -> str:
    """Case and spacing folded: "  Ms  WEBER " and "ms weber" are one name."""
    return " ".join(text.casefold().split())


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def same_phone(a: str, b: str) -> bool:
    """One number written two ways: the same last digits (see `phone_key`)."""
    return phone_key(a) == phone_key(b)


def is_phone(text: str) -> bool:
    stripped = text.strip()
    return bool(PHONE.fullmatch(stripped)) and len(digits(stripped)) >= MIN_PHONE_DIGITS


def lookup_keys(text: str) -> set[str]:
    """The normalised forms a value is found by: case and spacing folded; a telephone
    number also by its last digits ("+49 170 123-4567" and "0170 1234567" are one number)."""
    folded = fold(text)
    if not folded:
        return set()
    found = {folded}
    if is_phone(folded):
        found.add(phone_key(folded))
    found.add(text.strip())  # an id (subject or reservation) as it is written
    return found


def phone_key(text: str) -> str:
    """A number's last nine digits: the same with or without a country code or trunk prefix."""
    return "tel:" + digits(text)[-PHONE_KEY_DIGITS:]


@dataclass(frozen=True)
class Mentions:
    """Whether the bytes of a message mention any of a person's values (a name, an e-mail
    address, a phone number): as a whole word, case and spacing folded, and numbers by their
    last digits whatever the spacing or prefix.  Values shorter than three characters are
    ignored (they would match almost anything)."""

    terms: tuple[str, ...]

    @classmethod
    def of(cls, values: Iterable[str]) -> Mentions:
        terms = {fold(v) for v in values}
        return cls(tuple(sorted(t for t in terms if len(t) >= 3)))

    def __call__(self, payload: bytes) -> bool:
        if not self.terms:
            return False
        text = fold(payload.decode("utf-8", errors="replace"))
        phones = [m for m in PHONE.findall(text) if len(digits(m)) >= MIN_PHONE_DIGITS]
        for term in self.terms:
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text):
                return True
            if is_phone(term) and any(same_phone(term, found) for found in phones):
                return True
        return False
