from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """The client's data export; no models of its own."""

    name = "alliance.exports"
    label = "exports"
