"""The triggers that record what the monthly rollup must refresh (valuation.RollupChange).

PostgreSQL: statement-level triggers with transition tables on the two big tables (one insert
of the distinct KPI or product months per statement, COPY and bulk inserts included) and
row-level ones on the small tables. SQLite (the demo): row-level triggers. Every product is
marked once at the end, so the first refresh builds the rollup from what is already stored.
"""

from django.db import migrations

CHANGES = "valuation_rollupchange"

# (table, the column naming what changed, which column of RollupChange it goes to)
BIG_TABLES = [
    ("kpis_measurement", "kpi_id", "kpi_id"),
    ("costs_costentry", "data_product_id", "data_product_id"),
]


def _postgresql_big_table(table: str, source: str, target: str) -> list[str]:
    month = "date_trunc('month', period_start)::date"
    function = f"mv_rollup_{table}_changed"
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO {CHANGES} ({target}, month) SELECT DISTINCT {source}, {month} FROM new_rows;
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO {CHANGES} ({target}, month)
                SELECT {source}, {month} FROM new_rows UNION SELECT {source}, {month} FROM old_rows;
            ELSE
                INSERT INTO {CHANGES} ({target}, month) SELECT DISTINCT {source}, {month} FROM old_rows;
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER mv_rollup_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER mv_rollup_update AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER mv_rollup_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]


POSTGRESQL = [
    *(sql for table in BIG_TABLES for sql in _postgresql_big_table(*table)),
    # An attribution added, changed or removed: every month of its product (old and new).
    f"""CREATE FUNCTION mv_rollup_attribution_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN INSERT INTO {CHANGES} (data_product_id) VALUES (OLD.data_product_id); END IF;
        IF TG_OP <> 'DELETE' THEN INSERT INTO {CHANGES} (data_product_id) VALUES (NEW.data_product_id); END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_rollup_change AFTER INSERT OR UPDATE OR DELETE ON kpis_attribution
        FOR EACH ROW EXECUTE FUNCTION mv_rollup_attribution_changed()""",
    # A KPI's terms changed: every month of the products it serves.
    f"""CREATE FUNCTION mv_rollup_kpi_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} (kpi_id) VALUES (NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_rollup_change AFTER UPDATE ON kpis_kpi FOR EACH ROW
        WHEN (OLD.direction IS DISTINCT FROM NEW.direction OR OLD.baseline IS DISTINCT FROM NEW.baseline
              OR OLD.value_per_unit IS DISTINCT FROM NEW.value_per_unit)
        EXECUTE FUNCTION mv_rollup_kpi_changed()""",
    # A product's launch moved (it is credited from another date) or it moved to another domain.
    f"""CREATE FUNCTION mv_rollup_product_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} (data_product_id) VALUES (NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_rollup_change AFTER UPDATE ON catalog_dataproduct FOR EACH ROW
        WHEN (OLD.launched_on IS DISTINCT FROM NEW.launched_on OR OLD.domain_id IS DISTINCT FROM NEW.domain_id)
        EXECUTE FUNCTION mv_rollup_product_changed()""",
    # A product deleted: its domain's totals lose it.
    f"""CREATE FUNCTION mv_rollup_product_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} (data_product_id) VALUES (OLD.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_rollup_delete AFTER DELETE ON catalog_dataproduct FOR EACH ROW
        EXECUTE FUNCTION mv_rollup_product_deleted()""",
]

POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS mv_rollup_{event} ON {table}" for table, *_ in BIG_TABLES for event in
      ("insert", "update", "delete")),
    *(f"DROP FUNCTION IF EXISTS mv_rollup_{table}_changed()" for table, *_ in BIG_TABLES),
    "DROP TRIGGER IF EXISTS mv_rollup_change ON kpis_attribution",
    "DROP TRIGGER IF EXISTS mv_rollup_change ON kpis_kpi",
    "DROP TRIGGER IF EXISTS mv_rollup_change ON catalog_dataproduct",
    "DROP TRIGGER IF EXISTS mv_rollup_delete ON catalog_dataproduct",
    "DROP FUNCTION IF EXISTS mv_rollup_product_deleted()",
    "DROP FUNCTION IF EXISTS mv_rollup_attribution_changed()",
    "DROP FUNCTION IF EXISTS mv_rollup_kpi_changed()",
    "DROP FUNCTION IF EXISTS mv_rollup_product_changed()",
]


def _sqlite_big_table(table: str, source: str, target: str) -> list[str]:
    def mark(row: str) -> str:
        return (
            f"INSERT INTO {CHANGES} ({target}, month) VALUES ({row}.{source}, date({row}.period_start, 'start of month'));"
        )

    return [
        f"CREATE TRIGGER mv_rollup_{table}_insert AFTER INSERT ON {table} BEGIN {mark('NEW')} END",
        f"CREATE TRIGGER mv_rollup_{table}_update AFTER UPDATE ON {table} BEGIN {mark('OLD')} {mark('NEW')} END",
        f"CREATE TRIGGER mv_rollup_{table}_delete AFTER DELETE ON {table} BEGIN {mark('OLD')} END",
    ]


SQLITE = [
    *(sql for table in BIG_TABLES for sql in _sqlite_big_table(*table)),
    f"""CREATE TRIGGER mv_rollup_attribution_insert AFTER INSERT ON kpis_attribution
        BEGIN INSERT INTO {CHANGES} (data_product_id) VALUES (NEW.data_product_id); END""",
    f"""CREATE TRIGGER mv_rollup_attribution_update AFTER UPDATE ON kpis_attribution
        BEGIN INSERT INTO {CHANGES} (data_product_id) VALUES (OLD.data_product_id), (NEW.data_product_id); END""",
    f"""CREATE TRIGGER mv_rollup_attribution_delete AFTER DELETE ON kpis_attribution
        BEGIN INSERT INTO {CHANGES} (data_product_id) VALUES (OLD.data_product_id); END""",
    f"""CREATE TRIGGER mv_rollup_kpi_update AFTER UPDATE ON kpis_kpi
        WHEN OLD.direction IS NOT NEW.direction OR OLD.baseline IS NOT NEW.baseline
             OR OLD.value_per_unit IS NOT NEW.value_per_unit
        BEGIN INSERT INTO {CHANGES} (kpi_id) VALUES (NEW.id); END""",
    f"""CREATE TRIGGER mv_rollup_product_update AFTER UPDATE ON catalog_dataproduct
        WHEN OLD.launched_on IS NOT NEW.launched_on OR OLD.domain_id IS NOT NEW.domain_id
        BEGIN INSERT INTO {CHANGES} (data_product_id) VALUES (NEW.id); END""",
    f"""CREATE TRIGGER mv_rollup_product_delete AFTER DELETE ON catalog_dataproduct
        BEGIN INSERT INTO {CHANGES} (data_product_id) VALUES (OLD.id); END""",
]

SQLITE_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS mv_rollup_{table}_{event}" for table, *_ in BIG_TABLES for event in
      ("insert", "update", "delete")),
    *(f"DROP TRIGGER IF EXISTS mv_rollup_attribution_{event}" for event in ("insert", "update", "delete")),
    "DROP TRIGGER IF EXISTS mv_rollup_kpi_update",
    "DROP TRIGGER IF EXISTS mv_rollup_product_update",
    "DROP TRIGGER IF EXISTS mv_rollup_product_delete",
]


def _run(statements_by_vendor: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"the monthly rollup has no triggers for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement)

    return run


def mark_every_product(apps, schema_editor) -> None:
    schema_editor.execute(f"INSERT INTO {CHANGES} (data_product_id) SELECT id FROM catalog_dataproduct")


class Migration(migrations.Migration):
    dependencies = [
        ("valuation", "0007_monthly_rollup"),
        ("kpis", "0004_audit_trail"),
        ("costs", "0004_audit_trail"),
        ("catalog", "0003_audit_trail"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
        migrations.RunPython(mark_every_product, migrations.RunPython.noop),
    ]
