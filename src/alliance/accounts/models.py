"""People and clinics: users, clinics (the tenant), staff memberships and their roles."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_noop

from alliance.core.languages import active_language, base_code

# The defaults are in the catalogue: a clinic that keeps them gets them in each client's language
# without setting a translation (a clinic's own text is shown as written; see _crisis_text).
DEFAULT_CRISIS_RESOURCES = gettext_noop(
    "If you are in crisis or thinking about harming yourself, please reach out now:\n"
    "• Call or text 988 (Suicide & Crisis Lifeline, US), or chat at 988lifeline.org\n"
    "• In immediate danger, call 911\n"
    "• Outside the US, call your local emergency number"
)
DEFAULT_CRISIS_LINE = gettext_noop("Call or text 988, or call 911 in an emergency.")
# Where no clinic is known (a link that matches nothing), no country's numbers can be assumed.
GENERIC_CRISIS_LINE = gettext_noop("Contact your local crisis line or emergency number now.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: staff (with a Membership) or a client (with a ClientRecord).

    Clients have no usable password: they sign in by an emailed single-use link.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised on deliberate sign-out: part of every session's check, so every other session
    # of this person ends with it.
    sign_in_generation = models.PositiveIntegerField(default=0, editable=False)
    # A staff member's own language for pages and emails (a client's is on their record).
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def _get_session_auth_hash(self, secret: str | bytes | None = None) -> str:
        """Django checks every session against this on each request: a new password, a new
        email address or a sign-out elsewhere (``end_every_sign_in``) ends the session."""
        return salted_hmac(
            "alliance.accounts.User.session_auth_hash",
            f"{self.password}|{self.email}|{self.sign_in_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def end_every_sign_in(self) -> None:
        """End every other session of this person and void every sign-in link sent to them.

        Clients have no usable password, and django-sesame signs links with the stored
        (unusable) password: a fresh random one voids every link still in a mailbox.
        """
        self.sign_in_generation = models.F("sign_in_generation") + 1
        fields = ["sign_in_generation"]
        if not self.has_usable_password():
            self.set_unusable_password()
            fields.append("password")
        self.save(update_fields=fields)
        self.refresh_from_db(fields=["sign_in_generation"])

    @property
    def is_staff(self) -> bool:
        # Django's admin is not mounted; nobody is "staff" in Django's sense.
        return False

    @property
    def membership(self) -> Membership | None:
        cached = getattr(self, "_membership_cache", False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        membership = (
            Membership.objects.select_related("clinic").filter(user=self, is_active=True).first()
        )
        self._membership_cache = membership
        return membership

    @property
    def role(self) -> str | None:
        """ "admin", "supervisor", "therapist", "client" or None."""
        membership = self.membership
        if membership is not None:
            return membership.role
        if getattr(self, "client_record", None) is not None:
            return "client"
        return None

    @property
    def is_clinic_staff(self) -> bool:
        return self.membership is not None

    @property
    def clinic(self) -> Clinic | None:
        membership = self.membership
        if membership is not None:
            return membership.clinic
        record = getattr(self, "client_record", None)
        return record.clinic if record is not None else None


class Clinic(models.Model):
    """The tenant. Every clinical row carries its clinic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    crisis_resources = models.TextField(
        default=DEFAULT_CRISIS_RESOURCES,
        help_text="Shown to a client at once whenever an answer suggests risk.",
    )
    crisis_line = models.CharField(
        max_length=200,
        default=DEFAULT_CRISIS_LINE,
        help_text="One line on every client page, questionnaire page and reminder email "
        "(after \u201cIn crisis?\u201d). Use the numbers of your clients' country.",
    )
    staff_idle_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Automatic logoff for staff after this many idle minutes (empty: site default).",
    )
    # The crisis texts in other languages: {"es": {"crisis_line": "...", "crisis_resources":
    # "..."}}. The two fields above are the default-language texts and the fallback for any
    # language without its own; read them through crisis_line_for / crisis_resources_for.
    crisis_translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def _crisis_text(self, key: str, language: str | None) -> str:
        code = base_code(language) if language else active_language()
        own = (self.crisis_translations or {}).get(code) or {}
        text = str(own.get(key) or "").strip()
        if text:
            return text
        text = str(getattr(self, key))
        default = {"crisis_line": DEFAULT_CRISIS_LINE, "crisis_resources": DEFAULT_CRISIS_RESOURCES}
        if text == default[key]:  # the shipped default: the catalogue has it in every language
            with translation.override(code):
                return gettext(text)
        return text

    def crisis_line_for(self, language: str | None = None) -> str:
        """The one-line crisis pointer in ``language`` (default: the active language), falling
        back to the default-language line when the clinic has not set one for it."""
        return self._crisis_text("crisis_line", language)

    def crisis_resources_for(self, language: str | None = None) -> str:
        """The crisis resources text in ``language`` (default: the active language), with the
        same fallback as :meth:`crisis_line_for`."""
        return self._crisis_text("crisis_resources", language)


class Role(models.TextChoices):
    ADMIN = "admin", "Clinic admin"
    SUPERVISOR = "supervisor", "Supervisor"
    THERAPIST = "therapist", "Therapist"


STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.THERAPIST})
# The one definition of the clinical roles: the memberships that may sit on a care team and
# so see client records (alliance.clients.access). A clinic admin is not one of them.
CLINICAL_ROLES = frozenset({Role.SUPERVISOR, Role.THERAPIST})


class Membership(models.Model):
    """A staff member's place in a clinic. One active membership per person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role)
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="The zone this person reads times in; empty: the clinic's time zone.",
    )
    # The first-sign-in tour shows until the clinician dismisses it.
    tour_dismissed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_active=True), name="one_active_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"
