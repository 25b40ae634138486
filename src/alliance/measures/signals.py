"""Signals the measures app sends; higher apps connect to them in ``AppConfig.ready()``."""

from django.dispatch import Signal

# Sent (with ``client``) just before a client's open questionnaires are listed, so an app that
# schedules questionnaires (check-ins) can open the ones now due. Receivers return nothing.
questionnaires_wanted = Signal()
