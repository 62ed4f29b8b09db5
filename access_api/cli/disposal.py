"""Commands of this area (#15/#16)."""
