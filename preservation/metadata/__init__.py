"""National metadata (TT 05/2025/TT-BNV): code lists, EAD read/write, identifiers, dates, rules.

Everything here is pure: no I/O beyond reading the shipped ``schemas`` package data, no global
state except ``functools.cache`` over that read-only data.
"""
