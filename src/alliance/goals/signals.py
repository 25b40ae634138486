"""What the goals app tells the apps above it."""

from django.dispatch import Signal

# The client said, again, that a task isn't working for them (the count reached
# ``NOT_WORKING_RUPTURE_SIGNAL``). Arguments: ``task`` and ``count``.
task_not_working = Signal()
