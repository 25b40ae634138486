from django.db import migrations


def name_the_goal_ranking_rule(apps, schema_editor):
    # Goal-ranking differences were filed under the session-rating disagreement rule; their
    # evidence says where they came from, so the rule can be named from it.
    Alert = apps.get_model("monitoring", "Alert")
    for alert in (
        Alert.objects.filter(kind="disagreement").only("pk", "rules", "evidence").iterator()
    ):
        sources = {entry.get("source") for entry in alert.evidence or []}
        rules = [r for r in alert.rules if r != "disagreement" or sources - {"goal_ranking"}]
        if "goal_ranking" in sources and "goal_ranking" not in rules:
            rules.append("goal_ranking")
        if rules != alert.rules:
            Alert.objects.filter(pk=alert.pk).update(rules=rules)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_episodes_settings_snooze_usefulness"),
    ]

    operations = [migrations.RunPython(name_the_goal_ranking_rule, migrations.RunPython.noop)]
