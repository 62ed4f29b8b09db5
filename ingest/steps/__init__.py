"""Ingest steps, one module each; each names its PREMIS event and returns a ``StepResult``."""
