"""SOQL syntax tree + schema → SQL over the org's tables. Pure: no connection, no clock.

The compiler resolves names case-insensitively against the schema (raising Salesforce's
INVALID_FIELD / INVALID_TYPE with a caret diagram), joins parent relationships as LEFT JOINs,
turns SOQL's value and date-literal semantics into SQL, and describes the output shape so the
executor can nest parent objects and child subqueries as the REST API does.

Text columns are declared `COLLATE NOCASE`, so `=`, `IN`, ORDER BY and SQLite's LIKE compare
case-insensitively, as SOQL does. `!=` and `NOT IN` match nulls too, as in SOQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from ..ids import InvalidId, normalize_id
from ..schema import ChildRelationship, FieldDef, FieldType, ObjectDef, Schema
from ..values import format_datetime
from . import ast
from .dates import resolve_date_literal
from .errors import caret_diagram

__all__ = [
    "ChildPlan",
    "CompiledQuery",
    "OutputColumn",
    "QueryError",
    "compile_query",
]

T = FieldType
_MAX_FIELDS_ALL_LIMIT = 200


class QueryError(Exception):
    """A query that parses but cannot run: errorCode and Salesforce's message."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class OutputColumn:
    """One selected value: where it goes in the record (`path` of relationship names, then the
    field) and which SQL column holds it. `hidden` columns carry parent IDs for `attributes`."""

    path: tuple[str, ...]
    field: FieldDef
    index: int
    object_types: tuple[str, ...]
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class ChildPlan:
    """A parent-to-child subquery, run per page for the parents on that page."""

    name: str
    relationship: ChildRelationship
    query: CompiledQuery


@dataclass(slots=True)
class CompiledQuery:
    obj: ObjectDef
    select_sql: list[str]
    from_sql: str
    where_sql: str
    params: list[Any]
    order_sql: str
    has_order_by: bool
    columns: list[OutputColumn]
    children: list[ChildPlan]
    count_only: bool
    aggregate: bool
    aggregate_names: list[str] = field(default_factory=list)
    group_sql: str = ""
    having_sql: str = ""
    limit: int | None = None
    offset: int | None = None

    def sql(self, extra_where: str = "", *, order: bool = True) -> str:
        where = " AND ".join(p for p in (self.where_sql, extra_where) if p)
        text = f"SELECT {', '.join(self.select_sql)} FROM {self.from_sql}"
        if where:
            text += f" WHERE {where}"
        if self.group_sql:
            text += f" GROUP BY {self.group_sql}"
        if self.having_sql:
            text += f" HAVING {self.having_sql}"
        if order and self.order_sql:
            text += f" ORDER BY {self.order_sql}"
        return text

    def count_sql(self) -> str:
        text = f"SELECT count(*) FROM {self.from_sql}"
        if self.where_sql:
            text += f" WHERE {self.where_sql}"
        return text


@dataclass
class _Join:
    alias: str
    targets: tuple[ObjectDef, ...]


@dataclass
class _Scope:
    """Name resolution state for one query level: joins made so far and SQL parameters."""

    schema: Schema
    obj: ObjectDef
    text: str
    today: date
    alias_prefix: str
    sobject_alias: str | None
    joins: dict[tuple[str, ...], _Join] = field(default_factory=dict)
    join_sql: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    counter: int = 0
    # Shared by a query and its semi-join subqueries so table aliases never clash.
    subqueries: list[int] = field(default_factory=lambda: [0])
    # (object, field) pairs with a trigram index, and how that index's table is named.
    substring_indexed: frozenset[tuple[str, str]] = frozenset()
    index_name: Callable[[str, str], str] | None = None

    def error(self, code: str, node: ast.Node, message: str) -> QueryError:
        return QueryError(code, caret_diagram(self.text, node.pos, message))

    def _new_alias(self) -> str:
        self.counter += 1
        return f"{self.alias_prefix}{self.counter}"

    @property
    def base(self) -> str:
        return f"{self.alias_prefix}0"

    def resolve(self, path: ast.FieldPath) -> tuple[tuple[str, ...], str, FieldDef, _Join | None]:
        """(relationship path, SQL expression, field, last join) of a dotted field path."""
        parts = list(path.parts)
        qualifiers = {self.obj.name.lower(), (self.sobject_alias or self.obj.name).lower()}
        if len(parts) > 1 and parts[0].lower() in qualifiers:
            parts = parts[1:]
        current: tuple[ObjectDef, ...] = (self.obj,)
        alias = self.base
        join: _Join | None = None
        rel_path: list[str] = []
        for rel_name in parts[:-1]:
            if len(current) > 1:
                raise self.error(
                    "INVALID_FIELD", path, f"Polymorphic relationship '{rel_path[-1]}' can only "
                    "be followed to one of its common fields"
                )  # fmt: skip
            rel = current[0].relationship(rel_name)
            # A relationship whose every target the user may not read does not exist for them.
            targets = (
                tuple(o for o in (self.schema.get(n) for n in rel.reference_to) if o) if rel else ()
            )
            if rel is None or not targets:
                raise self.error(
                    "INVALID_FIELD",
                    path,
                    f"Didn't understand relationship '{rel_name}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            assert rel.relationship_name is not None
            rel_path.append(rel.relationship_name)
            key = tuple(rel_path)
            if key not in self.joins:
                new = _Join(self._new_alias(), targets)
                for i, target in enumerate(targets):
                    suffix = f"_{i}" if len(targets) > 1 else ""
                    self.join_sql.append(
                        f"LEFT JOIN {_q(target.name)} {new.alias}{suffix} "
                        f'ON {new.alias}{suffix}."Id" = {alias}.{_q(rel.name)}'
                    )
                self.joins[key] = new
            join = self.joins[key]
            alias = join.alias
            current = join.targets
        name = parts[-1]
        if join is not None and len(join.targets) > 1:
            return self._polymorphic(path, tuple(rel_path), join, name)
        found = current[0].field(name)
        if found is None:
            raise self.error(
                "INVALID_FIELD",
                path,
                f"No such column '{name}' on entity '{current[0].name}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        return tuple(rel_path), f"{alias}.{_q(found.name)}", found, join

    def _polymorphic(
        self, path: ast.FieldPath, rel_path: tuple[str, ...], join: _Join, name: str
    ) -> tuple[tuple[str, ...], str, FieldDef, _Join]:
        if name.lower() == "type":
            cases = " ".join(
                f"WHEN {join.alias}_{i}.\"Id\" IS NOT NULL THEN '{t.name}'"
                for i, t in enumerate(join.targets)
            )
            type_field = FieldDef(name="Type", label="Type", type=T.PICKLIST, length=40)
            return rel_path, f"(CASE {cases} END)", type_field, join
        fields = [t.field(name) for t in join.targets]
        if any(f is None for f in fields):
            raise self.error(
                "INVALID_FIELD",
                path,
                f"No such column '{name}' on entity 'Name'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        found = fields[0]
        assert found is not None
        expr = "coalesce(" + ", ".join(
            f"{join.alias}_{i}.{_q(found.name)}" for i in range(len(join.targets))
        ) + ")"  # fmt: skip
        return rel_path, expr, found, join

    def join_id_expr(self, join: _Join) -> str:
        if len(join.targets) == 1:
            return f'{join.alias}."Id"'
        return "coalesce(" + ", ".join(
            f'{join.alias}_{i}."Id"' for i in range(len(join.targets))
        ) + ")"  # fmt: skip

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"


def compile_query(
    query: ast.Query,
    schema: Schema,
    *,
    text: str,
    today: date,
    include_deleted: bool,
    alias_prefix: str = "t",
    substring_indexed: frozenset[tuple[str, str]] = frozenset(),
    index_name: Callable[[str, str], str] | None = None,
) -> CompiledQuery:
    """Compile a top-level query (or, with `alias_prefix`, a subquery) against `schema`."""
    obj = schema.get(query.from_.name)
    if obj is None or not obj.queryable:
        raise QueryError(
            "INVALID_TYPE",
            caret_diagram(
                text,
                query.from_.pos,
                f"sObject type '{query.from_.name}' is not supported. If you are attempting to "
                "use a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            ),
        )
    scope = _Scope(
        schema, obj, text, today, alias_prefix, query.from_.alias,
        substring_indexed=substring_indexed, index_name=index_name,
    )  # fmt: skip
    return _compile(query, scope, include_deleted)


def _compile(query: ast.Query, scope: _Scope, include_deleted: bool) -> CompiledQuery:
    obj = scope.obj
    columns: list[OutputColumn] = []
    select_sql: list[str] = []
    children: list[ChildPlan] = []
    aggregate_names: list[str] = []
    count_only = False
    implied = 0
    aggregate = query.is_aggregate
    seen: set[tuple[str, ...]] = set()
    id_field = obj.field("Id")
    assert id_field is not None

    def add(
        path: tuple[str, ...], expr: str, f: FieldDef, types: tuple[str, ...], hidden: bool
    ) -> None:
        key = (*path, f.name, str(hidden))
        if key in seen:
            return
        seen.add(key)
        columns.append(OutputColumn(path, f, len(select_sql), types, hidden))
        select_sql.append(expr)

    if not aggregate:
        add((), f'{scope.base}."Id"', id_field, (obj.name,), True)
        select_sql.append(f"{scope.base}._rid")  # the keyset-paging key, never output

    for item in query.select:
        if isinstance(item, ast.CountAll):
            count_only = True
        elif isinstance(item, ast.FieldsFunction):
            if item.category is not ast.FieldsCategory.STANDARD and (
                query.limit is None or query.limit > _MAX_FIELDS_ALL_LIMIT
            ):
                raise scope.error(
                    "MALFORMED_QUERY",
                    item,
                    "The SOQL FIELDS function must have a LIMIT of at most 200",
                )
            for f in obj.fields:
                if item.category is ast.FieldsCategory.ALL or (
                    f.custom == (item.category is ast.FieldsCategory.CUSTOM)
                ):
                    add((), f"{scope.base}.{_q(f.name)}", f, (obj.name,), False)
        elif isinstance(item, ast.SubQuery):
            children.append(_child_plan(item, scope, include_deleted))
        elif isinstance(item.expr, ast.FieldPath) and not aggregate:
            path, expr, f, _ = scope.resolve(item.expr)
            for depth in range(1, len(path) + 1):
                hop = scope.joins[path[:depth]]
                types = tuple(t.name for t in hop.targets)
                add(path[:depth], scope.join_id_expr(hop), id_field_of(hop), types, True)
                if len(hop.targets) > 1:
                    cases = " ".join(
                        f"WHEN {hop.alias}_{i}.\"Id\" IS NOT NULL THEN '{t.name}'"
                        for i, t in enumerate(hop.targets)
                    )
                    type_f = FieldDef(name="Type", label="Type", type=T.PICKLIST, length=40)
                    add(path[:depth], f"(CASE {cases} END)", type_f, types, True)
            add(path, expr, f, (obj.name,), False)
        else:
            expr_sql, name, f = _select_expr(item, scope, implied)
            # Unaliased aggregates are named expr0, expr1, … in their own sequence.
            implied += item.alias is None and not isinstance(item.expr, ast.FieldPath)
            aggregate_names.append(name)
            columns.append(OutputColumn((), f, len(select_sql), ("AggregateResult",)))
            select_sql.append(expr_sql)

    conditions = [] if include_deleted else [f'{scope.base}."IsDeleted" = 0']
    if query.where is not None:
        conditions.append(_condition(query.where, scope, include_deleted))
    group_sql = ", ".join(_group_expr(g, scope) for g in query.group_by)
    having_sql = _condition(query.having, scope, include_deleted) if query.having else ""
    order_parts = [_order_item(o, scope, aggregate) for o in query.order_by]
    has_order_by = bool(order_parts)
    if not aggregate:
        order_parts.append(f"{scope.base}._rid")
    if count_only:
        select_sql = ["count(*)"]
        columns = []
    if query.offset is not None and query.offset > 2000:
        raise QueryError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is 2000, got {query.offset}"
        )
    return CompiledQuery(
        obj=obj,
        select_sql=select_sql,
        from_sql=" ".join([f"{_q(obj.name)} {scope.base}", *scope.join_sql]),
        where_sql=" AND ".join(f"({c})" for c in conditions),
        params=scope.params,
        order_sql=", ".join(order_parts),
        has_order_by=has_order_by,
        columns=columns,
        children=children,
        count_only=count_only,
        aggregate=aggregate and not count_only,
        aggregate_names=aggregate_names,
        group_sql=group_sql,
        having_sql=having_sql,
        limit=query.limit,
        offset=query.offset,
    )


def id_field_of(join: _Join) -> FieldDef:
    found = join.targets[0].field("Id")
    assert found is not None
    return found


def _child_plan(item: ast.SubQuery, scope: _Scope, include_deleted: bool) -> ChildPlan:
    rel = scope.schema.child_relationship(scope.obj.name, item.query.from_.name)
    if rel is None:
        raise scope.error(
            "INVALID_TYPE",
            item.query.from_,
            f"Didn't understand relationship '{item.query.from_.name}' in FROM part of query "
            "call. If you are attempting to use a custom relationship, be sure to append the "
            "'__r' after the custom relationship name. Please reference your WSDL or the "
            "describe call for the appropriate names.",
        )
    child_obj = scope.schema.get(rel.child_object)
    assert child_obj is not None
    child_scope = _Scope(
        scope.schema, child_obj, scope.text, scope.today, "c", item.query.from_.alias
    )
    compiled = _compile(item.query, child_scope, include_deleted)
    fk = child_obj.field(rel.field)
    assert fk is not None
    compiled.select_sql.append(f"{child_scope.base}.{_q(fk.name)}")
    return ChildPlan(rel.name, rel, compiled)


def _select_expr(item: ast.SelectExpr, scope: _Scope, index: int) -> tuple[str, str, FieldDef]:
    expr = item.expr
    if isinstance(expr, ast.Aggregate):
        _, column, f, _ = scope.resolve(expr.field)
        function = expr.function
        if function is ast.AggregateFunction.COUNT:
            sql = f"count({column})"
            out = FieldDef(name="expr", label="expr", type=T.INT)
        elif function is ast.AggregateFunction.COUNT_DISTINCT:
            sql = f"count(DISTINCT {column})"
            out = FieldDef(name="expr", label="expr", type=T.INT)
        else:
            sql = f"{function.value.lower()}({column})"
            out = f if function in (ast.AggregateFunction.MIN, ast.AggregateFunction.MAX) else (
                FieldDef(name="expr", label="expr", type=T.DOUBLE)
            )  # fmt: skip
        return sql, item.alias or f"expr{index}", out
    if isinstance(expr, ast.DateFunctionCall):
        sql = _date_function(expr, scope)
        return sql, item.alias or f"expr{index}", FieldDef(name="expr", label="expr", type=T.INT)
    _, column, f, _ = scope.resolve(expr)
    return column, item.alias or f.name, f


def _group_expr(item: ast.GroupItem, scope: _Scope) -> str:
    if isinstance(item, ast.DateFunctionCall):
        return _date_function(item, scope)
    return scope.resolve(item)[1]


def _order_item(item: ast.OrderItem, scope: _Scope, aggregate: bool) -> str:
    expr = item.expr
    if isinstance(expr, ast.FieldPath):
        sql = scope.resolve(expr)[1]
    elif isinstance(expr, ast.DateFunctionCall):
        sql = _date_function(expr, scope)
    else:
        sql = _select_expr(ast.SelectExpr(expr=expr, pos=expr.pos), scope, 0)[0]
    direction = "DESC" if item.descending else "ASC"
    nulls = "NULLS LAST" if item.nulls_last else "NULLS FIRST"
    return f"{sql} {direction} {nulls}"


_DATE_FUNCTIONS: dict[ast.DateFunction, str] = {
    ast.DateFunction.CALENDAR_YEAR: "CAST(substr({0}, 1, 4) AS INTEGER)",
    ast.DateFunction.FISCAL_YEAR: "CAST(substr({0}, 1, 4) AS INTEGER)",
    ast.DateFunction.CALENDAR_MONTH: "CAST(substr({0}, 6, 2) AS INTEGER)",
    ast.DateFunction.FISCAL_MONTH: "CAST(substr({0}, 6, 2) AS INTEGER)",
    ast.DateFunction.CALENDAR_QUARTER: "((CAST(substr({0}, 6, 2) AS INTEGER) + 2) / 3)",
    ast.DateFunction.FISCAL_QUARTER: "((CAST(substr({0}, 6, 2) AS INTEGER) + 2) / 3)",
    ast.DateFunction.DAY_IN_MONTH: "CAST(substr({0}, 9, 2) AS INTEGER)",
    ast.DateFunction.DAY_IN_WEEK: "(CAST(strftime('%w', substr({0}, 1, 10)) AS INTEGER) + 1)",
    ast.DateFunction.DAY_IN_YEAR: "CAST(strftime('%j', substr({0}, 1, 10)) AS INTEGER)",
    ast.DateFunction.DAY_ONLY: "substr({0}, 1, 10)",
    ast.DateFunction.HOUR_IN_DAY: "CAST(substr({0}, 12, 2) AS INTEGER)",
    ast.DateFunction.WEEK_IN_MONTH: "((CAST(substr({0}, 9, 2) AS INTEGER) + 6) / 7)",
    ast.DateFunction.WEEK_IN_YEAR: (
        "((CAST(strftime('%j', substr({0}, 1, 10)) AS INTEGER) + 6) / 7)"
    ),
}


def _date_function(call: ast.DateFunctionCall, scope: _Scope) -> str:
    _, column, f, _ = scope.resolve(call.field)
    if f.type not in (T.DATE, T.DATETIME):
        raise scope.error(
            "INVALID_FIELD", call, f"{call.function.value} can only be used on date fields"
        )
    return _DATE_FUNCTIONS[call.function].format(column)


# -- conditions ---------------------------------------------------------------------------


def _condition(cond: ast.Condition, scope: _Scope, include_deleted: bool) -> str:
    if isinstance(cond, ast.And):
        return " AND ".join(f"({_condition(c, scope, include_deleted)})" for c in cond.operands)
    if isinstance(cond, ast.Or):
        return " OR ".join(f"({_condition(c, scope, include_deleted)})" for c in cond.operands)
    if isinstance(cond, ast.Not):
        return f"NOT ({_condition(cond.operand, scope, include_deleted)})"
    if isinstance(cond, ast.Comparison):
        return _comparison(cond, scope)
    if isinstance(cond, ast.Like):
        column, f = _operand(cond.left, scope)
        if not f.type.is_text:
            raise scope.error(
                "INVALID_FIELD", cond, f"invalid operator on {f.name}: LIKE works on text fields"
            )
        like = f"{column} LIKE {scope.param(cond.pattern)} ESCAPE '\\'"
        return like + _substring_prefilter(cond, column, f, scope)
    if isinstance(cond, ast.InValues):
        column, f = _operand(cond.left, scope)
        values = [_value(v, f, scope, cond) for v in cond.values]
        has_null = any(v is None for v in values)
        concrete = [v for v in values if v is not None]
        marks = ", ".join(scope.param(v) for v in concrete)
        if cond.negated:
            sql = f"({column} IS NULL OR {column} NOT IN ({marks}))" if concrete else "1"
            return f"{sql} AND {column} IS NOT NULL" if has_null else sql
        sql = f"{column} IN ({marks})" if concrete else "0"
        return f"({sql} OR {column} IS NULL)" if has_null else sql
    if isinstance(cond, ast.InSubquery):
        column, _ = _operand(cond.left, scope)
        scope.subqueries[0] += 1
        inner_scope = _Scope(
            scope.schema, _subquery_object(cond.query, scope), scope.text, scope.today,
            f"s{scope.subqueries[0]}x", cond.query.from_.alias, subqueries=scope.subqueries,
        )  # fmt: skip
        inner = _compile(cond.query, inner_scope, include_deleted)
        value_columns = [c for c in inner.columns if not c.hidden]
        if len(value_columns) != 1:
            raise scope.error(
                "MALFORMED_QUERY", cond.query, "A semi-join subquery must select exactly one field"
            )
        scope.params.extend(inner.params)
        sub = f"SELECT {inner.select_sql[value_columns[0].index]} FROM {inner.from_sql}" + (
            f" WHERE {inner.where_sql}" if inner.where_sql else ""
        )
        negate = "NOT " if cond.negated else ""
        if cond.negated:
            return f"({column} IS NULL OR {column} {negate}IN ({sub}))"
        return f"{column} IN ({sub})"
    if isinstance(cond, ast.Includes):
        column, f = _operand(cond.left, scope)
        if f.type is not T.MULTIPICKLIST:
            raise scope.error(
                "INVALID_FIELD", cond, "INCLUDES and EXCLUDES work on multi-select picklists only"
            )
        alternatives = []
        for value in cond.values:
            parts = [p.strip() for p in value.value.split(";") if p.strip()]
            alternatives.append(
                " AND ".join(
                    f"(';' || {column} || ';') LIKE {scope.param('%;' + _like_literal(p) + ';%')}"
                    " ESCAPE '\\'"
                    for p in parts
                )
                or "0"
            )
        any_match = " OR ".join(f"({a})" for a in alternatives)
        return f"NOT ({any_match}) OR {column} IS NULL" if cond.excludes else any_match
    raise AssertionError(cond)


def _substring_prefilter(cond: ast.Like, column: str, f: FieldDef, scope: _Scope) -> str:
    """`AND _rid IN (trigram index matches)` when an index can narrow a `%text%` search.

    The LIKE itself still decides; the index only keeps SQLite from scanning the table.
    """
    on_base = column == f"{scope.base}.{_q(f.name)}"
    pattern = cond.pattern
    literal_runs = pattern.replace("_", "%").split("%")
    if (
        not on_base
        or scope.index_name is None
        or (scope.obj.name, f.name) not in scope.substring_indexed
        or "\\" in pattern
        or max(len(run) for run in literal_runs) < 3
    ):
        return ""
    index = _q(scope.index_name(scope.obj.name, f.name))
    return (
        f" AND {scope.base}._rid IN (SELECT rowid FROM {index} "
        f"WHERE {_q(f.name)} LIKE {scope.param(pattern)})"
    )


def _subquery_object(query: ast.Query, scope: _Scope) -> ObjectDef:
    obj = scope.schema.get(query.from_.name)
    if obj is None:
        raise scope.error(
            "INVALID_TYPE", query.from_, f"sObject type '{query.from_.name}' is not supported."
        )
    return obj


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _operand(left: ast.Operand, scope: _Scope) -> tuple[str, FieldDef]:
    if isinstance(left, ast.FieldPath):
        _, column, f, _ = scope.resolve(left)
        return column, f
    if isinstance(left, ast.DateFunctionCall):
        sql = _date_function(left, scope)
        if left.function is ast.DateFunction.DAY_ONLY:
            return sql, FieldDef(name="DAY_ONLY", label="DAY_ONLY", type=T.DATE)
        return sql, FieldDef(name=left.function.value, label=left.function.value, type=T.INT)
    sql, _, f = _select_expr(ast.SelectExpr(expr=left, pos=left.pos), scope, 0)
    return sql, f


def _date_range(
    column: str, op: ast.ComparisonOperator, start: str, end: str, scope: _Scope
) -> str:
    """A comparison with a date literal, which stands for the range [start, end)."""
    if op is ast.ComparisonOperator.EQ:
        return f"{column} >= {scope.param(start)} AND {column} < {scope.param(end)}"
    if op is ast.ComparisonOperator.NE:
        inside = f"{column} >= {scope.param(start)} AND {column} < {scope.param(end)}"
        return f"NOT ({inside}) OR {column} IS NULL"
    if op is ast.ComparisonOperator.LT:
        return f"{column} < {scope.param(start)}"
    if op is ast.ComparisonOperator.LE:
        return f"{column} < {scope.param(end)}"
    if op is ast.ComparisonOperator.GT:
        return f"{column} >= {scope.param(end)}"
    return f"{column} >= {scope.param(start)}"


def _comparison(cond: ast.Comparison, scope: _Scope) -> str:
    column, f = _operand(cond.left, scope)
    op = cond.operator
    if isinstance(cond.value, ast.DateLiteral):
        if f.type not in (T.DATE, T.DATETIME):
            raise _type_error(scope, cond, f)
        start, end = resolve_date_literal(cond.value, scope.today)
        return _date_range(column, op, _date_bound(start, f), _date_bound(end, f), scope)
    value = _value(cond.value, f, scope, cond)
    if value is None:
        if op is ast.ComparisonOperator.EQ:
            return f"{column} IS NULL"
        if op is ast.ComparisonOperator.NE:
            return f"{column} IS NOT NULL"
        raise scope.error("MALFORMED_QUERY", cond, "null can only be compared with = or !=")
    if op is ast.ComparisonOperator.NE:
        return f"({column} IS NULL OR {column} != {scope.param(value)})"
    return f"{column} {op.value} {scope.param(value)}"


def _date_bound(day: date, f: FieldDef) -> str:
    if f.type is T.DATE:
        return day.isoformat()
    return format_datetime(datetime.combine(day, time(0), tzinfo=UTC))


def _type_error(scope: _Scope, cond: ast.Node, f: FieldDef) -> QueryError:
    kind = {T.DATETIME: "dateTime", T.DATE: "date", T.BOOLEAN: "boolean"}.get(
        f.type, "number" if f.type.is_number else "string"
    )
    quoted = "should not be enclosed in quotes" if kind != "string" else "should be quoted"
    return scope.error(
        "INVALID_FIELD",
        cond,
        f"value of filter criterion for field '{f.name}' must be of type {kind} and {quoted}",
    )


def _value(value: ast.Value, f: FieldDef, scope: _Scope, cond: ast.Node) -> Any:
    """The SQL parameter for a literal compared with field `f` (None for null)."""
    kind = f.type
    if isinstance(value, ast.NullValue):
        return None
    if isinstance(value, ast.DateLiteral):
        raise scope.error("MALFORMED_QUERY", cond, "date literals cannot be used in IN lists")
    if kind is T.BOOLEAN:
        if not isinstance(value, ast.BooleanValue):
            raise _type_error(scope, cond, f)
        return int(value.value)
    if kind.is_number:
        if not isinstance(value, ast.NumberValue):
            raise _type_error(scope, cond, f)
        number: Decimal = value.value
        return int(number) if kind is T.INT and value.is_integer else float(number)
    if kind is T.DATE:
        if isinstance(value, ast.DateValue):
            return value.value.isoformat()
        raise _type_error(scope, cond, f)
    if kind is T.DATETIME:
        if isinstance(value, ast.DateTimeValue):
            return format_datetime(value.value)
        raise _type_error(scope, cond, f)
    if not isinstance(value, ast.StringValue):
        raise _type_error(scope, cond, f)
    if kind in (T.ID, T.REFERENCE):
        try:
            return normalize_id(value.value)
        except InvalidId:
            raise scope.error(
                "INVALID_QUERY_FILTER_OPERATOR", cond, f"invalid ID field: {value.value}"
            ) from None
    return value.value
