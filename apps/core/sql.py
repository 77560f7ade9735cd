"""SQL helpers for set-based writes and reads of many ids at once.

`field__any_of=ids` filters on a list of values. On PostgreSQL it is `field = ANY(%s)` with the list
sent as ONE array parameter: a 10,000-item `IN (%s, %s, ...)` list costs psycopg more to prepare
than the query costs the server (issue 16 measured a quarter of a bulk import's time there). On
other databases (SQLite, the demo) it is a plain `IN` list.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    """`field__any_of=[...]`: the field equals one of the values (an array parameter on PostgreSQL)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)  # nothing matches an empty list (SQLite refuses `IN ()`)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
