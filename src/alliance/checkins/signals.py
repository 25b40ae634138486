"""What the check-ins app tells the apps above it."""

from django.dispatch import Signal

# The client raised a concern about therapy (stored). Arguments: ``concern``. A receiver may
# link the concern to an alert or a rupture episode by updating it.
concern_raised = Signal()
