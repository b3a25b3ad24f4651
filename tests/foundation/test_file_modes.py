"""Every file and directory bastide creates in a hub is its owner's only (0600 / 0700):
after init, ingest, extract, a workspace output, a study run and its export, by the
commands a user types (each its own process, with the shell's usual umask 022)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bastide.filemodes import owner_only_umask, private_file

STUDY = """
study: modes
version: 1
concept_sets:
  any_drug: [{vocabulary: ATC, code: M01A}]
cohorts:
  exposed:
    version: 1
    entry: {events: [{domain: drug_exposure}]}
    exit: {end: fixed, days: 30}
analyses:
  - {name: counts, type: counts, cohorts: [exposed]}
  - {name: rates, type: incidence, cohort: exposed, outcome: exposed}
"""
REQUEST = """
name = "modes"
title = "File modes"
purpose = "Check that every file of a hub is its owner's only."
legal_basis = "RGPD art. 6.1.e and 9.2.j"
authorisation = "CNIL DR-2025-042"
[tables]
person = ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth"]
observation_period = ["person_id", "observation_period_start_date", "observation_period_end_date"]
drug_exposure = ["person_id", "drug_concept_id", "drug_source_concept_id", "drug_exposure_start_date", "drug_exposure_end_date", "days_supply"]
condition_occurrence = ["person_id", "condition_concept_id", "condition_source_concept_id", "condition_start_date"]
death = ["person_id", "death_date"]
concept = ["concept_id", "concept_name", "vocabulary_id", "concept_code"]
concept_ancestor = ["ancestor_concept_id", "descendant_concept_id"]
[population]
"""  # noqa: E501


def bastide(*args: str, stdin: str | None = None) -> str:
    # The usual shell umask: what bastide creates must not depend on it.
    proc = subprocess.run(
        [sys.executable, "-c", "import os, sys, runpy; os.umask(0o022); "
         "sys.argv = ['bastide', *sys.argv[1:]]; runpy.run_module('bastide', run_name='__main__')",
         *args],
        input=stdin,
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def loose(root: Path) -> list[str]:
    """Entries of ``root`` (itself included) that a group or others may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


@pytest.mark.slow
def test_every_file_of_a_hub_is_owner_only(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    extract = tmp_path / "extract"
    h = ["--hub", str(hub)]
    bastide("init", str(hub))
    assert loose(hub) == []
    bastide("synth", "--persons", "200", "--seed", "3", "--out", str(extract), "--hospitals", "1")
    bastide("ingest", str(extract / "snds"), "--source", "snds", *h)
    password = "a long enough password 1\n"
    bastide("user", "add", "olga", "--role", "operator", "--password-stdin", *h, stdin=password)
    for name, role in (("stella", "steward"), ("sam", "steward"), ("rita", "researcher")):
        bastide(
            "user", "add", name, "--role", role, "--password-stdin", "--as", "olga", *h,
            stdin=password,
        )  # fmt: skip
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    bastide("project", "request", str(request), "--as", "rita", *h)
    bastide("project", "review", "modes", "--as", "stella", *h)
    bastide("project", "approve", "modes", "--expires", "2099-01-01", "--as", "sam", *h)
    bastide("extract", "modes", "--as", "olga", *h)
    bastide("project", "activate", "modes", "--as", "olga", *h)
    bastide(
        "query", "--project", "modes", "--as", "rita", "--save", "born", *h,
        "SELECT year_of_birth, count(*) AS n FROM person GROUP BY 1",
    )  # fmt: skip
    study = tmp_path / "modes.yaml"
    study.write_text(STUDY, encoding="utf-8")
    bastide("study", "run", str(study), "--project", "modes", "--as", "rita", *h)
    bastide("study", "export", "--project", "modes", "--as", "rita", *h)
    assert (hub / "metadata.db").is_file()
    assert list((hub / "projects" / "modes" / "workspace" / "exports").rglob("*.png"))
    assert loose(hub) == []


def test_an_older_metadata_database_is_tightened(tmp_path: Path) -> None:
    """A hub made before this rule: its metadata.db loses group and other bits when the
    store opens it."""
    from bastide.governance.store import MetadataStore

    path = tmp_path / "metadata.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    MetadataStore(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    private_file(tmp_path / "new")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o600


def test_the_umask_keeps_stricter_bits() -> None:
    previous = os.umask(0o027)
    try:
        owner_only_umask()
        assert os.umask(0o027) == 0o077
        os.umask(0o277)
        owner_only_umask()
        assert os.umask(previous) == 0o277
    finally:
        os.umask(previous)
