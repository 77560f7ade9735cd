"""`manage.py import_products` and `export_products`: a folder, a zip or one file in; a folder out."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest
import yaml
from django.core.management import CommandError, call_command

from apps.catalog.models import DataProduct, Lifecycle
from apps.interchange.validation import schema_problems
from tests import factories
from tests.apps.interchange.conftest import FIXTURES


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_a_folder_dry_run_then_for_real_then_export_again(tmp_path):
    factories.UserFactory(username="jdoe", email="john.doe@retailcorp.com")
    factories.UserFactory(username="platform")
    folder = tmp_path / "catalog"
    shutil.copytree(FIXTURES / "bitol", folder)
    (folder / "notes.txt").write_text("not a product")
    args = ("import_products", str(folder), "--format", "bitol", "--create-domains", "--owner", "platform")
    dry = _run(*args, "--dry-run", "--domain", "Platform")
    assert "Dry run (nothing stored): 2 created, 0 updated, 0 unchanged, 1 skipped." in dry
    assert "skipped   file [notes.txt]: not a .yaml or .yml file" in dry
    assert not DataProduct.objects.exists()
    assert "Imported: 2 created" in _run(*args, "--domain", "Platform")
    out_dir = tmp_path / "out"
    assert "Wrote 2 bitol file(s)" in _run("export_products", str(out_dir), "--format", "bitol")
    for file in out_dir.iterdir():
        assert schema_problems("bitol", file.name, yaml.safe_load(file.read_bytes())) == []
    assert "Imported: 0 created, 0 updated, 2 unchanged" in _run("import_products", str(out_dir), "--format", "bitol")


@pytest.mark.django_db
def test_import_a_zip_and_one_file(tmp_path):
    factories.UserFactory(username="jdoe")
    factories.DomainFactory(name="Marketing", slug="marketing")
    archive = tmp_path / "catalog.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(FIXTURES / "datahub/pet-of-the-week.yaml", "pet.yaml")
    assert "created   pet_of_the_week [pet.yaml]" in _run("import_products", str(archive), "--format", "datahub")
    one = FIXTURES / "datahub/orders-full.yaml"
    assert "created   orders_insights" in _run("import_products", str(one), "--format", "datahub")
    assert DataProduct.objects.get(slug="orders_insights").lifecycle == Lifecycle.ACTIVE


@pytest.mark.django_db
def test_a_bad_import_exits_non_zero_with_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1.0.0\nkind: DataProduct\nid: x\nstatus: beta\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        call_command("import_products", str(bad), "--format", "bitol", stdout=io.StringIO(), stderr=err)
    assert "bad.yaml: status: Unknown status 'beta'; accepted: proposed, draft" in err.getvalue()
    with pytest.raises(CommandError, match="refused"):
        call_command("import_products", str(tmp_path / "missing"), "--format", "bitol", stderr=io.StringIO())


@pytest.mark.django_db
def test_export_filters_and_a_bad_date(tmp_path):
    factories.DataProductFactory(slug="kept")
    factories.DataProductFactory(slug="gone", lifecycle=Lifecycle.RETIRED)
    _run("export_products", str(tmp_path), "--format", "odps4", "--lifecycle", "retired")
    assert [p.name for p in tmp_path.iterdir()] == ["gone.yaml"]
    with pytest.raises(CommandError, match="--decided-since"):
        call_command("export_products", str(tmp_path), "--decided-since", "soon")
