"""Ingestion, the hub's main job: source extracts -> pseudonymised, linked OMOP CDM.

result = ingest(hub, Path("extract/snds"), "snds")
result = ingest(hub, Path("extract/hospitals/750100125"), "omop", truth=...)
"""

from bastide.ingest.pipeline import IngestError, extract_fingerprint, ingest
from bastide.ingest.result import IngestResult

__all__ = ["IngestError", "IngestResult", "extract_fingerprint", "ingest"]
