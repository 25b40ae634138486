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
        from allauth.mfa.models import Authenticator

        total = 0
        try:
            with transaction.atomic():
                for model, names in encrypted_fields():
                    # Reading decrypts with any configured key; writing encrypts with the newest.
                    rows = model._base_manager.values_list("pk", *[f"{n}" for n in names])
                    for row in rows.iterator(chunk_size=options["batch_size"]):
                        pk, values = row[0], row[1:]
                        updates = {
                            name: value
                            for name, value in zip(names, values, strict=True)
                            if value
                        }
                        if updates:
                            # Saving re-encrypts under the newest key.
                            model._base_manager.filter(pk=pk).update(**updates)
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
