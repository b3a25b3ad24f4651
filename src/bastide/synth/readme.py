"""The README written into ground_truth/."""

from __future__ import annotations


def ground_truth_readme(finess: list[str]) -> str:
    hospitals = ", ".join(finess)
    return f"""# Ground truth of this synthetic extract

These files describe the synthetic world behind `snds/` and `hospitals/`. The ingestion
never reads them; tests and the linkage evaluation compare their results with them.

## persons.csv — one row per true person

| column | meaning |
|---|---|
| true_person_key | `P` + 9 digits: national extract; `F` + 9 digits: foreign hospital patient |
| kind | `national` or `foreign` (absent from the SNDS extract) |
| nir | the person's NIR (15 characters, with its key) |
| sex, birth_date, death_date | true values (death_date empty if alive on 2023-12-31) |
| ben_nir_ano, ben_idt_ano | stable pseudonymised NIR (IR_BEN_R, KI_CCI_R) |
| ben_nir_psa_1, ben_rng_gem_1 | BEN_NIR_PSA and BEN_RNG_GEM at the start of the period |
| ben_nir_psa_2, ben_rng_gem_2, psa_2_from | second BEN_NIR_PSA after a change of cover, from |
| twin_of | key of the elder twin (same sex, same birth date) |
| hospital_<FINESS>_person_id | person_id in that hospital's PERSON table (hospitals: {hospitals}) |
| hospital_<FINESS>_source | ok, missing (empty), corrupted (one wrong character), not_national |

## stays.csv — one row per PMSI MCO stay

true_person_key, pmsi_year (T_MCOyy file), eta_num, rsa_num, nir_ano_17 as written,
chaining (`ok`, `ret_flag`: a `*_RET` flag is non-zero and the identifier is unusable,
`placeholder`: `xxxxxxxxxxxxxxxxx`), ghm_error (GRG_GHM 90Z00Z), inter_establishment
(SEJ_TYP `B`), stay_kind, entry and exit
dates, and for stays at a participating hospital its hospital_person_id and
visit_occurrence_id.

## defects.csv — one row per planted defect

Rows the border must quarantine, each with one defect: `file` (path in this output),
`line` (1-based, the header is line 1; for Parquet files the row number), `table`,
`reason` (the border's reason code: missing_identifier, bad_date, type_error,
unknown_code, duplicate_key) and `column` (key columns joined with `+` for a duplicate,
which is an exact copy of the row before it).

## effects.json

Realised prevalences, the planted effect (definition, parameters, realised counts per
arm), the number of rows an ETL must drop (PMSI placeholder identifiers and RET flags, DCIR
cancellations and information-only lines, PMSI stays lost to planted defects) with the
number of groups left after netting once the border has quarantined the defects, the
hospital identity noise, and `defects`: the rate, the number of defective rows, counts by
reason and per file and reason (every affected file listed), the kinds of each table.
"""
