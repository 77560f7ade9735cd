"""Write a large synthetic FOCUS 1.0 billing export (csv or csv.gz) for tests and the benchmark.

    python scripts/focus_generate.py --lines 1000000 --out /tmp/focus.csv.gz [--months 2] [--seed 7]
        [--restated /tmp/focus-restated.csv.gz]

What it holds, on purpose: several billing accounts (AWS-, Azure- and Google-like) with sub
accounts; a few thousand resources, each with its own tags (`application`, `environment`,
`team`, written with stray spaces and mixed-case keys now and then; some resources untagged);
usage, tax and credit lines (credits negative); lines with EffectiveCost 0 but a BilledCost
(covered by a commitment); both timestamp forms and both enum casings. `--restated` also
writes the same bill with the last month restated (a few applications cost more), as a
provider rewrites the current month's export.

No Django: the file is plain FOCUS, readable by any tool.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

COLUMNS = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "EffectiveCost",
    "ListCost",
    "ProviderName",
    "ResourceId",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_SyntheticLine",
]
ACCOUNTS = [
    ("AWS", "111122223333", ["Amazon Elastic Compute Cloud", "Amazon Simple Storage Service", "Amazon Redshift"]),
    ("Microsoft", "/providers/Microsoft.Billing/billingAccounts/42", ["Virtual Machines", "Storage Accounts"]),
    ("Google Cloud", "0A1B2C-3D4E5F-6A7B8C", ["BigQuery", "Compute Engine", "Cloud Storage"]),
]
APPLICATIONS = [
    f"{name}-{kind}"
    for name in ("orders", "churn", "pricing", "fraud", "ledger", "search")
    for kind in ("etl", "api", "ml", "bi", "lake")
]
ENVIRONMENTS = ["prod", "dev", "staging"]
TEAMS = ["data-platform", "growth", "risk", "finance", "marketing"]


def _months(first: date, count: int) -> list[date]:
    months, month = [], first
    for _ in range(count):
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months


def _resources(rng: random.Random, count: int) -> list[dict]:
    resources = []
    for index in range(count):
        provider, account, services = ACCOUNTS[index % len(ACCOUNTS)]
        sub_account = f"{account[:6]}-sub-{index % 7}"
        tags: dict[str, str] = {}
        if rng.random() > 0.12:  # about one resource in eight is untagged
            keys = rng.choice([("application", "environment", "team"), (" Application", "Environment ", "team")])
            tags = {
                keys[0]: rng.choice(APPLICATIONS),
                keys[1]: rng.choice(ENVIRONMENTS),
                keys[2]: rng.choice(TEAMS),
            }
        resources.append(
            {
                "provider": provider,
                "account": account,
                "sub_account": sub_account,
                "service": rng.choice(services),
                "resource_id": f"{provider.lower().replace(' ', '-')}:{sub_account}:res-{index:06d}",
                "tags": json.dumps(tags) if tags else "",
                "application": tags.get(keys[0]) if tags else None,
                "scale": Decimal(str(round(rng.lognormvariate(0, 1.2), 4))),
            }
        )
    return resources


def _lines(rng: random.Random, lines: int, months: list[date], resources: list[dict], restate: bool) -> Iterator[list]:
    restated_apps = set(APPLICATIONS[::7])
    for number in range(lines):
        resource = resources[rng.randrange(len(resources))]
        month = months[number % len(months)]
        start = datetime(month.year, month.month, 1) + timedelta(hours=rng.randrange(24 * 28))
        end = start + timedelta(hours=1)
        next_month = _months(month, 2)[1]
        kind = rng.random()
        billed = (resource["scale"] * Decimal(str(round(rng.random(), 6)))).quantize(Decimal("0.0000000001"))
        category, effective, description = "Usage", billed, "Synthetic usage"
        if kind < 0.005:
            category, billed, description = "Credit", -billed * 3, "Synthetic credit"
            effective = billed
        elif kind < 0.02:
            category, description = "Tax", "Synthetic tax"
        elif kind < 0.25:
            effective = Decimal("0E-10")  # covered by a commitment: billed, but no effective cost
        if restate and month == months[-1] and resource["application"] in restated_apps:
            effective = effective * Decimal("1.1")
            billed = billed * Decimal("1.1")
        iso = rng.random() < 0.5
        stamp = "%Y-%m-%dT%H:%M:%SZ" if iso else "%Y-%m-%d %H:%M:%S"
        yield [
            billed,
            resource["account"],
            f"{resource['provider']} billing",
            "USD",
            month.strftime("%Y-%m-%d 00:00:00"),
            next_month.strftime("%Y-%m-%d 00:00:00"),
            category,
            description,
            rng.choice(["Usage-Based", "Usage-based", "usage-based"]),
            start.strftime(stamp),
            end.strftime(stamp),
            effective,
            billed,
            resource["provider"],
            resource["resource_id"],
            resource["service"],
            resource["sub_account"],
            f"Sub account {resource['sub_account'][-1]}",
            resource["tags"],
            number,
        ]


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=3)
    return open(path, "w", encoding="utf-8", newline="")


def generate(
    out: Path, *, lines: int, months: int = 2, seed: int = 7, resources: int = 3000, restate: bool = False
) -> Path:
    """Write the file; the same arguments write the same bill (a restated one differs in its last month only)."""
    rng = random.Random(seed)
    month_list = _months(date(2026, 1, 1), months)
    resource_list = _resources(rng, resources)
    rng = random.Random(seed + 1)
    with _open(out) as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(_lines(rng, lines, month_list, resource_list, restate))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True, help="a .csv or .csv.gz path")
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument("--resources", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--restated", type=Path, help="also write the bill with its last month restated here")
    args = parser.parse_args()
    generate(args.out, lines=args.lines, months=args.months, seed=args.seed, resources=args.resources)
    if args.restated:
        generate(
            args.restated, lines=args.lines, months=args.months, seed=args.seed, resources=args.resources, restate=True
        )


if __name__ == "__main__":
    main()
