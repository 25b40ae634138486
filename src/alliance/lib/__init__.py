"""Django-free helpers shared by the apps: charts, command-line plumbing, text and time zones.

Nothing here imports Django or an Alliance app (the import contract in pyproject.toml checks it),
so it is safe to use from `alliance.nlp`, the command-line tools and any app.
"""
