"""French vocabularies as OMOP vocabulary tables."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from bastide.cdm import nomenclatures
from bastide.cdm.concept_ids import LOCAL_CONCEPT_FLOOR, concept_id, concept_ids
from bastide.cdm.spec import arrow_schema, conform
from bastide.cdm.vocabulary import (
    build_vocabulary,
    cip13_to_atc_relationships,
    code_map,
    normalise_codes,
    resolve_codes,
)
from shared_data import shared_data_path

VOCABULARY_TABLES = ("concept", "concept_relationship", "concept_ancestor", "vocabulary")

# An IR_PHA_R extract as SNDS ships it (integer CIP13 and UCD): anastrozole, ranitidine, an
# ibuprofen presentation BDPM does not list, and an ATC code finer than Open Medic knows.
IR_PHA_R = pa.table(
    {
        "PHA_CIP_C13": pa.array(
            [3400949497294, 3400933208639, 3400900000017, 3400900000024], pa.int64()
        ),
        "PHA_ATC_C07": ["L02BG03", "A02BA02", "M01AE01", "M01AE99"],
        "PHA_CIP_UCD": pa.array([9231824, None, None, None], pa.int64()),
        "PHA_MED_NOM": ["ARIMIDEX", "AZANTAC", "IBUPROFENE TEST", None],
    }
)


@pytest.fixture(scope="module")
def vocab() -> dict[str, pa.Table]:
    return build_vocabulary()


@pytest.fixture(scope="module")
def vocab_pha() -> dict[str, pa.Table]:
    return build_vocabulary(IR_PHA_R)


def frame(table: pa.Table) -> pl.DataFrame:
    result = pl.from_arrow(table)
    assert isinstance(result, pl.DataFrame)
    return result


def descendants(vocab: dict[str, pa.Table], vocabulary_id: str, code: str) -> pl.DataFrame:
    """(code, vocabulary_id, level) of everything at or below one concept: the one join a
    study writes."""
    concepts = frame(vocab["concept"])
    ancestor = concept_id(vocabulary_id, code)
    return (
        frame(vocab["concept_ancestor"])
        .filter(pl.col("ancestor_concept_id") == ancestor)
        .join(concepts, left_on="descendant_concept_id", right_on="concept_id")
        .select(
            pl.col("concept_code").alias("code"),
            "vocabulary_id",
            pl.col("min_levels_of_separation").alias("level"),
        )
    )


def test_tables_have_the_exact_omop_schema(vocab: dict[str, pa.Table]) -> None:
    assert set(vocab) == set(VOCABULARY_TABLES)
    for name in VOCABULARY_TABLES:
        assert vocab[name].schema == arrow_schema(name), name


def test_what_is_loaded(vocab: dict[str, pa.Table]) -> None:
    counts = frame(vocab["concept"]).group_by("vocabulary_id").len()
    counts_by_id = dict(zip(counts["vocabulary_id"], counts["len"], strict=True))
    # Every parsed code is a concept, plus one concept standing for the vocabulary itself.
    assert counts_by_id["CIM10"] == nomenclatures.cim10().codes.height + 22 + 1
    assert counts_by_id["CCAM"] == nomenclatures.ccam().codes.height + 1
    assert counts_by_id["ATC"] == nomenclatures.atc().codes.height + 1
    assert counts_by_id["CIP13"] == 20083 + 1
    assert counts_by_id["UCD"] == 1812 + 1
    assert nomenclatures.cim10().codes.height > 19_000
    assert nomenclatures.ccam().codes.height > 8_000


def test_concept_ids_are_the_function_of_the_code(vocab: dict[str, pa.Table]) -> None:
    concepts = frame(vocab["concept"])
    assert concepts["concept_id"].is_unique().all()
    assert concepts.select("vocabulary_id", "concept_code").is_unique().all()
    assert concepts["concept_id"].min() >= LOCAL_CONCEPT_FLOOR
    for vocabulary_id, group in concepts.filter(
        pl.col("concept_class_id") != "Vocabulary"
    ).group_by("vocabulary_id"):
        expected = concept_ids(str(vocabulary_id[0]), group["concept_code"].to_arrow())
        assert group["concept_id"].to_list() == expected.to_pylist()


def test_labels_and_classes(vocab: dict[str, pa.Table]) -> None:
    concepts = frame(vocab["concept"])

    def row(vocabulary_id: str, code: str) -> dict[str, object]:
        match = concepts.filter(
            pl.col("vocabulary_id") == vocabulary_id, pl.col("concept_code") == code
        )
        assert match.height == 1, (vocabulary_id, code)
        return match.row(0, named=True)

    e11 = row("CIM10", "E11")
    assert e11["concept_name"] == "Diabète sucré de type 2"
    assert e11["concept_class_id"] == "ICD10 Hierarchy" and e11["domain_id"] == "Condition"
    assert row("CIM10", "E119")["concept_class_id"] == "ICD10 Hierarchy"
    assert row("CIM10", "E1190")["concept_class_id"] == "ICD10 code"
    assert row("CIM10", "E00-E90")["concept_class_id"] == "ICD10 Chapter"
    assert row("ATC", "M01A")["concept_class_id"] == "ATC 3rd"
    assert row("ATC", "M01AE01")["concept_class_id"] == "ATC 5th"
    # A code note on a second line does not make a different code.
    assert row("CCAM", "JANH798")["concept_name"].startswith("Destruction de tumeur rénale")
    cip = row("CIP13", "3400949497294")
    assert cip["concept_name"].startswith("ANASTROZOLE") and cip["domain_id"] == "Drug"
    assert row("UCD", "0000009231824")["concept_name"].startswith("CEPROTIN")
    assert concepts.filter(pl.col("concept_code").is_in(["III", "XXX", "ZZZ", "NT_09"])).is_empty()
    assert concepts["concept_name"].str.len_chars().max() <= 255


def test_versions_are_recorded(vocab: dict[str, pa.Table]) -> None:
    versions = {r["vocabulary_id"]: r for r in vocab["vocabulary"].to_pylist()}
    assert set(versions) == {"CIM10", "CCAM", "CSARR", "ATC", "CIP13", "UCD"}
    assert versions["CCAM"]["vocabulary_version"] == "CCAM V63"
    assert versions["CIM10"]["vocabulary_version"] == "IR_CIM_V V8.0 (2017-07-02)"
    assert versions["CIP13"]["vocabulary_version"].startswith("BDPM, latest dated entry 20")
    concept_ids_ = set(vocab["concept"].column("concept_id").to_pylist())
    assert all(v["vocabulary_concept_id"] in concept_ids_ for v in versions.values())


def test_cim10_hierarchy_is_selectable_in_one_join(vocab: dict[str, pa.Table]) -> None:
    below_e11 = descendants(vocab, "CIM10", "E11")
    levels = dict(zip(below_e11["code"], below_e11["level"], strict=True))
    assert levels["E11"] == 0 and levels["E119"] == 1 and levels["E1190"] == 2
    assert all(code.startswith("E11") for code in levels)
    assert (
        len(levels)
        == frame(vocab["concept"])
        .filter(pl.col("vocabulary_id") == "CIM10", pl.col("concept_code").str.starts_with("E11"))
        .height
    )
    chapter = descendants(vocab, "CIM10", "E00-E90")
    assert {"E11", "E1190", "E660"} <= set(chapter["code"])
    assert dict(zip(chapter["code"], chapter["level"], strict=True))["E1190"] == 3
    assert not set(chapter["code"]) & {"I10", "C50"}


def test_atc_hierarchy(vocab: dict[str, pa.Table]) -> None:
    below = descendants(vocab, "ATC", "M01A")
    levels = dict(zip(below["code"], below["level"], strict=True))
    assert levels["M01AE"] == 1 and levels["M01AE01"] == 2
    top = descendants(vocab, "ATC", "M")
    assert dict(zip(top["code"], top["level"], strict=True))["M01AE01"] == 4


def test_ancestor_is_the_complete_transitive_closure(vocab_pha: dict[str, pa.Table]) -> None:
    ancestor = frame(vocab_pha["concept_ancestor"])
    concepts = frame(vocab_pha["concept"])
    relationships = frame(vocab_pha["concept_relationship"])
    pairs = ancestor.select("ancestor_concept_id", "descendant_concept_id")
    assert pairs.is_unique().all()
    # Every concept is its own ancestor at level 0.
    selves = ancestor.filter(pl.col("ancestor_concept_id") == pl.col("descendant_concept_id"))
    assert selves.height == concepts.height
    assert (selves["min_levels_of_separation"] == 0).all()
    # Every 'Is a' step is a level-1 ancestry, and 'Subsumes' is its exact inverse.
    is_a = relationships.filter(pl.col("relationship_id") == "Is a")
    subsumes = relationships.filter(pl.col("relationship_id") == "Subsumes")
    assert is_a.height == subsumes.height
    steps = is_a.join(
        ancestor,
        left_on=["concept_id_2", "concept_id_1"],
        right_on=["ancestor_concept_id", "descendant_concept_id"],
    )
    assert steps.height == is_a.height and (steps["min_levels_of_separation"] == 1).all()
    # Closed under composition: a → b → c implies a → c, no shorter than the two steps.
    composed = (
        ancestor.rename({"descendant_concept_id": "middle", "min_levels_of_separation": "l1"})
        .select("ancestor_concept_id", "middle", "l1")
        .join(
            ancestor.select(
                pl.col("ancestor_concept_id").alias("middle"),
                "descendant_concept_id",
                pl.col("min_levels_of_separation").alias("l2"),
            ),
            on="middle",
        )
        .group_by("ancestor_concept_id", "descendant_concept_id")
        .agg((pl.col("l1") + pl.col("l2")).min().alias("shortest"))
    )
    checked = composed.join(
        ancestor, on=["ancestor_concept_id", "descendant_concept_id"], how="left"
    )
    assert checked["min_levels_of_separation"].null_count() == 0
    assert (checked["min_levels_of_separation"] == checked["shortest"]).all()
    assert (ancestor["max_levels_of_separation"] >= ancestor["min_levels_of_separation"]).all()


def test_ir_pha_r_puts_drugs_under_their_atc_class(vocab_pha: dict[str, pa.Table]) -> None:
    below = descendants(vocab_pha, "ATC", "M01A")
    drugs = below.filter(pl.col("vocabulary_id") == "CIP13")
    levels = dict(zip(drugs["code"], drugs["level"], strict=True))
    # Exact ATC5 → 3 steps below M01A; unknown M01AE99 falls back to M01AE → 2 steps.
    assert levels == {"3400900000017": 3, "3400900000024": 2}
    cancer = descendants(vocab_pha, "ATC", "L02BG")
    assert {"3400949497294", "0000009231824"} <= set(cancer["code"])  # CIP13 and its UCD
    concepts = frame(vocab_pha["concept"])
    added = concepts.filter(pl.col("concept_code") == "3400900000017").row(0, named=True)
    assert added["concept_name"] == "IBUPROFENE TEST" and added["vocabulary_id"] == "CIP13"
    unnamed = concepts.filter(pl.col("concept_code") == "3400900000024").row(0, named=True)
    assert unnamed["concept_name"] == "CIP13 3400900000024"


def test_cip13_to_atc_relationships() -> None:
    rows = frame(cip13_to_atc_relationships(IR_PHA_R))
    assert rows.columns == arrow_schema("concept_relationship").names
    anastrozole = concept_id("CIP13", "3400949497294")
    l02bg03 = concept_id("ATC", "L02BG03")
    forward = rows.filter(pl.col("concept_id_1") == anastrozole)
    assert set(forward["relationship_id"]) == {"Maps to", "Is a"}
    assert set(forward["concept_id_2"]) == {l02bg03}
    backward = rows.filter(pl.col("concept_id_1") == l02bg03)
    assert set(backward["relationship_id"]) == {"Mapped from", "Subsumes"}
    with pytest.raises(ValueError, match="PHA_ATC_C07"):
        cip13_to_atc_relationships(pa.table({"PHA_CIP_C13": [1]}))


def test_build_is_cached() -> None:
    first, second = build_vocabulary(), build_vocabulary()
    assert first["concept"] is second["concept"]


def test_unions_with_an_existing_omop_vocabulary(vocab: dict[str, pa.Table]) -> None:
    path = shared_data_path("eunomia-synthea27nj", "CONCEPT.csv")
    eunomia = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={"concept_id": pa.int64(), "concept_code": pa.string()},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    # Eunomia ships one concept with an empty name; keep the union strictly typed.
    eunomia = eunomia.filter(pc.is_valid(eunomia["concept_name"]))
    union = pa.concat_tables([vocab["concept"], conform(eunomia, "concept")])
    assert union.num_rows == vocab["concept"].num_rows + eunomia.num_rows
    ids = union.column("concept_id")
    assert pc.count_distinct(ids).as_py() == union.num_rows


def test_code_map_and_resolution(vocab_pha: dict[str, pa.Table]) -> None:
    mapping = code_map(vocab_pha["concept"], vocab_pha["concept_relationship"])
    assert mapping.column_names == [
        "vocabulary_id",
        "concept_code",
        "source_concept_id",
        "concept_id",
    ]
    cim = resolve_codes(pa.array(["E11.9", " e119 ", "Q999X", None]), "CIM10", mapping)
    e119 = concept_id("CIM10", "E119")
    assert cim.column("source_concept_id").to_pylist() == [e119, e119, 0, 0]
    assert cim.column("concept_id").to_pylist() == [0, 0, 0, 0]  # CIM-10 maps to nothing
    cip = resolve_codes(pa.array([3400949497294, 3400000000000]), "CIP13", mapping)
    assert cip.column("source_concept_id").to_pylist() == [
        concept_id("CIP13", "3400949497294"),
        0,
    ]
    assert cip.column("concept_id").to_pylist() == [concept_id("ATC", "L02BG03"), 0]
    ucd = resolve_codes(pa.array(["9231824"]), "UCD", mapping)
    assert ucd.column("source_concept_id").to_pylist() == [concept_id("UCD", "0000009231824")]
    only_cim = code_map(vocab_pha["concept"], vocabulary_ids=["CIM10"])
    assert set(only_cim.column("vocabulary_id").to_pylist()) == {"CIM10"}
    assert normalise_codes("CIP13", pa.array(["3400949497294.0"])).to_pylist() == ["3400949497294"]
