"""What the measures app tells the apps above it. Receivers run inside the caller's
transaction, right after the response (or the alert) is stored."""

from django.dispatch import Signal

# A new scored response was stored (never on a double submit). Arguments: ``response``.
response_recorded = Signal()

# PHQ-9 item 9 was answered above 0 and a safety alert was opened or joined. Arguments:
# ``response``, ``alert`` and ``created`` (False when the answer joined an open alert).
safety_alert_raised = Signal()

# The client's open questionnaires are about to be listed (client page, client home). Arguments:
# ``client``. Receivers open what has fallen due on their side (check-in schedules of kind
# "instrument") so the list includes it.
questionnaires_due_check = Signal()
