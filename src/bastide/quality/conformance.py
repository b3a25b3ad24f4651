"""Conformance and completeness checks derived from the OMOP specification: fields
present, required fields not null, values of the declared type, unique primary keys,
foreign keys that resolve, concepts of the expected domain, nulls per field."""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import sqlglot.expressions as exp

from bastide.cdm.spec import FieldSpec, TableSpec, all_tables
from bastide.quality import sql
from bastide.quality.builder import Builder, Probe
from bastide.quality.model import Category, Check, CheckResult

CONF, COMP = Category.CONFORMANCE, Category.COMPLETENESS


def structure(b: Builder, spec: TableSpec, schema: pa.Schema) -> None:
    """Fields present, then per field: required not null, declared type, share of nulls."""
    missing = [f.name for f in spec.fields if f.required and f.name not in schema.names]
    optional = [f.name for f in spec.fields if not f.required and f.name not in schema.names]
    unknown = [n for n in schema.names if not spec.has_field(n)]
    text = f"required fields of {spec.name} present"
    check = b.check("field_present", CONF, spec.name, None, text)
    notes = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("missing required", missing),
            ("missing optional", optional),
            ("not in OMOP", unknown),
        )
        if names
    ]
    result = CheckResult.measured(check, len(missing), sum(f.required for f in spec.fields))
    b.static.append(replace(result, message="; ".join(notes)))

    # One scan of the table, one count per condition. The null count serves is_required and
    # null_share; a datatype the stored Arrow type already guarantees needs no count.
    conditions: list[exp.Expr] = []
    checks: list[tuple[Check, str | None]] = []
    for f in spec.fields:
        if f.name not in schema.names:
            continue
        where = f"{spec.name}.{f.name}"
        null_column = f"v{len(conditions)}"
        conditions.append(sql.is_null(f.name))
        if f.required:
            text = f"{where} is never null (required)"
            checks.append((b.check("is_required", CONF, spec.name, f.name, text), null_column))
        text = f"{where} values conform to {f.datatype}"
        violation = _datatype_violation(f, schema.field(f.name).type)
        if violation is not None:
            conditions.append(violation)
        column = f"v{len(conditions) - 1}" if violation is not None else None
        checks.append((b.check("datatype", CONF, spec.name, f.name, text), column))
        text = f"share of null {where}"
        checks.append((b.check("null_share", COMP, spec.name, f.name, text), null_column))
    b.probes.append(Probe(sql.field_probe(spec.name, conditions), tuple(checks)))


def _datatype_violation(f: FieldSpec, actual: pa.DataType) -> exp.Expr | None:
    """Condition true for a value that does not conform to the declared type (None when
    the stored type already guarantees conformance)."""
    c = sql.ident(f.name)
    text = pa.types.is_string(actual) or pa.types.is_large_string(actual)
    numeric = (
        pa.types.is_integer(actual) or pa.types.is_floating(actual) or pa.types.is_decimal(actual)
    )
    temporal = pa.types.is_date(actual) or pa.types.is_timestamp(actual)
    if f.datatype in ("integer", "bigint"):
        if pa.types.is_integer(actual):
            return None
        if numeric:
            return sql.fill(sql.INTEGER_FROM_NUMBER, c=c)
        return sql.fill(sql.INTEGER_FROM_TEXT if text else sql.NOT_NULL, c=c)
    if f.datatype == "float":
        if numeric:
            return None
        return sql.fill(sql.FLOAT_FROM_TEXT if text else sql.NOT_NULL, c=c)
    if f.datatype in ("date", "datetime"):
        if temporal:
            return None
        template = sql.DATE_FROM_TEXT if f.datatype == "date" else sql.DATETIME_FROM_TEXT
        return sql.fill(template if text else sql.NOT_NULL, c=c)
    if f.max_length is not None:
        return sql.fill(sql.TOO_LONG, c=c, n=f.max_length)
    return None


def keys(b: Builder, spec: TableSpec) -> None:
    """Primary key unique; foreign keys resolve (and concepts are in their domain)."""
    schema = b.schemas[spec.name]
    if len(spec.primary_key) == 1 and spec.primary_key[0] in schema.names:
        key = spec.primary_key[0]
        check = b.check("primary_key", CONF, spec.name, key, f"{spec.name}.{key} is unique")
        query = sql.query(sql.fill(sql.DUPLICATE_KEY, t=sql.ident(spec.name), c=sql.ident(key)))
        b.probes.append(Probe(query, ((check, "v0"),)))
    _references(b, spec)


def _references(b: Builder, spec: TableSpec) -> None:
    """Foreign keys of one table, all resolved by one query (a left join per key)."""
    schema = b.schemas[spec.name]
    references: list[sql.Reference] = []
    checks: list[tuple[Check, str | None]] = []
    for f in spec.fields:
        if f.name not in schema.names or not f.fk_table or not f.fk_field:
            continue
        if not b.has(f.fk_table, f.fk_field):
            continue
        where = f"{spec.name}.{f.name}"
        domains = f.fk_domains if f.is_concept_fk and b.has("concept", "domain_id") else ()
        i = len(references)
        references.append(sql.Reference(f.name, f.fk_table, f.fk_field, f.is_concept_fk, domains))
        text = (
            f"{where} is 0 or a concept of CONCEPT"
            if f.is_concept_fk
            else f"{where} exists in {f.fk_table}.{f.fk_field}"
        )
        checks.append((b.check("foreign_key", CONF, spec.name, f.name, text), f"missing{i}"))
        if domains:
            text = f"{where} concepts are in domain {' or '.join(domains)}"
            check = b.check("concept_domain", CONF, spec.name, f.name, text)
            checks.append((check, f"domain{i}"))
    if references:
        b.probes.append(Probe(sql.reference_probe(spec.name, references), tuple(checks)))


def person_completeness(b: Builder) -> None:
    """Persons without any row in each table the specification measures."""
    if not b.has("person", "person_id"):
        return
    for spec in all_tables():
        if spec.person_completeness_threshold is None or not b.has(spec.name, "person_id"):
            continue
        text = f"persons with at least one {spec.name} row"
        check = b.check("person_completeness", COMP, spec.name, "person_id", text)
        condition = sql.fill(sql.PERSON_WITHOUT_ROWS, t=sql.ident(spec.name))
        b.relational(check, "person", condition)
