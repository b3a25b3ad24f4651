"""Harmonisation into OMOP CDM v5.4: staged, pseudonymised source tables in, OMOP tables
out, all as SQL run through the engine interface."""
