"""Importing catalog files: read, validate, match, then write through the catalog's and KPIs' services.

All or nothing: every file is read and validated against its format's schema first; products
are matched on their id (the slug), owners on username or e-mail, domains on slug or name, goals
on slug, KPIs on (goal, name). Any problem in any file stops the import with every problem
listed and nothing stored. The writes run in one transaction; a dry run runs them too (so it
reports exactly what an import would do) and rolls them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import User
from apps.accounts.selectors import user_list_by_reference
from apps.catalog import services as catalog_services
from apps.catalog.models import BusinessGoal, DataProduct, Domain, Lifecycle
from apps.catalog.selectors import data_product_list_by_slug, domain_list_by_reference, goal_list_by_slug
from apps.interchange import bitol, datahub, odps4
from apps.interchange.files import FileProblem, Skipped, SourceFile, load_yaml
from apps.interchange.lifecycle import BITOL, DATAHUB, ODPS4
from apps.interchange.records import KpiRecord, ProductRecord, Reader, decimal_text
from apps.interchange.validation import schema_problems
from apps.kpis import services as kpi_services
from apps.kpis.models import KPI, CadenceChoices, Direction
from apps.kpis.selectors import kpi_list_of_goals

PARSERS = {BITOL: bitol.parse, ODPS4: odps4.parse, DATAHUB: datahub.parse}
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
_PLAIN_FIELDS = ("name", "description", "launched_on", "sunset_on")


@dataclass
class ProductOutcome:
    file: str
    slug: str
    outcome: str  # created, updated, unchanged
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    file_format: str
    dry_run: bool
    products: list[ProductOutcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    domains_created: list[str] = field(default_factory=list)

    def of(self, outcome: str) -> list[ProductOutcome]:
        return [product for product in self.products if product.outcome == outcome]

    @property
    def counts(self) -> dict[str, int]:
        return {
            CREATED: len(self.of(CREATED)),
            UPDATED: len(self.of(UPDATED)),
            UNCHANGED: len(self.of(UNCHANGED)),
            "skipped": len(self.skipped),
        }


class ImportFailed(Exception):
    """Some file is bad: `result.problems` lists every problem by file and field; nothing was stored."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("; ".join(str(problem) for problem in result.problems))
        self.result = result


class _Rollback(Exception):
    pass


def records_read(*, sources: Sequence[SourceFile], file_format: str) -> tuple[list[ProductRecord], list[FileProblem]]:
    """Each file loaded safely, validated against the format's schema and mapped to a ProductRecord."""
    if file_format not in PARSERS:
        raise ValueError(f"Unknown format {file_format!r}; accepted: {', '.join(PARSERS)}.")
    records: list[ProductRecord] = []
    problems: list[FileProblem] = []
    for source in sources:
        document, load_problems = load_yaml(source)
        if load_problems:
            problems.extend(load_problems)
            continue
        invalid = schema_problems(file_format, source.name, document)
        if invalid:
            problems.extend(invalid)
            continue
        reader = Reader(source.name)
        record = PARSERS[file_format](document, reader)
        problems.extend(reader.problems)
        if record is not None and not reader.problems:
            records.append(record)
    seen: dict[str, str] = {}
    for record in records:
        if record.slug in seen:
            problems.append(
                FileProblem(record.file, "id", f"The id {record.slug} is also the id in {seen[record.slug]}.")
            )
        seen.setdefault(record.slug, record.file)
    return records, problems


def products_import(
    *,
    sources: Sequence[SourceFile],
    file_format: str,
    skipped: Sequence[Skipped] = (),
    dry_run: bool = False,
    create_domains: bool = False,
    default_owner: str | None = None,
    default_domain: str | None = None,
) -> ImportResult:
    """Import the products of `sources` (all or nothing); ImportFailed lists every problem.

    `default_owner` and `default_domain` stand for files that name no owner or domain.
    With `dry_run` the result is what the import would do; nothing is stored.
    """
    result = ImportResult(file_format=file_format, dry_run=dry_run, skipped=list(skipped))
    records, problems = records_read(sources=sources, file_format=file_format)
    result.problems.extend(problems)
    for record in records:
        result.skipped.extend(record.skipped)
    if not sources:
        result.problems.append(FileProblem("(input)", "", "No .yaml or .yml file to import."))
    if result.problems:
        raise ImportFailed(result)
    try:
        with transaction.atomic():
            _Writer(result, create_domains=create_domains).write(
                records, default_owner=default_owner, default_domain=default_domain
            )
            if result.problems or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if result.problems:
        result.products = []
        raise ImportFailed(result)
    return result


class _Writer:
    """Resolves the references of all records in a few queries, then writes each record."""

    def __init__(self, result: ImportResult, *, create_domains: bool) -> None:
        self.result = result
        self.create_domains = create_domains
        self.today = timezone.localdate()

    def problem(self, record: ProductRecord, path: str, message: str) -> None:
        self.result.problems.append(FileProblem(record.file, path, message))

    def write(self, records: list[ProductRecord], *, default_owner: str | None, default_domain: str | None) -> None:
        for record in records:
            record.owner = record.owner or default_owner
            record.domain = record.domain or default_domain
        self.users = self._users({record.owner for record in records if record.owner})
        self.domains = self._domains(records)
        goal_slugs = {slug for record in records for slug in record.goals or []} | {
            kpi.goal for record in records for kpi in record.kpis or [] if kpi.goal
        }
        self.goals = goal_list_by_slug(slugs=goal_slugs)
        self.products = data_product_list_by_slug(slugs=[record.slug for record in records])
        self.kpis: dict[tuple[int, str], KPI] = {
            (kpi.goal_id, kpi.name): kpi for kpi in kpi_list_of_goals(goal_ids=[g.pk for g in self.goals.values()])
        }
        for record in records:
            self._check_references(record)
        if self.result.problems:
            return
        for record in records:
            try:
                with transaction.atomic():
                    self._write_record(record)
            except ValidationError as error:
                by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
                for name, messages in by_field.items():
                    for message in messages:
                        self.problem(record, "" if name == "__all__" else name, message)
            except IntegrityError as error:
                self.problem(record, "", f"The database refused the product: {error}".strip())

    # --- references -----------------------------------------------------------------------------

    def _users(self, references: set[str]) -> dict[str, User | None]:
        """Each reference's user; None when two users share the e-mail (ambiguous)."""
        found: dict[str, User | None] = {}
        users = list(user_list_by_reference(references=references))
        for reference in references:
            by_name = [user for user in users if user.username == reference]
            by_email = [user for user in users if user.email.lower() == reference.lower()]
            matches = by_name or by_email
            if matches:
                found[reference] = matches[0] if len(matches) == 1 else None
        return found

    def _domains(self, records: list[ProductRecord]) -> dict[str, Domain]:
        references = {record.domain for record in records if record.domain}
        domains = list(domain_list_by_reference(references=references))
        found: dict[str, Domain] = {}
        for reference in references:
            match = next((d for d in domains if d.slug == reference), None) or next(
                (d for d in domains if d.name.lower() == reference.lower()), None
            )
            if match is not None:
                found[reference] = match
        return found

    def _check_references(self, record: ProductRecord) -> None:
        existing = self.products.get(record.slug)
        if record.owner is None:
            if existing is None:
                self.problem(record, "owner", "The file names no owner; name one (or give a default owner).")
        elif record.owner not in self.users:
            self.problem(record, "owner", f"No user has the username or e-mail {record.owner!r}.")
        elif self.users[record.owner] is None:
            self.problem(record, "owner", f"More than one user has the e-mail {record.owner!r}; use a username.")
        if record.domain is None:
            if existing is None:
                self.problem(record, "domain", "The file names no domain; name one (or give a default domain).")
        elif record.domain not in self.domains and not self.create_domains:
            self.problem(
                record,
                "domain",
                f"No domain has the name or slug {record.domain!r}; create it first, or import with --create-domains.",
            )
        for slug in record.goals or []:
            if slug not in self.goals:
                self.problem(record, "goals", f"No goal has the slug {slug!r}.")
        for kpi in record.kpis or []:
            if kpi.goal not in self.goals:
                self.problem(record, f"{kpi.path}.goal", f"No goal has the slug {kpi.goal!r}.")

    def _domain(self, reference: str) -> Domain:
        if reference not in self.domains:
            slug = slugify(reference) or "domain"
            # "Marketing" and "marketing" in two files are one new domain.
            same = next(
                (d for d in self.domains.values() if d.slug == slug or d.name.lower() == reference.lower()), None
            )
            if same is None:
                same = catalog_services.domain_create(name=reference, slug=slug)
                self.result.domains_created.append(same.slug)
            self.domains[reference] = same
        return self.domains[reference]

    # --- writing one product ----------------------------------------------------------------------

    def _write_record(self, record: ProductRecord) -> None:
        product = self.products.get(record.slug)
        given = {name: value for name, value in record.fields.items() if value is not None}
        owner = self.users.get(record.owner) if record.owner else None
        domain = self._domain(record.domain) if record.domain else None
        goals = [self.goals[slug] for slug in record.goals] if record.goals is not None else None
        if product is None:
            product = self._create(record, given, owner=owner, domain=domain, goals=goals)
            outcome = ProductOutcome(record.file, record.slug, CREATED)
        else:
            outcome = ProductOutcome(record.file, record.slug, UNCHANGED)
            product = self._update(product, given, owner=owner, domain=domain, goals=goals, outcome=outcome)
        if goals is None and record.kpis:
            # A file that names a goal for its KPIs but no goal list: the product serves those goals.
            missing = [
                self.goals[kpi.goal]
                for kpi in record.kpis
                if kpi.goal and self.goals[kpi.goal] not in goals_of(product)
            ]
            if missing:
                unique = list(dict.fromkeys(missing))
                product = catalog_services.data_product_update(
                    data_product=product, goals=[*goals_of(product), *unique]
                )
                outcome.changes.append(f"goals: + {', '.join(goal.slug for goal in unique)}")
        for kpi in record.kpis or []:
            self._write_kpi(product, kpi, outcome)
        if outcome.outcome == UNCHANGED and outcome.changes:
            outcome.outcome = UPDATED
        self.result.products.append(outcome)

    def _create(
        self,
        record: ProductRecord,
        given: dict[str, Any],
        *,
        owner: User | None,
        domain: Domain | None,
        goals: list[BusinessGoal] | None,
    ) -> DataProduct:
        lifecycle = given.get("lifecycle", Lifecycle.PROPOSED)
        # A product is registered proposed or active; a deprecated or retired one then moves on, as governance would.
        first = (
            lifecycle
            if lifecycle in (Lifecycle.PROPOSED, Lifecycle.ACTIVE)
            else (Lifecycle.ACTIVE if lifecycle == Lifecycle.DEPRECATED else Lifecycle.PROPOSED)
        )
        assert owner is not None and domain is not None  # checked by _check_references
        product = catalog_services.data_product_create(
            name=given.get("name") or record.slug,
            slug=record.slug,
            domain=domain,
            owner=owner,
            description=given.get("description", ""),
            lifecycle=first,
            launched_on=given.get("launched_on"),
            sunset_on=given.get("sunset_on"),
            goals=goals or (),
        )
        if lifecycle != first:
            product = catalog_services.data_product_set_lifecycle(
                data_product=product, lifecycle=lifecycle, on=self.today, sunset_on=given.get("sunset_on")
            )
        self.products[record.slug] = product
        return product

    def _update(
        self,
        product: DataProduct,
        given: dict[str, Any],
        *,
        owner: User | None,
        domain: Domain | None,
        goals: list[BusinessGoal] | None,
        outcome: ProductOutcome,
    ) -> DataProduct:
        changes: dict[str, Any] = {}
        for name in _PLAIN_FIELDS:
            if name in given and getattr(product, name) != given[name]:
                changes[name] = given[name]
                outcome.changes.append(f"{name}: {getattr(product, name) or '-'} → {given[name]}")
        if owner is not None and owner.pk != product.owner_id:
            changes["owner"] = owner
            outcome.changes.append(f"owner → {owner.username}")
        if domain is not None and domain.pk != product.domain_id:
            changes["domain"] = domain
            outcome.changes.append(f"domain → {domain.slug}")
        if goals is not None and {g.pk for g in goals} != {g.pk for g in goals_of(product)}:
            changes["goals"] = goals
            outcome.changes.append(f"goals → {', '.join(g.slug for g in goals) or '-'}")
        lifecycle = given.get("lifecycle")
        if lifecycle is not None and lifecycle != product.lifecycle:
            outcome.changes.append(f"lifecycle: {product.lifecycle} → {lifecycle}")
        else:
            lifecycle = None
        if changes or lifecycle:
            product = catalog_services.data_product_update(data_product=product, lifecycle=lifecycle, **changes)
            self.products[product.slug] = product
        return product

    # --- KPIs and attributions ------------------------------------------------------------------

    def _write_kpi(self, product: DataProduct, record: KpiRecord, outcome: ProductOutcome) -> None:
        assert record.goal is not None
        goal = self.goals[record.goal]
        kpi = self.kpis.get((goal.pk, record.name))
        given = {name: value for name, value in record.fields.items() if value is not None}
        if kpi is None:
            missing = [name for name in ("unit", "target") if name not in given]
            if missing:
                raise ValidationError({record.path: f"A new KPI needs {' and '.join(missing)}."})
            for name, label in (("baseline", "baseline"), ("value_per_unit", "value per unit")):
                if name not in given:
                    self.result.skipped.append(
                        Skipped(outcome.file, f"{record.path}.{name}", f"no {label} given: 0 until someone sets it")
                    )
            kpi = kpi_services.kpi_create(
                goal=goal,
                name=record.name,
                unit=given["unit"],
                baseline=given.get("baseline", Decimal("0")),
                target=given["target"],
                value_per_unit=given.get("value_per_unit", Decimal("0")),
                direction=given.get("direction", Direction.INCREASE),
                cadence=given.get("cadence", CadenceChoices.MONTHLY),
                description=given.get("description", ""),
                target_date=given.get("target_date"),
            )
            self.kpis[(goal.pk, record.name)] = kpi
            outcome.changes.append(f"KPI {goal.slug}/{record.name} created")
        else:
            changed = {name: value for name, value in given.items() if getattr(kpi, name) != value}
            if changed:
                kpi = kpi_services.kpi_update(kpi=kpi, **changed)
                self.kpis[(goal.pk, record.name)] = kpi
                outcome.changes.append(f"KPI {goal.slug}/{record.name}: {', '.join(sorted(changed))}")
        self._attribute(product, kpi, record, outcome)

    def _attribute(self, product: DataProduct, kpi: KPI, record: KpiRecord, outcome: ProductOutcome) -> None:
        current = {a.data_product_id: a for a in kpi.attributions.all()}
        mine = current.get(product.pk)
        weight = record.weight if record.weight is not None else (mine.weight if mine else Decimal("1"))
        name = f"{kpi.goal.slug}/{kpi.name}"
        if mine is None or mine.weight != weight:
            entries = [(a.data_product, a.weight) for pk, a in current.items() if pk != product.pk]
            kpi_services.attributions_set(kpi=kpi, attributions=[*entries, (product, weight)])
            change = (
                f"weight {decimal_text(mine.weight)} → {decimal_text(weight)}"
                if mine
                else f"weight {decimal_text(weight)}"
            )
            outcome.changes.append(f"attribution to {name}: {change}")
        # The file states the attribution's credit terms in full: a term it leaves out is the default.
        terms = (mine.starts_on, mine.baseline) if mine else (None, None)
        if terms != (record.starts_on, record.attribution_baseline):
            kpi_services.attribution_set_credit_terms(
                kpi=kpi, data_product=product, starts_on=record.starts_on, baseline=record.attribution_baseline
            )
            outcome.changes.append(
                f"attribution to {name}: starts on {record.starts_on or '-'}, baseline "
                f"{decimal_text(record.attribution_baseline) or '-'}"
            )
        # Forget the prefetched attributions: the next file may attribute the same KPI.
        getattr(kpi, "_prefetched_objects_cache", {}).pop("attributions", None)


def goals_of(product: DataProduct) -> list[BusinessGoal]:
    return list(product.goals.all())
