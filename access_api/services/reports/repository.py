"""Reports of this area, registered in ``spec.REPORTS`` (#15)."""
