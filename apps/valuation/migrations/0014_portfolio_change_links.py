"""The change log also counts how products are linked to goals and KPIs, and product renames (PostgreSQL).

The goal page caches the ordered ids of the products serving each goal under the same log
(`apps.web.selectors.catalog`), so a write must add a row when it can change that set or its
order: an attribution added, removed or moved to another KPI or product; a KPI moved to another
goal or deleted; a product linked to or unlinked from a goal; a product renamed. A change of an
attribution's weight, or of a KPI's target, adds none. Elsewhere (SQLite) nothing is cached.
"""

from django.db import migrations

from apps.core.sql import postgresql_statements

CHANGES = "valuation_portfoliochange"


def _changed_when(function: str, condition: str) -> str:
    """A function for an UPDATE trigger with transition tables: a row when `condition` holds for a row pair."""
    return f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {condition}) THEN
            INSERT INTO {CHANGES} DEFAULT VALUES;
        END IF;
        RETURN NULL;
    END $$"""


def _on_update(name: str, table: str, function: str) -> str:
    return f"""CREATE TRIGGER {name} AFTER UPDATE ON {table}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {function}()"""


POSTGRESQL = [
    # Products: a rename now counts too (the goal page lists them by name).
    "DROP TRIGGER mv_portfolio_product_update ON catalog_dataproduct",
    "DROP FUNCTION mv_portfolio_product_changed()",
    _changed_when(
        "mv_portfolio_product_changed",
        "o.lifecycle IS DISTINCT FROM n.lifecycle OR o.sunset_on IS DISTINCT FROM n.sunset_on"
        " OR o.domain_id IS DISTINCT FROM n.domain_id OR o.name IS DISTINCT FROM n.name",
    ),
    _on_update("mv_portfolio_product_update", "catalog_dataproduct", "mv_portfolio_product_changed"),
    # Attributions.
    """CREATE TRIGGER mv_portfolio_change AFTER INSERT OR DELETE OR TRUNCATE ON kpis_attribution
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_changed()""",
    _changed_when(
        "mv_portfolio_attribution_changed",
        "o.kpi_id IS DISTINCT FROM n.kpi_id OR o.data_product_id IS DISTINCT FROM n.data_product_id",
    ),
    _on_update("mv_portfolio_attribution_update", "kpis_attribution", "mv_portfolio_attribution_changed"),
    # KPIs: deleted, or moved to another goal.
    """CREATE TRIGGER mv_portfolio_change AFTER DELETE OR TRUNCATE ON kpis_kpi
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_changed()""",
    _changed_when("mv_portfolio_kpi_changed", "o.goal_id IS DISTINCT FROM n.goal_id"),
    _on_update("mv_portfolio_kpi_update", "kpis_kpi", "mv_portfolio_kpi_changed"),
    # Products linked to goals directly.
    """CREATE TRIGGER mv_portfolio_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_dataproduct_goals
        FOR EACH STATEMENT EXECUTE FUNCTION mv_portfolio_changed()""",
    f"INSERT INTO {CHANGES} DEFAULT VALUES",
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS mv_portfolio_change ON catalog_dataproduct_goals",
    "DROP TRIGGER IF EXISTS mv_portfolio_kpi_update ON kpis_kpi",
    "DROP TRIGGER IF EXISTS mv_portfolio_change ON kpis_kpi",
    "DROP TRIGGER IF EXISTS mv_portfolio_attribution_update ON kpis_attribution",
    "DROP TRIGGER IF EXISTS mv_portfolio_change ON kpis_attribution",
    "DROP FUNCTION IF EXISTS mv_portfolio_kpi_changed()",
    "DROP FUNCTION IF EXISTS mv_portfolio_attribution_changed()",
    "DROP TRIGGER mv_portfolio_product_update ON catalog_dataproduct",
    "DROP FUNCTION mv_portfolio_product_changed()",
    _changed_when(
        "mv_portfolio_product_changed",
        "o.lifecycle IS DISTINCT FROM n.lifecycle OR o.sunset_on IS DISTINCT FROM n.sunset_on"
        " OR o.domain_id IS DISTINCT FROM n.domain_id",
    ),
    _on_update("mv_portfolio_product_update", "catalog_dataproduct", "mv_portfolio_product_changed"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("valuation", "0013_portfolio_change"),
        ("kpis", "0007_measurement_one_current_on_sqlite"),
    ]

    operations = [postgresql_statements(POSTGRESQL, POSTGRESQL_REVERSE)]
