from django.db import migrations


def create_default_policy(apps, schema_editor):
    EvaluationPolicy = apps.get_model("valuation", "EvaluationPolicy")
    EvaluationPolicy.objects.get_or_create(is_default=True, domain=None)


class Migration(migrations.Migration):
    dependencies = [("valuation", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
