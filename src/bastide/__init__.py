"""bastide — a sovereign health data hub.

Ingest national claims (SNDS layout) and hospital extracts, pseudonymise them at the
border, harmonise them into an encrypted OMOP CDM v5.4 warehouse, and govern research
on it. The public surface is small: `bastide.hub.Hub` and the `bastide` command.
"""

__version__ = "0.1.0"
