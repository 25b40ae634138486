"""Client sign-in by emailed link: ask for an address, send a single-use link, sign in by it.

The pages and the email keep their templates under ``accounts/`` and their URL names.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from sesame.backends import ModelBackend as SesameBackend
from sesame.utils import get_query_string

from alliance.accounts import signin_limits
from alliance.accounts.models import User
from alliance.clients.forms import ClientSigninForm
from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.access import public
from alliance.core.languages import language_for, use_client_language


def send_client_signin_link(request: HttpRequest, user: User) -> None:
    link = request.build_absolute_uri(reverse("client_signin_link")) + get_query_string(user)
    # In the client's own language, whatever the browser that asked for the link prefers.
    with translation.override(language_for(user)):
        body = render_to_string(
            "accounts/email/client_signin.txt",
            {"link": link, "minutes": settings.CLIENT_LINK_MINUTES, "user": user},
        )
        subject = _("Your sign-in link")
    send_mail(subject, body, None, [user.email])


@public
def client_signin(request: HttpRequest) -> HttpResponse:
    """Ask for an email address and send a single-use sign-in link.

    The answer is the same whether or not the address is known, so the page never tells
    anyone who is a client here.
    """
    form = ClientSigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if signin_limits.may_send_link(email, audit.client_ip(request)):
            user = User.objects.filter(
                email=email,
                is_active=True,
                client_record__isnull=False,
                client_record__status=ClientRecord.Status.ACTIVE,
                memberships__isnull=True,
            ).first()
            if user is not None:
                send_client_signin_link(request, user)
        return redirect("client_signin_sent")
    return render(request, "accounts/client_signin.html", {"form": form})


@public
def client_signin_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/client_signin_sent.html", {"minutes": settings.CLIENT_LINK_MINUTES}
    )


@public
def client_signin_link(request: HttpRequest) -> HttpResponse:
    """The link from the email. GET shows a button; POST signs in.

    Mail scanners open links; only a deliberate press of the button uses up the token.
    """
    token = (request.POST if request.method == "POST" else request.GET).get(
        settings.SESAME_TOKEN_NAME, ""
    )
    if request.method == "POST":
        ip = audit.client_ip(request)
        owner = signin_limits.token_owner(token)
        paused_for_client = signin_limits.link_paused_for_client(owner)
        if paused_for_client or signin_limits.link_paused_for_ip(ip):
            return render(
                request,
                "accounts/client_link_paused.html",
                {"minutes": signin_limits.pause_minutes(), "for_client": paused_for_client},
                status=429,
            )
        # The sesame backend directly, not authenticate(): django-axes would file a failed
        # link under an empty username and lock every client out. Failures are counted per
        # client and per address by signin_limits instead.
        user = SesameBackend().authenticate(request, sesame=token) if token else None
        if (
            user is None
            or getattr(user, "client_record", None) is None
            or user.membership is not None
            or user.client_record.status != ClientRecord.Status.ACTIVE
        ):
            signin_limits.record_link_failure(owner, ip)
            return render(
                request,
                "accounts/client_link_invalid.html",
                {"form": ClientSigninForm(), "minutes": settings.CLIENT_LINK_MINUTES},
                status=400,
            )
        signin_limits.clear_link_failures(str(user.pk))
        # login() updates last_login, which invalidates this one-time token.
        login(request, user, backend="sesame.backends.ModelBackend")
        return redirect("client_home")
    if not token:
        return redirect("client_signin")
    # The link names its client: their page is in their language (the token is checked on POST;
    # a forged one only chooses the language of this one page).
    owner = signin_limits.token_owner(token)
    record = ClientRecord.objects.filter(user_id=owner).only("language").first() if owner else None
    if record is not None:
        use_client_language(request, record)
    return render(request, "accounts/client_link_confirm.html", {"token": token})
