from typing import Any

from django.apps import AppConfig


def _keep_this_session_after_email_change(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    """A new email address ends every session of the person (it is part of each session's
    check, User._get_session_auth_hash) except the one that made the change."""
    from django.contrib.auth import update_session_auth_hash

    if request is not None and getattr(request, "user", None) == user:
        update_session_auth_hash(request, user)


class AccountsConfig(AppConfig):
    name = "alliance.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.signals import email_changed

        email_changed.connect(
            _keep_this_session_after_email_change, dispatch_uid="alliance.accounts.email_changed"
        )
