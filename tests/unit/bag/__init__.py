"""Unit tests for safe unpacking, RFC 8493 bag validation and bagit-profiles checks."""
