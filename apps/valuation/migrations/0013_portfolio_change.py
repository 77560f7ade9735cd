"""The portfolio's change log (valuation.PortfolioChange) and the triggers that write it (PostgreSQL).

Statement-level triggers: an evaluation pass's upsert writes one or two rows, whatever its size.
A product's update counts only when it can change who is in the portfolio or under which domain
(lifecycle, sunset date, domain). One row is written here, so that figures summed before the
triggers existed are not cached under the empty log's key. Elsewhere (SQLite, the demo) nothing
is cached and no trigger is needed.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

from apps.core.sql import postgresql_statements

CHANGES = "valuation_portfoliochange"

POSTGRESQL = [
    f"""CREATE FUNCTION mv_portfolio_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {CHANGES} DEFAULT VALUES;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_portfolio_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON valuation_evaluation
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_changed()""",
    """CREATE TRIGGER mv_portfolio_change AFTER INSERT OR DELETE OR TRUNCATE ON catalog_dataproduct
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_changed()""",
    f"""CREATE FUNCTION mv_portfolio_product_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.lifecycle IS DISTINCT FROM n.lifecycle OR o.sunset_on IS DISTINCT FROM n.sunset_on
                OR o.domain_id IS DISTINCT FROM n.domain_id
        ) THEN
            INSERT INTO {CHANGES} DEFAULT VALUES;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mv_portfolio_product_update AFTER UPDATE ON catalog_dataproduct
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_product_changed()""",
    f"INSERT INTO {CHANGES} DEFAULT VALUES",
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS mv_portfolio_change ON valuation_evaluation",
    "DROP TRIGGER IF EXISTS mv_portfolio_change ON catalog_dataproduct",
    "DROP TRIGGER IF EXISTS mv_portfolio_product_update ON catalog_dataproduct",
    "DROP FUNCTION IF EXISTS mv_portfolio_changed()",
    "DROP FUNCTION IF EXISTS mv_portfolio_product_changed()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("valuation", "0012_run_kpi_figures"),
        ("catalog", "0004_dataproduct_product_name_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="PortfolioChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("changed_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={"ordering": ["id"]},
        ),
        postgresql_statements(POSTGRESQL, POSTGRESQL_REVERSE),
    ]
