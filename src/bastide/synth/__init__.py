"""Realistic synthetic data: linked SNDS extracts, hospital OMOP extracts, ground truth.

``generate(SynthOptions(...))`` writes the files described in docs/synthetic-data.md and
returns the manifest.
"""

from bastide.synth.generator import GENERATOR_VERSION, SynthError, SynthOptions, generate

__all__ = ["GENERATOR_VERSION", "SynthError", "SynthOptions", "generate"]
