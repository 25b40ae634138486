from django.db import migrations, models


def item9_unknown_where_unanswered(apps, schema_editor):
    # Rows stored before the field could be empty said False for "no item 9 answer"; the
    # scored result kept the truth (None when unanswered or not asked).
    Response = apps.get_model("measures", "Response")
    for response in Response.objects.filter(item9_positive=False).only("pk", "result").iterator():
        if (response.result or {}).get("item9_positive") is None:
            Response.objects.filter(pk=response.pk).update(item9_positive=None)


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="response",
            name="item9_positive",
            field=models.BooleanField(blank=True, default=None, null=True),
        ),
        migrations.RunPython(item9_unknown_where_unanswered, migrations.RunPython.noop),
    ]
