from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alliance.core import crypto
from alliance.core.fields import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (and staff TOTP secrets) under the first key in "
        "FIELD_ENCRYPTION_KEYS. Put the new key first, run this, then remove the old key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        total = 0
        try:
            with transaction.atomic():
                for model, names in encrypted_fields():
                    # Batches by primary key rather than a server-side cursor: a cursor left
                    # open when a value fails to decrypt would poison the rolled-back transaction.
                    manager = model._base_manager
                    pks = list(manager.order_by("pk").values_list("pk", flat=True))
                    size = options["batch_size"]
                    for start in range(0, len(pks), size):
                        rows = manager.filter(pk__in=pks[start : start + size]).values_list(
                            "pk", *names
                        )
                        for pk, *values in rows:
                            # Reading decrypts with any configured key; writing encrypts with the newest.
                            updates = {
                                name: value
                                for name, value in zip(names, values, strict=True)
                                if value
                            }
                            if updates:
                                manager.filter(pk=pk).update(**updates)
                                total += len(updates)
                for auth in Authenticator.objects.filter(type=Authenticator.Type.TOTP):
                    secret = auth.data.get("secret", "")
                    if secret.startswith(crypto.PREFIX):
                        auth.data["secret"] = crypto.rotate(secret)
                        auth.save(update_fields=["data"])
                        total += 1
        except crypto.DecryptionError as exc:
            raise CommandError(f"Nothing was changed: {exc}.") from None
        self.stdout.write(f"Re-encrypted {total} values under the newest key.")
