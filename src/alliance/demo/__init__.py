"""The ``alliance demo`` command: set up, seed and serve the demo clinic.

An app of its own at the top of the app graph, because the command reads the demo staff
(accounts) and clients (clients) to print their sign-ins. It has no models.
"""
