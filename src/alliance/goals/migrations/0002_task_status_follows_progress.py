from django.db import migrations


def status_follows_progress(apps, schema_editor):
    # Tasks written before the rule could read "To do, 100%" (the demo made them so).
    Task = apps.get_model("goals", "Task")
    Task.objects.filter(status="open", progress__gte=100).update(status="done")
    Task.objects.filter(status="done", progress__lt=100).update(status="open")


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0001_initial"),
    ]

    operations = [migrations.RunPython(status_follows_progress, migrations.RunPython.noop)]
