from django.db import migrations

from alliance.clients.consent_texts import TEXTS  # stable published text


def publish(apps, schema_editor):
    ConsentText = apps.get_model("clients", "ConsentText")
    for kind, body in TEXTS.items():
        ConsentText.objects.get_or_create(kind=kind, version=1, defaults={"body": body})


def unpublish(apps, schema_editor):
    apps.get_model("clients", "ConsentText").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]
    operations = [migrations.RunPython(publish, unpublish)]
