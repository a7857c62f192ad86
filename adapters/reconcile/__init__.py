"""Nightly reconciliation: read and write stock snapshots, compare them with the ledger, report."""
