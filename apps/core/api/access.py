"""Who may do what: the one place where roles and ownership decide access.

Every API resource declares an `AccessPolicy`: for reading, creating, updating, deleting and
each extra action, the roles granted and how far the grant reaches (`Scope.ALL` rows, or only
`Scope.OWN`, the rows tied to a data product the user owns). Staff and superusers may do
everything. The policies of every resource are defined at the bottom of this module, so the
README's permission table can be checked against one file.

Like NetBox's restricted querysets, a grant turns into a queryset filter (`restrict`); a write
outside it is refused with 403 before anything is stored. The ingestion code shared with the
web app (`apps.kpis.ingest`, `apps.costs.ingest`, `apps.usage.ingest`) asks the same
functions, so a CSV upload in the browser follows the same rules as the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import Model, Q, QuerySet

from apps.core.roles import AnyUser, Role, is_admin, user_roles
from apps.core.sql import IdArray


class Scope(StrEnum):
    ALL = "all"  # every row
    OWN = "own"  # only rows tied to a data product the user owns


Grant = Mapping[Role, Scope]

NOBODY: Grant = MappingProxyType({})
EVERY_ROLE: Grant = MappingProxyType(dict.fromkeys(Role, Scope.ALL))


def grant(**scopes: Scope) -> Grant:
    """`grant(executive=Scope.ALL, product_owner=Scope.OWN)`: roles by name, read-only."""
    return MappingProxyType({Role(name): scope for name, scope in scopes.items()})


# What "rows the user owns" means for each model: those tied to a product the user owns. Each app
# declares it for its own models in its AppConfig.ready() (`register_owned`), so this module needs
# none of them: core stays at the bottom of the layers (pyproject.toml, the import contract).
OwnedRows = Callable[[Any], Q]  # called with a user of the project's user model
_OWNED: dict[type[Model], OwnedRows] = {}


def register_owned(model: type[Model], rows: OwnedRows) -> None:
    """Declare the rows of `model` a user owns, `rows(user)` as a filter (what `Scope.OWN` reaches)."""
    _OWNED[model] = rows


def owned_models() -> frozenset[type[Model]]:
    """The models with owners declared by `register_owned`."""
    return frozenset(_OWNED)


def owned_filter(model: type[Model], user: AbstractUser) -> Q:
    """The rows of `model` tied to a data product `user` owns (nothing for a model without owners)."""
    build = _OWNED.get(model)
    return build(user) if build is not None else Q(pk__in=[])


def scope_of(user: AnyUser, granted: Grant) -> Scope | None:
    """How far `granted` reaches for `user`: ALL, OWN, or None (not granted at all)."""
    if not user.is_authenticated:
        return None
    if is_admin(user):
        return Scope.ALL
    scopes = {granted[role] for role in user_roles(user) if role in granted}
    if Scope.ALL in scopes:
        return Scope.ALL
    if Scope.OWN in scopes:
        return Scope.OWN
    return None


def may(user: AnyUser, granted: Grant) -> bool:
    """Whether `user` holds `granted` for at least some rows."""
    return scope_of(user, granted) is not None


def restrict(queryset: QuerySet, user: AnyUser, granted: Grant) -> QuerySet:
    """`queryset` narrowed to the rows `granted` lets `user` act on."""
    scope = scope_of(user, granted)
    if scope is Scope.ALL:
        return queryset
    if scope is Scope.OWN:
        return queryset.filter(owned_filter(queryset.model, user))  # type: ignore[arg-type]
    return queryset.none()


def forbidden_ids(model: type[Model], ids: Iterable[int], user: AnyUser, granted: Grant) -> set[int]:
    """The ids among `ids` whose rows `user` may not act on under `granted` (one query at most)."""
    wanted = {pk for pk in ids if pk is not None}
    scope = scope_of(user, granted)
    if not wanted or scope is Scope.ALL:
        return set()
    if scope is None:
        return wanted
    allowed = set(
        restrict(model._default_manager.filter(pk__any_of=IdArray.of(sorted(wanted))), user, granted).values_list(
            "pk", flat=True
        )
    )
    return wanted - allowed


@dataclass(frozen=True)
class AccessPolicy:
    """The grants of one resource. Actions not named here are refused to everyone but admins.

    `fields` lists fields whose change is governed by their own grant instead of `update`: an
    update that changes only such fields needs only their grants (a governance lead moving a
    product's lifecycle); one that changes others needs `update` as well. A field granted to
    nobody can be changed by admins only.
    """

    read: Grant = field(default_factory=lambda: EVERY_ROLE)
    create: Grant = field(default_factory=lambda: NOBODY)
    update: Grant = field(default_factory=lambda: NOBODY)
    destroy: Grant = field(default_factory=lambda: NOBODY)
    actions: Mapping[str, Grant] = field(default_factory=dict)
    fields: Mapping[str, Grant] = field(default_factory=dict)

    def for_action(self, action: str | None, *, safe: bool) -> Grant:
        """The grant an action needs; `safe` (GET, HEAD, OPTIONS) falls back to `read`."""
        if action is not None and action in self.actions:
            return self.actions[action]
        if action in ("create",):
            return self.create
        if action in ("update", "partial_update"):
            return self.update
        if action == "destroy":
            return self.destroy
        if safe:
            return self.read
        return NOBODY

    def for_object(self, action: str | None, *, safe: bool) -> list[Grant]:
        """The grants any of which lets a user start acting on an existing row.

        For updates, a field grant is enough to get past this check; which fields actually
        change is checked once the input is validated (`changes_allowed`).
        """
        main = self.for_action(action, safe=safe)
        if action in ("update", "partial_update"):
            return [main, *self.fields.values()]
        return [main]


ALL, OWN = Scope.ALL, Scope.OWN

# --- the policies of every resource (README, "Permissions") -----------------------------------
READ_ONLY = AccessPolicy()
USERS = READ_ONLY
DOMAINS = AccessPolicy()  # admins only
GOALS = AccessPolicy(create=grant(executive=ALL), update=grant(executive=ALL), destroy=grant(executive=ALL))
DATA_PRODUCTS = AccessPolicy(
    create=grant(product_owner=ALL),
    update=grant(product_owner=OWN),
    destroy=grant(product_owner=OWN),
    # The lifecycle is the governance lead's; owners change by a recorded decision, or an admin.
    fields={"lifecycle": grant(governance_lead=ALL), "sunset_on": grant(governance_lead=ALL), "owner": NOBODY},
)
# Who may point a KPI at a data source and write its query: the owner of a product it is attributed
# to, a governance lead (and admins). The query is read by everyone who reads the KPI.
SET_KPI_SOURCE = grant(product_owner=OWN, governance_lead=ALL)
KPIS = AccessPolicy(
    create=grant(executive=ALL, product_owner=ALL),
    update=grant(executive=ALL, product_owner=OWN),
    destroy=grant(executive=ALL, product_owner=OWN),
    fields={"source": SET_KPI_SOURCE, "source_query": SET_KPI_SOURCE},
)
# Which products a user may attribute a KPI to (a product owner: their own).
ATTRIBUTE_PRODUCTS = grant(executive=ALL, product_owner=OWN)
RECORD_OUTCOMES = grant(product_owner=OWN)  # on KPIs
MEASUREMENTS = AccessPolicy(
    create=RECORD_OUTCOMES, actions={"bulk": RECORD_OUTCOMES, "import_csv": RECORD_OUTCOMES}
)  # append-only: corrections are new revisions
RECORD_COSTS = grant(product_owner=OWN)  # on data products
COSTS = AccessPolicy(
    create=RECORD_COSTS,
    update=RECORD_COSTS,
    destroy=RECORD_COSTS,
    actions={"bulk": RECORD_COSTS, "import_csv": RECORD_COSTS},
)
# Cloud bills are mapped to products by governance (DESIGN.md: "maps billing exports to products").
MAP_BILLS = grant(governance_lead=ALL)
COST_IMPORTS = AccessPolicy(create=MAP_BILLS, actions={"reapply": MAP_BILLS})
ALLOCATION_RULES = AccessPolicy(
    create=MAP_BILLS, update=MAP_BILLS, destroy=MAP_BILLS, actions={"reorder": MAP_BILLS, "preview": MAP_BILLS}
)
EXCHANGE_RATES = AccessPolicy(create=MAP_BILLS, update=MAP_BILLS, destroy=MAP_BILLS)
RECORD_USAGE = grant(product_owner=OWN)  # on data products
USAGE = AccessPolicy(create=RECORD_USAGE, destroy=RECORD_USAGE)
# DESIGN.md: a product owner places value bets on their own products; executives on any.
BETS = AccessPolicy(
    create=grant(executive=ALL, product_owner=OWN),
    update=grant(executive=ALL, product_owner=OWN),
    destroy=grant(executive=ALL, product_owner=OWN),
    actions={"settle": grant(governance_lead=ALL)},
)
EVALUATIONS = AccessPolicy(actions={"run": grant(governance_lead=ALL)})
EVALUATION_RUNS = READ_ONLY
POLICIES = AccessPolicy(
    create=grant(governance_lead=ALL), update=grant(governance_lead=ALL), destroy=grant(governance_lead=ALL)
)
ACT_ON_ALERTS = grant(governance_lead=ALL)
ALERTS = AccessPolicy(actions={"acknowledge": ACT_ON_ALERTS, "snooze": ACT_ON_ALERTS, "decide": ACT_ON_ALERTS})
DECISIONS = AccessPolicy(create=grant(governance_lead=ALL))
# Catalog files (apps.interchange): everyone with a role downloads an export; governance leads import.
DATA_PRODUCT_FILES = AccessPolicy(actions={"import_files": grant(governance_lead=ALL), "export_files": EVERY_ROLE})
PORTFOLIO = READ_ONLY
# Data sources are declared by admins; a Test runs a query for a KPI the user may set the source of.
DATA_SOURCES = AccessPolicy(actions={"test": grant(product_owner=ALL, governance_lead=ALL)})
PULL_RUNS = READ_ONLY
# The decision loop and readiness: portfolio-wide judgements for those who steer on them.
PORTFOLIO_INSIGHTS = AccessPolicy(read=grant(executive=ALL, governance_lead=ALL))
