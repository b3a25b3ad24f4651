"""A bad download is refused with its file, line and problem; nothing is published and the
failure is audited. Each case starts from a hub holding a good import, which stays current."""

from __future__ import annotations

from pathlib import Path

import pytest
from athena_fixture import CONCEPTS, RELATIONSHIPS, VOCABULARIES, write_download

from bastide.governance import Governance, Identity
from bastide.hub import Hub
from bastide.storage import Warehouse
from bastide.vocab import VocabularyError
from bastide.vocab.service import import_vocabulary

GOOD_CONCEPT = CONCEPTS[1]


def _replace(rows: list[str], index: int, column: int, value: str) -> list[str]:
    cells = rows[index].split("\t")
    cells[column] = value
    return [*rows[:index], "\t".join(cells), *rows[index + 1 :]]


CASES = {
    "bad integer": (
        {"concepts": _replace(CONCEPTS, 2, 0, "2018x20")},
        r"CONCEPT\.csv line 4: concept_id '2018x20' is not an integer",
    ),
    "bad date": (
        {"concepts": _replace(CONCEPTS, 1, 7, "20241341")},
        r"CONCEPT\.csv line 3: valid_start_date '20241341' is not a date",
    ),
    "duplicate concept_id": (
        {"concepts": [*CONCEPTS, GOOD_CONCEPT]},
        r"CONCEPT\.csv line 6: duplicate concept_id 201826 \(first on line 3\)",
    ),
    "relationship to an unknown concept": (
        {"relationships": [*RELATIONSHIPS, "201826\t999999\tIs a\t19700101\t20991231\t"]},
        r"CONCEPT_RELATIONSHIP\.csv line 6: concept_id_2 999999 is not a concept",
    ),
    "empty required value": (
        {"concepts": _replace(CONCEPTS, 2, 3, "")},
        r"CONCEPT\.csv line 4: vocabulary_id is empty",
    ),
    "ragged line": (
        {"vocabularies": [*VOCABULARIES, "LOINC\tLOINC\tRegenstrief\t2.76\t0\t12"]},
        r"VOCABULARY\.csv line 5: 6 fields where the header has 5",
    ),
    "bad relationship date": (
        {"relationships": _replace(RELATIONSHIPS, 0, 4, "2099-13-01")},
        r"CONCEPT_RELATIONSHIP\.csv line 2: valid_end_date '2099-13-01' is not a date",
    ),
}


@pytest.fixture
def imported(tmp_path: Path, gov: Governance, olga: Identity) -> int:
    result = import_vocabulary(gov, olga, write_download(tmp_path / "good"))
    assert result.version is not None
    return result.version


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_file_names_file_line_and_problem(
    case: str, tmp_path: Path, hub: Hub, gov: Governance, olga: Identity, imported: int
) -> None:
    changes, message = CASES[case]
    download = write_download(tmp_path / "bad", **changes)
    with pytest.raises(VocabularyError, match=message):
        import_vocabulary(gov, olga, download)
    current = Warehouse(hub).current()
    assert current is not None and current.version == imported
    assert [s.version for s in Warehouse(hub).snapshots()] == [imported]
    last = gov.audit.entries(1)[0]
    assert (last.action, last.outcome) == ("import_vocabulary", "failed")
    assert "nothing was published" in last.reason


def test_a_missing_required_column(tmp_path: Path, gov: Governance, olga: Identity) -> None:
    download = write_download(tmp_path / "bad")
    text = (download / "CONCEPT.csv").read_text("utf-8")
    (download / "CONCEPT.csv").write_text(text.replace("concept_code", "code", 1), "utf-8")
    with pytest.raises(
        VocabularyError, match=r"CONCEPT\.csv line 1: missing required column 'concept_code'"
    ):
        import_vocabulary(gov, olga, download)


def test_a_missing_file(tmp_path: Path, gov: Governance, olga: Identity) -> None:
    download = write_download(tmp_path / "bad")
    (download / "CONCEPT_RELATIONSHIP.csv").unlink()
    with pytest.raises(VocabularyError, match=r"no CONCEPT_RELATIONSHIP\.csv"):
        import_vocabulary(gov, olga, download)


def test_the_cli_prints_one_line_without_traceback(
    tmp_path: Path, hub: Hub, olga: Identity
) -> None:
    import subprocess
    import sys

    download = write_download(tmp_path / "bad", concepts=_replace(CONCEPTS, 2, 0, "x"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bastide",
            "vocab",
            "import",
            str(download),
            "--hub",
            str(hub.root),
            "--as",
            "olga",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "CONCEPT.csv line 4: concept_id 'x' is not an integer" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
