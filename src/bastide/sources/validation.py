"""Validate raw batches against a declared schema, column-wise.

Each check yields a mask over the batch; a row's outcome is the first failing check in
the order of `REASONS`, then of the schema's columns. Identifier columns are replaced by
their pseudonyms here, before anything is returned: valid rows, quarantine ``row_json``
and details never carry a raw identifier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bastide.sources.codes import CodeChecker
from bastide.sources.duplicates import KeyTracker
from bastide.sources.errors import SchemaError
from bastide.sources.findings import FINDINGS_SCHEMA, empty_findings
from bastide.sources.parsing import format_details, parse_native, parse_text, value_details
from bastide.sources.plausibility import DateBounds, implausible
from bastide.sources.quarantine import QUARANTINE_SCHEMA, REASONS, rows_json
from bastide.sources.reading import RawBatch
from bastide.sources.row_rules import row_rules
from bastide.sources.schema import TEMPORAL_TYPES, SourceField, SourceSchema

Pseudonymise = Callable[[pa.Array], pa.Array]
Pseudonymisers = Pseudonymise | Mapping[str, Pseudonymise]

_PRIORITY = {reason: i for i, reason in enumerate(REASONS)}
_STRIDE = 1 << 16  # outcome code = priority * _STRIDE + column index
_OK = np.iinfo(np.int32).max
# The ``column`` of a duplicate row of a table without a primary key: every column.
EVERY_COLUMN = "*"
_COPY_DETAIL = "exact copy of an earlier row (no primary key declared: every column compared)"


@dataclass(frozen=True)
class ValidatedBatch:
    valid: pa.RecordBatch
    valid_lines: pa.Array
    quarantine: pa.RecordBatch
    reasons: Counter[str]
    findings: pa.RecordBatch  # FINDINGS_SCHEMA: loaded rows a producer should hear about


@dataclass
class _Column:
    field: SourceField
    text: pa.Array | None  # trimmed text, null where missing (None: not in the file)
    json_text: pa.Array | None  # what row_json shows


def _as_text(values: pa.Array) -> pa.Array:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


class BatchValidator:
    """Validates the batches of one file (``source_file`` labels its quarantine records)."""

    def __init__(
        self,
        schema: SourceSchema,
        *,
        source_file: str,
        pseudonymise: Pseudonymisers,
        code_checker: CodeChecker | None = None,
        key_tracker: KeyTracker | None = None,
        date_bounds: DateBounds | None = None,
    ) -> None:
        self.schema = schema
        self.source_file = source_file
        self.date_bounds = date_bounds or DateBounds()
        self._implausible: dict[int, pa.Array] = {}  # this batch: column -> why, per row
        self.code_checker = code_checker
        # a table with no declared key: the whole row is its key (exact copies)
        self.key_tracker = key_tracker
        self._missing = pa.array(schema.missing_values, pa.string())
        self._row_rules = row_rules(schema)
        self._pseudonymisers: dict[str, Pseudonymise] = {}
        out_fields = []
        for f in schema.fields:
            out_type = f.arrow_type
            if f.is_identifier:
                fn = _pseudonymiser_for(pseudonymise, f)
                self._pseudonymisers[f.name] = fn
                out_type = fn(pa.array([], pa.string())).type  # learn the pseudonym type
            out_fields.append(pa.field(f.name, out_type))
        self.output_schema = pa.schema(out_fields)

    # -- one batch ------------------------------------------------------------------
    def validate(self, raw: RawBatch) -> ValidatedBatch:
        n = raw.num_rows
        outcome = np.full(n, _OK, dtype=np.int32)
        columns: list[_Column] = []
        typed: list[pa.Array] = []

        def fail(reason: str, index: int, mask: pa.Array | np.ndarray) -> None:
            m = mask if isinstance(mask, np.ndarray) else mask.to_numpy(zero_copy_only=False)
            code = _PRIORITY[reason] * _STRIDE + index
            outcome[m & (outcome > code)] = code

        for index, f in enumerate(self.schema.fields):
            values = raw.columns.get(f.name)
            out_type = self.output_schema.field(index).type
            if values is None:
                columns.append(_Column(f, None, None))
                typed.append(pa.nulls(n, out_type))
                continue
            text, json_text, missing, parsed, bad = self._parse(f, values)
            if f.required and pc.any(missing).as_py():
                fail(f.missing_reason, index, missing)
            if bad is not None:
                fail("bad_date" if f.type in TEMPORAL_TYPES else "type_error", index, bad)
            if f.code_system and self.code_checker is not None:
                unknown = self._unknown_codes(f, text)
                if unknown is not None:
                    fail("unknown_code", index, unknown)
            if f.minimum is not None or f.maximum is not None:
                outside = _outside(parsed, f)
                if outside is not None:
                    fail("out_of_range", index, outside)
            if f.is_identifier:
                parsed = self._pseudonyms(f, text)
                json_text = _as_text(parsed)
            elif parsed.type != out_type:
                parsed = pc.cast(parsed, out_type)
            columns.append(_Column(f, text, json_text))
            typed.append(parsed)

        self._check_plausible_dates(typed, fail)
        names = self.schema.names
        for i, rule in enumerate(self._row_rules):  # codes after the key's: len(names) + 1 + i
            broken = rule.broken(typed[names.index(rule.column)], typed[names.index(rule.other)])
            fail(rule.reason, len(names) + 1 + i, broken)
        repeated = None
        if self.key_tracker is not None:
            repeated = self._check_keys(typed, outcome, fail)
        result = self._assemble(raw, outcome, columns, typed)
        if repeated is not None:
            result = replace(result, findings=self._repeated_ids(raw, repeated))
        return result

    # -- checks ---------------------------------------------------------------------
    def _parse(
        self, f: SourceField, values: pa.Array | pa.ChunkedArray
    ) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array, pa.Array | None]:
        """(text, text as read, missing mask, typed values, invalid mask) of a column."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        native = None if pa.types.is_string(values.type) else parse_native(f, values)
        if native is not None:
            text = pc.cast(values, pa.string())
            return text, text, pc.is_null(values), *native
        as_read = _as_text(values)
        # ASCII blanks only, as the pseudonymisation scheme normalises identifiers
        trimmed = pc.ascii_trim_whitespace(as_read)
        missing = self._missing_mask(trimmed)
        text = _null_where(trimmed, missing)
        return text, as_read, missing, *parse_text(f, text)

    def _missing_mask(self, trimmed: pa.Array) -> pa.Array:
        """True where the value is null, empty or a declared missing value."""
        if len(self._missing) == 1:  # only "": one comparison
            return pc.fill_null(pc.equal(trimmed, ""), True)
        return pc.fill_null(pc.is_in(trimmed, value_set=self._missing), True)

    def _unknown_codes(self, f: SourceField, text: pa.Array) -> pa.Array | None:
        assert self.code_checker is not None and f.code_system is not None
        known = self.code_checker(f.code_system, text)
        if known is None:
            return None
        unknown = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(known, True)))
        if f.code_placeholders:
            placeholder = pc.is_in(text, value_set=pa.array(f.code_placeholders, pa.string()))
            unknown = pc.and_(unknown, pc.invert(placeholder))
        return unknown if pc.any(unknown).as_py() else None

    def _pseudonyms(self, f: SourceField, text: pa.Array) -> pa.Array:
        result = self._pseudonymisers[f.name](text)
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        if len(result) != len(text):
            raise SchemaError(f"the pseudonymiser of {f.name} returned {len(result)} values")
        # keep nulls null whatever the pseudonymiser does with them
        result = pc.if_else(pc.is_null(text), pa.scalar(None, result.type), result)
        if f.identifier_placeholders and pa.types.is_string(result.type):
            upper = pc.utf8_upper(text)
            marks = pa.array(f.identifier_placeholders, pa.string())
            result = pc.if_else(pc.is_in(upper, value_set=marks), upper, result)
        return result

    def _check_plausible_dates(self, typed: list[pa.Array], fail: Callable) -> None:
        """Dates that parse but cannot be true: see `bastide.sources.plausibility`."""
        self._implausible = {}
        for index, mask, why in implausible(self.schema, typed, self.date_bounds):
            fail("out_of_range", index, mask)
            self._implausible[index] = why

    def _check_keys(
        self, typed: list[pa.Array], outcome: np.ndarray, fail: Callable
    ) -> np.ndarray | None:
        """Quarantine duplicate keys (in a table with no declared key, exact copies of an
        earlier row); with ``repeated_keys = "report"``, only exact copies of earlier rows,
        returning the mask of valid rows that repeat an earlier key."""
        assert self.key_tracker is not None
        ok = outcome == _OK
        if not ok.any():
            return None
        names = self.schema.names
        key = self.schema.primary_key
        positions = [names.index(self.schema.field(k).name) for k in key] or list(range(len(names)))
        if self.schema.repeated_keys == "report":
            copies = self.key_tracker.rows().duplicates([t.filter(pa.array(ok)) for t in typed])
            if copies.any():
                dup = np.zeros(len(outcome), dtype=bool)
                dup[np.flatnonzero(ok)[copies]] = True
                fail("duplicate_key", len(names), dup)
                ok &= ~dup
            if not ok.any():
                return None
        mask = pa.array(ok)
        keys = [typed[p].filter(mask) for p in positions]
        dup_subset = self.key_tracker.duplicates(keys)
        if not dup_subset.any():
            return None
        dup = np.zeros(len(outcome), dtype=bool)
        dup[np.flatnonzero(ok)[dup_subset]] = True
        if self.schema.repeated_keys == "report":
            return dup
        fail("duplicate_key", len(names), dup)
        return None

    def _repeated_ids(self, raw: RawBatch, repeated: np.ndarray) -> pa.RecordBatch:
        rows = pa.array(np.flatnonzero(repeated))
        k = len(rows)
        key = "+".join(self.schema.primary_key)
        detail = f"{key} already used by a different row; loaded under its own warehouse id"
        return pa.RecordBatch.from_arrays(
            [
                pa.repeat(pa.scalar(self.source_file), k),
                raw.lines.take(rows),
                pa.repeat(pa.scalar(self.schema.name), k),
                pa.repeat(pa.scalar("repeated_id"), k),
                pa.repeat(pa.scalar(key), k),
                pa.repeat(pa.scalar(detail), k),
            ],
            schema=FINDINGS_SCHEMA,
        )

    # -- outputs --------------------------------------------------------------------
    def _assemble(
        self,
        raw: RawBatch,
        outcome: np.ndarray,
        columns: list[_Column],
        typed: list[pa.Array],
    ) -> ValidatedBatch:
        valid_mask = outcome == _OK
        valid = pa.RecordBatch.from_arrays(typed, schema=self.output_schema)
        rows = np.flatnonzero(~valid_mask)
        if len(rows) == 0:
            quarantine = pa.RecordBatch.from_pylist([], schema=QUARANTINE_SCHEMA)
            return ValidatedBatch(valid, raw.lines, quarantine, Counter(), empty_findings())
        codes = outcome[rows]
        reason_idx = codes // _STRIDE
        column_idx = codes % _STRIDE
        key_label = "+".join(self.schema.primary_key) or EVERY_COLUMN
        rule_labels = [r.column for r in self._row_rules]
        labels = pa.array([*self.schema.names, key_label, *rule_labels], pa.string())
        present = {c.field.name: c.json_text for c in columns if c.json_text is not None}
        row_json = rows_json({k: v.take(rows) for k, v in present.items()}, len(rows))
        k = len(rows)
        quarantine = pa.RecordBatch.from_arrays(
            [
                pa.repeat(pa.scalar(self.source_file), k),
                raw.lines.take(rows),
                pa.repeat(pa.scalar(self.schema.name), k),
                pa.array(REASONS, pa.string()).take(reason_idx),
                labels.take(column_idx),
                self._details(codes, rows, columns),
                row_json,
            ],
            schema=QUARANTINE_SCHEMA,
        )
        counts = Counter({REASONS[i]: int(c) for i, c in enumerate(np.bincount(reason_idx)) if c})
        kept = pa.array(np.flatnonzero(valid_mask))  # take() is faster than filter()
        return ValidatedBatch(
            valid.take(kept), raw.lines.take(kept), quarantine, counts, empty_findings()
        )

    def _details(self, codes: np.ndarray, rows: np.ndarray, columns: list[_Column]) -> pa.Array:
        """The detail text of each quarantined row, built per distinct (reason, column)."""
        pieces: list[pa.Array] = []
        order: list[np.ndarray] = []
        for code in np.unique(codes):
            where = np.flatnonzero(codes == code)
            reason = REASONS[code // _STRIDE]
            index = int(code % _STRIDE)
            pieces.append(self._detail(reason, index, columns, rows[where]))
            order.append(where)
        details = pa.concat_arrays(pieces)
        return details.take(np.argsort(np.concatenate(order), kind="stable"))

    def _detail(
        self, reason: str, index: int, columns: list[_Column], rows: np.ndarray
    ) -> pa.Array:
        k = len(rows)
        if reason == "duplicate_key":
            keys = ", ".join(self.schema.primary_key)
            if not keys:
                return pa.repeat(pa.scalar(_COPY_DETAIL), k)
            if self.schema.repeated_keys == "report":
                return pa.repeat(pa.scalar(f"exact copy of an earlier row ({keys} too)"), k)
            return pa.repeat(pa.scalar(f"primary key ({keys}) already seen"), k)
        names = self.schema.names
        if index > len(names):  # a row rule
            rule = self._row_rules[index - len(names) - 1]
            a, b = (columns[names.index(c)].text for c in (rule.column, rule.other))
            assert a is not None and b is not None
            return rule.details(a.take(rows), b.take(rows))
        column = columns[index]
        f = column.field
        if reason in ("missing_identifier", "missing_value"):
            what = "identifier" if f.is_identifier else "key" if f.is_key else "required"
            return pa.repeat(pa.scalar(f"{what} column is empty"), k)
        assert column.text is not None
        values = column.text.take(rows)
        reveal = not f.is_identifier
        if reason in ("bad_date", "type_error"):
            return format_details(f, values, reveal)
        if reason == "unknown_code":
            return value_details(values, f"is not a known {f.code_system} code", reveal)
        if index in self._implausible:
            why = self._implausible[index].take(rows).to_pylist()
            if len(set(why)) == 1:
                return value_details(values, why[0], reveal)
            return pa.array([value_details(values[i : i + 1], w, reveal)[0].as_py()
                             for i, w in enumerate(why)], pa.string())  # fmt: skip
        low = "-inf" if f.minimum is None else f"{f.minimum:g}"
        high = "inf" if f.maximum is None else f"{f.maximum:g}"
        return value_details(values, f"is outside [{low}, {high}]", reveal)


def _null_where(values: pa.Array, mask: pa.Array) -> pa.Array:
    """``values`` with nulls where ``mask`` (null-free) is true."""
    if not pc.any(mask).as_py():
        return values
    keep = pc.invert(mask)
    buffers = values.buffers()
    if values.offset == 0 and keep.offset == 0 and buffers[0] is None and len(buffers) == 3:
        # the inverted mask is the validity bitmap: share the value buffers, copy nothing
        return pa.Array.from_buffers(values.type, len(values), [keep.buffers()[1], *buffers[1:]])
    return pc.if_else(mask, None, values)


def _outside(values: pa.Array, f: SourceField) -> pa.Array | None:
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return None
    outside = pa.repeat(False, len(values))
    if f.minimum is not None:
        outside = pc.or_(outside, pc.fill_null(pc.less(values, f.minimum), False))
    if f.maximum is not None:
        outside = pc.or_(outside, pc.fill_null(pc.greater(values, f.maximum), False))
    return outside if pc.any(outside).as_py() else None


def _pseudonymiser_for(pseudonymise: Pseudonymisers, f: SourceField) -> Pseudonymise:
    if callable(pseudonymise):
        return pseudonymise
    try:
        return pseudonymise[f.identifier_domain or ""]
    except KeyError:
        raise SchemaError(
            f"no pseudonymiser for domain {f.identifier_domain!r} (identifier column {f.name})"
        ) from None
