"""What monitoring asks of the apps above it (they connect in their ``AppConfig.ready``)."""

from django.dispatch import Signal

# Who supervises these therapists? Sent with ``clinic`` and ``therapist_ids``; each receiver
# returns a set of email addresses of active supervisors (supervision links). An unrepaired
# rupture goes to them, or to every supervisor of the clinic when no receiver names anyone.
supervisors_wanted = Signal()
