"""Ingest: receiving SIPs, safe unpacking, validation, scanning, identification, AIP building."""
