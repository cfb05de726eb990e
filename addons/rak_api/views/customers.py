"""Several codes clients in one account (issue 13), for the apps:

- ``GET /api/v1/customers/``: the account's own code client and the ones it linked; the app then
  sends ``X-Customer-Code: <code>`` on every other call to act for one of them (rak_api.base);
- ``POST /api/v1/customers/links/``: code client + CIN/ICE of its holder → a code by SMS to that
  customer's phone on file; answers a ``link_token`` to post back;
- ``POST /api/v1/customers/links/confirm/``: ``link_token`` + the code → the link;
- ``POST /api/v1/customers/links/resend/``: a new code for the same request;
- ``PATCH`` / ``DELETE /api/v1/customers/links/{id}/``: rename / remove a link.

The portal's throttles on the same keys (identity checks per address and per code client, SMS
limits), plus the per-account count of rak_customer.links. Services: rak_customer.links.
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from rak_api.base import CustomerAPIView, CustomerGenericView
from rak_api.throttles import Throttled
from rak_base import clock
from rak_base.sms_limits import sms_request_allow
from rak_customer import links
from rak_customer.selectors import customer_link_choices
from rak_customer.validators import InvalidIdentity, identity_normalize
from rak_portal.throttling import IDENTITY_CHECKS_WINDOW, identity_check_allowed, identity_check_refused_message

TAGS = ["Codes clients"]


class CustomerChoiceSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code client.")
    name = serializers.CharField(help_text="Nom du titulaire.")
    label = serializers.CharField(allow_blank=True, help_text="Libellé choisi par le compte (vide : aucun).")  # type: ignore[assignment]  # a declared field (DRF)
    own = serializers.BooleanField(help_text="Vrai : le code client du compte lui-même.")
    link_id = serializers.IntegerField(allow_null=True, help_text="Identifiant du rattachement (null : le sien).")
    linked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField(help_text="Vrai : le code client pour lequel cet appel agit.")


class CustomerChoicePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CustomerChoiceSerializer(many=True)


class LinkStartSerializer(serializers.Serializer):
    customer_code = serializers.CharField(max_length=12, help_text="Code client à rattacher (sur ses factures).")
    identity = serializers.CharField(max_length=20, help_text="CIN ou ICE du titulaire de ce code client.")
    label = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")  # type: ignore[assignment]  # a declared field (DRF)

    def validate_customer_code(self, value: str) -> str:
        value = value.strip().replace(" ", "")
        if not value or not value.isascii() or not value.isalnum():
            raise serializers.ValidationError(gettext("Le code client ne comporte que des chiffres et des lettres."))
        return value

    def validate_identity(self, value: str) -> str:
        try:
            return identity_normalize(value)[1]
        except InvalidIdentity as exc:
            raise serializers.ValidationError(exc.message) from exc


class LinkPendingSerializer(serializers.Serializer):
    link_token = serializers.CharField(help_text="À renvoyer avec le code reçu par SMS.")
    customer_code = serializers.CharField()
    phone_hint = serializers.CharField(help_text="Les deux derniers chiffres du numéro qui a reçu le code.")
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a declared field (DRF)
    expires_at = serializers.DateTimeField()


class LinkConfirmSerializer(serializers.Serializer):
    link_token = serializers.CharField(max_length=1000)
    otp = serializers.CharField(min_length=6, max_length=6, help_text="Le code à 6 chiffres reçu par SMS.")


class LinkResendSerializer(serializers.Serializer):
    link_token = serializers.CharField(max_length=1000)


class LinkLabelSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=60, allow_blank=True)  # type: ignore[assignment]  # a declared field (DRF)


def _choice_body(choice, active_code: str) -> dict:
    return {
        "code": choice.code,
        "name": choice.name,
        "label": choice.label,
        "own": choice.own,
        "link_id": choice.link_id,
        "linked_at": choice.linked_at,
        "active": choice.code == active_code,
    }


def _pending_body(pending: links.LinkPending) -> dict:
    return {
        "link_token": pending.token,
        "customer_code": pending.customer_code,
        "phone_hint": pending.phone_hint,
        "label": pending.label,
        "expires_at": pending.expires_at,
    }


class CustomerListView(CustomerGenericView):
    """The account's own code client, then the ones it linked (oldest first)."""

    @extend_schema(responses={200: CustomerChoicePageSerializer}, operation_id="customers_list", tags=TAGS)
    def get(self, request):
        choices = customer_link_choices(request.user, alone=True)
        page = self.paginate_queryset(choices)
        return self.get_paginated_response([_choice_body(choice, request.customer.code) for choice in page])


class LinkStartView(CustomerAPIView):
    """Step 1 of linking a code client: a code by SMS to the phone on file for that customer."""

    @extend_schema(
        request=LinkStartSerializer,
        responses={202: LinkPendingSerializer},
        operation_id="customer_links_start",
        tags=TAGS,
    )
    def post(self, request):
        data = LinkStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        links.customer_link_precheck(user=request.user, customer_code=values["customer_code"])
        if not identity_check_allowed(request._request, values["customer_code"], values["identity"]):  # noqa: SLF001
            raise Throttled(identity_check_refused_message(), wait=IDENTITY_CHECKS_WINDOW.total_seconds())
        now = clock.now()
        sms_request_allow(request._request, now=now)  # noqa: SLF001  (the portal's SMS limits)
        pending = links.customer_link_start(
            user=request.user,
            customer_code=values["customer_code"],
            identity=values["identity"],
            label=values.get("label", ""),
            now=now,
        )
        return Response(_pending_body(pending), status=status.HTTP_202_ACCEPTED)


class LinkResendView(CustomerAPIView):
    @extend_schema(
        request=LinkResendSerializer,
        responses={200: LinkPendingSerializer},
        operation_id="customer_links_resend",
        tags=TAGS,
    )
    def post(self, request):
        data = LinkResendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = clock.now()
        sms_request_allow(request._request, now=now)  # noqa: SLF001
        pending = links.customer_link_resend(user=request.user, token=data.validated_data["link_token"], now=now)
        return Response(_pending_body(pending))


class LinkConfirmView(CustomerAPIView):
    """Step 2: the code received by SMS → the code client is linked to the account."""

    @extend_schema(
        request=LinkConfirmSerializer,
        responses={201: CustomerChoiceSerializer},
        operation_id="customer_links_confirm",
        tags=TAGS,
    )
    def post(self, request):
        data = LinkConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = links.customer_link_confirm(
            user=request.user,
            token=data.validated_data["link_token"],
            otp_code=data.validated_data["otp"],
            now=clock.now(),
        )
        body = {
            "code": link.customer.code,
            "name": link.customer.display_name,
            "label": link.label,
            "own": False,
            "link_id": link.pk,
            "linked_at": link.linked_at,
            "active": False,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class LinkDetailView(CustomerAPIView):
    @extend_schema(
        request=LinkLabelSerializer,
        responses={200: CustomerChoiceSerializer},
        operation_id="customer_links_update",
        tags=TAGS,
    )
    def patch(self, request, link_id: int):
        data = LinkLabelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = links.customer_link_label_set(link_id=link_id, user=request.user, label=data.validated_data["label"])
        body = {
            "code": link.customer.code,
            "name": link.customer.display_name,
            "label": link.label,
            "own": False,
            "link_id": link.pk,
            "linked_at": link.linked_at,
            "active": link.customer.code == request.customer.code,
        }
        return Response(body)

    @extend_schema(request=None, responses={204: None}, operation_id="customer_links_delete", tags=TAGS)
    def delete(self, request, link_id: int):
        links.customer_link_unlink(link_id=link_id, user=request.user, by=request.user, now=clock.now())
        return Response(status=status.HTTP_204_NO_CONTENT)
