"""Cohort definitions compiled to sqlglot expression trees in bastide's canonical dialect.

Every value of a definition (codes, vocabulary ids, concept ids, days, dates) enters the
tree as a literal node; names in the tree (tables, columns, CTEs) come from
`bastide.cohorts.domains` and from this module, never from the definition. Engines
render the tree in their own dialect.

The query is a chain of CTEs that follows the reference interpreter step by step:

    cs_<i>         concept ids of each concept set (CONCEPT, CONCEPT_ANCESTOR)
    entry_events   matching events of the entry domains
    entries        first per person, or every distinct (person, date)
    op_candidates  observation periods containing the index date, ranked
    entry_op       each entry with its observation period
    crit_<i>       events counted in each criterion's window
    death_end, censor_<j>, exposures, era_*, era_match    parts of the exit date
    flags          one row per entry: cohort dates and one boolean per step
    qualified, collapse_*   entries passing every step, merged into periods
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlglot.expressions as exp

from bastide.cohorts.domains import DEATH_COLUMNS, DOMAINS, OBSERVATION_PERIOD_COLUMNS
from bastide.cohorts.interpreter import attrition_labels
from bastide.cohorts.model import (
    AgeCriterion,
    CohortDefinition,
    Concept,
    Criterion,
    EventCriterion,
    Events,
    ExposureEndExit,
    FixedExit,
    IndexDateCriterion,
    SexCriterion,
)

# -- expression helpers -----------------------------------------------------------------------


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def lit(value: object) -> exp.Expr:
    """A literal node: the only way a value of a definition enters a query."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.Literal.number(repr(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    raise TypeError(f"no literal for {value!r}")


def table(name: str, alias: str | None = None) -> exp.Table:
    t = exp.to_table(name)
    return t.as_(alias) if alias else t  # type: ignore[return-value]


def days_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Days from ``start`` to ``end`` (negative when ``end`` comes first)."""
    return exp.DateDiff(this=end, expression=start, unit=exp.var("DAY"))


def add_days(day: exp.Expr, days: exp.Expr | int) -> exp.Expr:
    n = lit(days) if isinstance(days, int) else days
    return exp.cast(
        exp.DateAdd(this=day, expression=n, unit=exp.var("DAY")), exp.DataType.Type.DATE
    )


def earliest(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """The earlier of two dates, ignoring a NULL ``b``."""
    return exp.Case(ifs=[exp.If(this=exp.or_(b.is_(exp.null()), a <= b), true=a)], default=b)


def case(condition: exp.Expr, then: exp.Expr, default: exp.Expr) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=default)


def all_of(*conditions: exp.Expr) -> exp.Expr:
    return exp.and_(*conditions) if conditions else exp.true()


def age_at(day: exp.Expr, person: str = "p") -> exp.Expr:
    """Completed years at ``day`` of the person row aliased ``person`` (birth month and
    day default to 1, as in the reference interpreter)."""
    birthday = exp.Add(
        this=exp.Mul(
            this=exp.func("COALESCE", col("month_of_birth", person), lit(1)), expression=lit(100)
        ),
        expression=exp.func("COALESCE", col("day_of_birth", person), lit(1)),
    )
    today = exp.Add(
        this=exp.Mul(this=exp.Month(this=day.copy()), expression=lit(100)),
        expression=exp.Day(this=day.copy()),
    )
    return exp.Sub(
        this=exp.Sub(this=exp.Year(this=day.copy()), expression=col("year_of_birth", person)),
        expression=exp.paren(case(today < birthday, lit(1), lit(0))),
    )


def window_rows(
    func: exp.Expr,
    partition: list[exp.Expr],
    order: list[exp.Expr],
    *,
    until_previous: bool,
) -> exp.Window:
    """``func`` over the rows of a partition up to the previous row (or this one)."""
    return exp.Window(
        this=func,
        partition_by=partition,
        order=exp.Order(expressions=[exp.Ordered(this=o) for o in order]),
        spec=exp.WindowSpec(
            kind="ROWS",
            start="UNBOUNDED",
            start_side="PRECEDING",
            end=lit(1) if until_previous else "CURRENT ROW",
            end_side="PRECEDING" if until_previous else None,
        ),
    )


def merge_periods(
    source: str,
    person: str,
    start: str,
    end: str,
    pad: int,
    prefix: str,
    count_as: str | None = None,
) -> tuple[list[tuple[str, exp.Expr]], exp.Select]:
    """CTEs merging the periods of ``source`` (gaps and islands): a period opens a new
    group when it starts more than ``pad`` days after the latest end before it; each
    group becomes (person, MIN(start), MAX(end)). The same rule as
    `bastide.cohorts.interpreter.merge_periods`."""
    ordered = exp.select(
        col(person),
        col(start),
        col(end),
        window_rows(
            exp.Max(this=col(end)), [col(person)], [col(start), col(end)], until_previous=True
        ).as_("prev_end"),
    ).from_(source)
    new_group = case(
        exp.or_(
            col("prev_end").is_(exp.null()), days_between(col("prev_end"), col(start)) > lit(pad)
        ),
        lit(1),
        lit(0),
    )
    grouped = exp.select(
        col(person),
        col(start),
        col(end),
        window_rows(
            exp.Sum(this=new_group), [col(person)], [col(start), col(end)], until_previous=False
        ).as_("grp"),
    ).from_(f"{prefix}_ordered")
    counted = [exp.Count(this=exp.Star()).as_(count_as)] if count_as else []
    merged = (
        exp.select(
            col(person),
            exp.Min(this=col(start)).as_(start),
            exp.Max(this=col(end)).as_(end),
            *counted,
        )
        .from_(f"{prefix}_grouped")
        .group_by(col(person), col("grp"))
    )
    return [(f"{prefix}_ordered", ordered), (f"{prefix}_grouped", grouped)], merged


# -- the compiled cohort ----------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledCohort:
    definition: CohortDefinition
    cohort: exp.Select  # person_id, cohort_start_date, cohort_end_date
    attrition: exp.Select  # one row: persons_<step>, entries_<step> for every step
    steps: tuple[str, ...]  # the label of each attrition step
    tables: frozenset[str]  # the OMOP tables the queries read
    codes: exp.Select | None  # (vocabulary_id, concept_code) of the definition's codes found


def compile_cohort(definition: CohortDefinition) -> CompiledCohort:
    return _Compiler(definition).compile()


def exposure_eras(definition: CohortDefinition, concept_set: str, gap_days: int) -> exp.Select:
    """person_id, era_start, era_end, exposures: the drug exposures of one of the
    definition's concept sets joined into eras across gaps of at most ``gap_days`` days
    (the eras of an ``exposure_end`` exit)."""
    compiler = _Compiler(definition)
    compiler.exposure_eras(concept_set, gap_days, count_as="exposures")
    return compiler.with_ctes(exp.select(exp.Star()).from_("eras"))


class _Compiler:
    def __init__(self, definition: CohortDefinition) -> None:
        self.d = definition
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.set_ctes: dict[str, str] = {}
        self.tables: set[str] = set()

    def cte(self, name: str, query: exp.Expr) -> str:
        self.ctes.append((name, query))
        return name

    # -- concept sets -------------------------------------------------------------------------
    def concept_ids(self, items: list[Concept]) -> exp.Query | None:
        parts: list[exp.Query] = []
        coded = [c for c in items if c.concept_id is None]

        def code_match(concepts: list[Concept]) -> exp.Expr:
            return exp.or_(
                *(
                    exp.and_(
                        col("vocabulary_id", "c").eq(lit(c.vocabulary)),
                        col("concept_code", "c").eq(lit(c.code)),
                    )
                    for c in concepts
                )
            )

        if coded:
            self.tables.add("concept")
            parts.append(
                exp.select(col("concept_id", "c").as_("concept_id"))
                .from_(table("concept", "c"))
                .where(code_match(coded))
            )
            below = [c for c in coded if c.descendants]
            if below:
                self.tables.add("concept_ancestor")
                parts.append(
                    exp.select(col("descendant_concept_id", "a").as_("concept_id"))
                    .from_(table("concept_ancestor", "a"))
                    .join(
                        table("concept", "c"),
                        on=col("ancestor_concept_id", "a").eq(col("concept_id", "c")),
                    )
                    .where(code_match(below))
                )
        ids = [c for c in items if c.concept_id is not None]
        for c in ids:
            parts.append(
                exp.select(exp.cast(lit(c.concept_id), exp.DataType.Type.BIGINT).as_("concept_id"))
            )
        below_ids = [c.concept_id for c in ids if c.descendants]
        if below_ids:
            self.tables.add("concept_ancestor")
            parts.append(
                exp.select(col("descendant_concept_id", "a").as_("concept_id"))
                .from_(table("concept_ancestor", "a"))
                .where(col("ancestor_concept_id", "a").isin(*(lit(i) for i in below_ids)))
            )
        if not parts:
            return None
        query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=True)
        return query

    def concept_set(self, name: str) -> str:
        if name not in self.set_ctes:
            cs = self.d.concept_set(name)
            included = self.concept_ids([c for c in cs.concepts if not c.exclude])
            excluded = self.concept_ids([c for c in cs.concepts if c.exclude])
            assert included is not None
            query: exp.Query = included
            if excluded is not None:
                # Each side in its own subquery: set operators chain left to right, so
                # "a UNION b EXCEPT c UNION d" would add d back.
                query = exp.except_(
                    exp.select(col("concept_id")).from_(included.subquery("inc")),
                    exp.select(col("concept_id")).from_(excluded.subquery("exc")),
                    distinct=True,
                )
            cleaned = (
                exp.select(col("concept_id"))
                .from_(query.subquery("s"))
                .where(col("concept_id").is_(exp.null()).not_())
            )
            self.set_ctes[name] = self.cte(f"cs_{len(self.set_ctes)}", cleaned)
        return self.set_ctes[name]

    # -- events -------------------------------------------------------------------------------
    def events(self, ev: Events, *, with_end: bool = False) -> exp.Select:
        """person_id, event_date (and event_end for drugs) of the events ``ev`` selects."""
        dom = DOMAINS[ev.domain]
        self.tables.add(dom.table)
        start = col(dom.start, "e")
        columns: list[exp.Expr] = [
            col("person_id", "e").as_("person_id"),
            start.as_("event_date"),
        ]
        if with_end:
            columns.append(self.exposure_end(ev).as_("event_end"))
        conditions: list[exp.Expr] = [
            col("person_id", "e").is_(exp.null()).not_(),
            start.copy().is_(exp.null()).not_(),
        ]
        if ev.concept_set is not None:
            cs = self.concept_set(ev.concept_set)
            members = exp.select(col("concept_id")).from_(cs)
            conditions.append(
                exp.or_(
                    col(dom.source_concept, "e").isin(query=members.copy()),
                    col(dom.concept, "e").isin(query=members.copy()),
                )
            )
        if ev.type_concept_ids:
            assert dom.type_concept is not None
            conditions.append(
                col(dom.type_concept, "e").isin(*(lit(t) for t in ev.type_concept_ids))
            )
        if ev.value_min is not None or ev.value_max is not None:
            assert dom.value is not None
            value = col(dom.value, "e")
            conditions.append(value.is_(exp.null()).not_())
            if ev.value_min is not None:
                conditions.append(value.copy() >= lit(ev.value_min))
            if ev.value_max is not None:
                conditions.append(value.copy() <= lit(ev.value_max))
        return exp.select(*columns).from_(table(dom.table, "e")).where(all_of(*conditions))

    @staticmethod
    def exposure_end(ev: Events) -> exp.Expr:
        """As `bastide.cohorts.interpreter.exposure_end`."""
        dom = DOMAINS[ev.domain]
        assert dom.end is not None and dom.days_supply is not None
        start = col(dom.start, "e")
        supply = col(dom.days_supply, "e")
        by_supply = case(
            supply >= lit(1),
            add_days(start.copy(), exp.Sub(this=supply.copy(), expression=lit(1))),
            exp.null(),
        )
        raw = exp.func("COALESCE", col(dom.end, "e"), by_supply, start.copy())
        return case(raw < start.copy(), start.copy(), raw.copy())

    # -- steps --------------------------------------------------------------------------------
    def entries(self) -> None:
        selects = [self.events(ev) for ev in self.d.entry.events]
        union: exp.Expr = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        self.cte("entry_events", union)
        if self.d.entry.occurrence == "first":
            entries = (
                exp.select(col("person_id"), exp.Min(this=col("event_date")).as_("index_date"))
                .from_("entry_events")
                .group_by(col("person_id"))
            )
        else:
            entries = (
                exp.select(col("person_id"), col("event_date").as_("index_date"))
                .distinct()
                .from_("entry_events")
            )
        self.cte("entries", entries)
        self.tables.add("observation_period")
        op_start = col("observation_period_start_date", "o")
        op_end = col("observation_period_end_date", "o")
        ranked = exp.Window(
            this=exp.RowNumber(),
            partition_by=[col("person_id", "x"), col("index_date", "x")],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=op_start.copy()),
                    exp.Ordered(this=op_end.copy(), desc=True),
                ]
            ),
        )
        candidates = (
            exp.select(
                col("person_id", "x"),
                col("index_date", "x"),
                op_start.as_("op_start"),
                op_end.as_("op_end"),
                ranked.as_("rn"),
            )
            .from_(table("entries", "x"))
            .join(
                table("observation_period", "o"),
                on=all_of(
                    col("person_id", "o").eq(col("person_id", "x")),
                    op_start.copy() <= col("index_date", "x"),
                    col("index_date", "x") <= op_end.copy(),
                ),
            )
        )
        self.cte("op_candidates", candidates)
        entry_op = (
            exp.select(
                col("person_id", "x"),
                col("index_date", "x"),
                col("op_start", "c"),
                col("op_end", "c"),
            )
            .from_(table("entries", "x"))
            .join(
                table("op_candidates", "c"),
                on=all_of(
                    col("person_id", "c").eq(col("person_id", "x")),
                    col("index_date", "c").eq(col("index_date", "x")),
                    col("rn", "c").eq(lit(1)),
                ),
                join_type="left",
            )
        )
        self.cte("entry_op", entry_op)

    def per_entry(
        self, name: str, events: exp.Select, value: exp.Expr, conditions: list[exp.Expr]
    ) -> str:
        """A CTE of one value per entry, aggregated over the events joined to it."""
        query = (
            exp.select(col("person_id", "x"), col("index_date", "x"), value)
            .from_(table("entry_op", "x"))
            .join(
                events.subquery("e"),
                on=all_of(col("person_id", "e").eq(col("person_id", "x")), *conditions),
            )
            .group_by(col("person_id", "x"), col("index_date", "x"))
        )
        return self.cte(name, query)

    def criterion_flag(self, i: int, c: Criterion, joins: list[tuple[str, str]]) -> exp.Expr:
        index = col("index_date", "x")
        if isinstance(c, EventCriterion):
            offset = days_between(index.copy(), col("event_date", "e"))
            conditions: list[exp.Expr] = []
            if c.window.start is not None:
                conditions.append(offset >= lit(c.window.start))
            if c.window.end is not None:
                conditions.append(offset.copy() <= lit(c.window.end))
            if not c.ignore_observation_period:
                conditions.append(col("event_date", "e") >= col("op_start", "x"))
                conditions.append(col("event_date", "e") <= col("op_end", "x"))
            alias = f"k{i}"
            name = self.per_entry(
                f"crit_{i}", self.events(c.events), exp.Count(this=exp.Star()).as_("n"), conditions
            )
            joins.append((name, alias))
            n = exp.func("COALESCE", col("n", alias), lit(0))
            assert c.count.at_least is not None
            tests: list[exp.Expr] = [n >= lit(c.count.at_least)]
            if c.count.at_most is not None:
                tests.append(n.copy() <= lit(c.count.at_most))
            return all_of(*tests)
        if isinstance(c, AgeCriterion):
            self.tables.add("person")
            age = age_at(index, "p")
            tests = []
            if c.min is not None:
                tests.append(age >= lit(c.min))
            if c.max is not None:
                tests.append(age.copy() <= lit(c.max))
            return all_of(*tests)
        if isinstance(c, SexCriterion):
            self.tables.add("person")
            return col("gender_concept_id", "p").isin(*(lit(x) for x in c.concept_ids))
        assert isinstance(c, IndexDateCriterion)
        tests = []
        if c.start is not None:
            tests.append(index >= lit(c.start))
        if c.end is not None:
            tests.append(index.copy() <= lit(c.end))
        return all_of(*tests)

    def exit_date(self, joins: list[tuple[str, str]]) -> exp.Expr:
        index = col("index_date", "x")
        rule = self.d.exit.rule
        end: exp.Expr
        if isinstance(rule, FixedExit):
            end = add_days(index, rule.days)
        elif isinstance(rule, ExposureEndExit):
            self.exposure_eras(rule.concept_set, rule.gap_days)
            self.cte(
                "era_match",
                exp.select(
                    col("person_id", "x"),
                    col("index_date", "x"),
                    exp.Max(this=col("era_end", "r")).as_("era_end"),
                )
                .from_(table("entry_op", "x"))
                .join(
                    table("eras", "r"),
                    on=all_of(
                        col("person_id", "r").eq(col("person_id", "x")),
                        col("era_start", "r") <= index.copy(),
                        index.copy() <= col("era_end", "r"),
                    ),
                )
                .group_by(col("person_id", "x"), col("index_date", "x")),
            )
            joins.append(("era_match", "m"))
            end = exp.func(
                "COALESCE", add_days(col("era_end", "m"), rule.extend_days), index.copy()
            )
        else:
            end = col("op_end", "x")
        end = earliest(end, col("op_end", "x"))
        if self.d.exit.censor_at_death:
            self.tables.add("death")
            deaths = (
                exp.select(col("person_id"), col("death_date").as_("event_date"))
                .from_("death")
                .where(col("death_date").is_(exp.null()).not_())
            )
            name = self.per_entry(
                "death_end",
                deaths,
                exp.Min(this=col("event_date", "e")).as_("censor_date"),
                [col("event_date", "e") >= index.copy()],
            )
            joins.append((name, "dth"))
            end = earliest(end, col("censor_date", "dth"))
        for j, ev in enumerate(self.d.exit.censor):
            alias = f"cen{j}"
            name = self.per_entry(
                f"censor_{j}",
                self.events(ev),
                exp.Min(this=col("event_date", "e")).as_("censor_date"),
                [col("event_date", "e") >= index.copy()],
            )
            joins.append((name, alias))
            end = earliest(end, col("censor_date", alias))
        return end

    def exposure_eras(self, concept_set: str, gap_days: int, count_as: str | None = None) -> None:
        """CTEs ``exposures`` and ``eras`` (as `bastide.cohorts.interpreter` builds eras)."""
        exposures = self.events(Events("drug_exposure", concept_set), with_end=True)
        self.cte(
            "exposures",
            exp.select(
                col("person_id"),
                col("event_date").as_("era_start"),
                col("event_end").as_("era_end"),
            ).from_(exposures.subquery("d")),
        )
        ctes, eras = merge_periods(
            "exposures", "person_id", "era_start", "era_end", gap_days + 1, "era", count_as
        )
        for name, query in ctes:
            self.cte(name, query)
        self.cte("eras", eras)

    def compile(self) -> CompiledCohort:
        self.entries()
        index = col("index_date", "x")
        obs = self.d.observation
        flags: list[exp.Expr] = [
            all_of(
                col("op_start", "x").is_(exp.null()).not_(),
                days_between(col("op_start", "x"), index.copy()) >= lit(obs.prior_days),
                days_between(index.copy(), col("op_end", "x")) >= lit(obs.post_days),
            )
        ]
        joins: list[tuple[str, str]] = []
        for i, criterion in enumerate(self.d.inclusion, start=1):
            flags.append(self.criterion_flag(i, criterion, joins))
        end = self.exit_date(joins)
        query = exp.select(
            col("person_id", "x").as_("person_id"),
            index.copy().as_("cohort_start_date"),
            end.as_("cohort_end_date"),
            *(
                exp.func("COALESCE", exp.paren(flag), exp.false()).as_(f"s{k}")
                for k, flag in enumerate(flags)
            ),
        ).from_(table("entry_op", "x"))
        if "person" in self.tables:
            query = query.join(
                table("person", "p"),
                on=col("person_id", "p").eq(col("person_id", "x")),
                join_type="left",
            )
        for name, alias in joins:
            query = query.join(
                table(name, alias),
                on=all_of(
                    col("person_id", alias).eq(col("person_id", "x")),
                    col("index_date", alias).eq(col("index_date", "x")),
                ),
                join_type="left",
            )
        self.cte("flags", query)
        steps = [col(f"s{k}") for k in range(len(flags))]
        self.cte(
            "qualified",
            exp.select(col("person_id"), col("cohort_start_date"), col("cohort_end_date"))
            .from_("flags")
            .where(all_of(*steps)),
        )
        ctes, merged = merge_periods(
            "qualified",
            "person_id",
            "cohort_start_date",
            "cohort_end_date",
            self.d.collapse_days,
            "collapse",
        )
        for name, q in ctes:
            self.cte(name, q)
        cohort = merged.order_by(col("person_id"), col("cohort_start_date"))
        counts: list[exp.Expr] = [
            exp.Count(this=exp.Distinct(expressions=[col("person_id")])).as_("persons_0"),
            exp.Count(this=exp.Star()).as_("entries_0"),
        ]
        for k in range(1, len(flags) + 1):
            passed = all_of(*(s.copy() for s in steps[:k]))
            counts.append(
                exp.Count(
                    this=exp.Distinct(expressions=[case(passed, col("person_id"), exp.null())])
                ).as_(f"persons_{k}")
            )
            counts.append(
                exp.func("COALESCE", exp.Sum(this=case(passed.copy(), lit(1), lit(0))), lit(0)).as_(
                    f"entries_{k}"
                )
            )
        attrition = exp.select(*counts).from_("flags")
        return CompiledCohort(
            definition=self.d,
            cohort=self.with_ctes(cohort),
            attrition=self.with_ctes(attrition),
            steps=tuple(attrition_labels(self.d)),
            tables=frozenset(self.tables),
            codes=self.codes_query(),
        )

    def with_ctes(self, query: exp.Select) -> exp.Select:
        out = query
        for name, cte in self.ctes:
            out = out.with_(name, as_=cte.copy())
        return out

    def codes_query(self) -> exp.Select | None:
        coded = {
            (c.vocabulary, c.code)
            for cs in self.d.concept_sets
            if cs.name in self.set_ctes  # the sets the queries use
            for c in cs.concepts
            if c.concept_id is None
        }
        if not coded:
            return None
        return (
            exp.select(col("vocabulary_id"), col("concept_code"))
            .distinct()
            .from_("concept")
            .where(
                exp.or_(
                    *(
                        exp.and_(col("vocabulary_id").eq(lit(v)), col("concept_code").eq(lit(c)))
                        for v, c in sorted(coded)  # type: ignore[type-var]
                    )
                )
            )
        )


def required_columns(definition: CohortDefinition) -> dict[str, set[str]]:
    """The columns of each OMOP table the compiled queries read (an extract that lacks
    one cannot run the cohort)."""
    need: dict[str, set[str]] = {}

    def add(table_name: str, *columns: str) -> None:
        need.setdefault(table_name, set()).update(columns)

    def events(ev: Events, *, exposure: bool = False) -> None:
        dom = DOMAINS[ev.domain]
        add(dom.table, "person_id", dom.start)
        if ev.concept_set is not None:
            add(dom.table, dom.concept, dom.source_concept)
            cs = definition.concept_set(ev.concept_set)
            if any(c.concept_id is None for c in cs.concepts):
                add("concept", "concept_id", "vocabulary_id", "concept_code")
            if any(c.descendants for c in cs.concepts):
                add("concept_ancestor", "ancestor_concept_id", "descendant_concept_id")
        if ev.type_concept_ids and dom.type_concept:
            add(dom.table, dom.type_concept)
        if (ev.value_min is not None or ev.value_max is not None) and dom.value:
            add(dom.table, dom.value)
        if exposure and dom.end and dom.days_supply:
            add(dom.table, dom.end, dom.days_supply)

    for ev in definition.events:
        events(ev)
    add("observation_period", *OBSERVATION_PERIOD_COLUMNS)
    for c in definition.inclusion:
        if isinstance(c, AgeCriterion):
            add("person", "person_id", "year_of_birth", "month_of_birth", "day_of_birth")
        elif isinstance(c, SexCriterion):
            add("person", "person_id", "gender_concept_id")
    rule = definition.exit.rule
    if isinstance(rule, ExposureEndExit):
        events(Events("drug_exposure", rule.concept_set), exposure=True)
    if definition.exit.censor_at_death:
        add("death", *DEATH_COLUMNS)
    return need
