"""GET/PUT /api/v1/notification-preferences/ and POST/DELETE /api/v1/push-subscriptions/ (issue 13):
the same matrix and services as the portal's « Mes notifications » (rak_customer.notification_preferences,
rak_base.push)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rak_api.base import CustomerAPIView
from rak_base import clock
from rak_base.notification_kinds import Category, Channel
from rak_base.push import PushSubscriptionInvalid, push_subscription_delete, push_subscription_save, vapid_public_key
from rak_customer.notification_preferences import customer_notification_matrix, customer_notification_preferences_set

TAGS = ["Notifications"]


class ChannelsSerializer(serializers.Serializer):
    SMS = serializers.BooleanField()
    EMAIL = serializers.BooleanField()
    PUSH = serializers.BooleanField()
    BELL = serializers.BooleanField()


class CategoryPreferenceSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Code de la catégorie (« BILLS », « OUTAGES »…).")
    label = serializers.CharField(help_text="Nom de la catégorie, dans la langue de la requête.")  # type: ignore[assignment]  # a declared field (DRF)
    help = serializers.CharField(allow_blank=True)
    always_sent = serializers.BooleanField(help_text="Messages obligatoires : toujours envoyés, non modifiables.")
    channels = ChannelsSerializer(help_text="Canal → activé.")


class PreferencesSerializer(serializers.Serializer):
    categories = CategoryPreferenceSerializer(many=True)
    push_available = serializers.BooleanField(help_text="Les notifications Web Push sont proposées (clés VAPID).")
    vapid_public_key = serializers.CharField(
        allow_blank=True, help_text="Clé applicationServerKey (vide : pas de push)."
    )


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only (not 0, 1, "yes"…), as the schema says."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class PreferenceChangeSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=[c for c in Category.values if c != Category.STAFF])
    channel = serializers.ChoiceField(choices=Channel.values)
    enabled = StrictBooleanField()


class PreferencesUpdateSerializer(serializers.Serializer):
    preferences = PreferenceChangeSerializer(  # type: ignore[call-arg]  # many=True: the ListSerializer takes max_length
        many=True,
        allow_empty=False,
        max_length=100,
        help_text="Les cases à changer ; les autres restent telles quelles.",
    )


def _body(user, customer) -> dict:
    key = vapid_public_key()
    return {
        "categories": [
            {
                "category": row.code,
                "label": row.label,
                "help": str(row.spec.help),
                "always_sent": row.always,
                "channels": {cell.channel: cell.enabled for cell in row.cells},
            }
            for row in customer_notification_matrix(user=user, customer=customer)
        ],
        "push_available": bool(key),
        "vapid_public_key": key,
    }


class NotificationPreferencesView(CustomerAPIView):
    """The customer's notification preferences: per category, each channel on or off."""

    @extend_schema(responses={200: PreferencesSerializer}, operation_id="notification_preferences_get", tags=TAGS)
    def get(self, request):
        return Response(_body(request.user, request.customer))

    @extend_schema(
        request=PreferencesUpdateSerializer,
        responses={200: PreferencesSerializer},
        operation_id="notification_preferences_update",
        tags=TAGS,
        description="Change des cases (catégorie × canal). Les catégories « toujours envoyé » ne peuvent pas "
        "être désactivées (400 « preference_locked »).",
    )
    def put(self, request):
        data = PreferencesUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choices = {(item["category"], item["channel"]): item["enabled"] for item in data.validated_data["preferences"]}
        customer_notification_preferences_set(
            user=request.user, customer=request.customer, choices=choices, now=clock.now()
        )
        return Response(_body(request.user, request.customer))


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200, help_text="Clé publique P-256 de l'abonnement (base64url).")
    auth = serializers.CharField(max_length=100, help_text="Secret d'authentification (base64url, 16 octets).")


class PushSubscribeSerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=1000, help_text="Adresse https du service push du navigateur.")
    keys = PushKeysSerializer()
    user_agent = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PushEndpointQuerySerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=1000)


class PushSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    created_at = serializers.DateTimeField()


def _invalid(error: PushSubscriptionInvalid) -> ValidationError:
    field = str(error.params.get("field") or "endpoint")
    if field in ("p256dh", "auth"):
        field = f"keys.{field}"
    return ValidationError({field: [error.message]})


class PushSubscriptionsView(CustomerAPIView):
    """Web Push subscriptions of the account (a browser's ``PushManager.subscribe()``)."""

    @extend_schema(
        request=PushSubscribeSerializer,
        responses={201: PushSubscriptionSerializer},
        operation_id="push_subscription_create",
        tags=TAGS,
    )
    def post(self, request):
        data = PushSubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            subscription = push_subscription_save(
                user=request.user,
                endpoint=values["endpoint"],
                p256dh=values["keys"]["p256dh"],
                auth=values["keys"]["auth"],
                user_agent=values.get("user_agent") or request.headers.get("User-Agent", ""),
                now=clock.now(),
            )
        except PushSubscriptionInvalid as error:
            raise _invalid(error) from None
        return Response(
            {"id": subscription.pk, "endpoint": subscription.endpoint, "created_at": subscription.created_at},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("endpoint", str, OpenApiParameter.QUERY, required=True, description="L'adresse abonnée.")
        ],
        request=None,
        responses={204: None},
        operation_id="push_subscription_delete",
        tags=TAGS,
    )
    def delete(self, request):
        query = PushEndpointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            push_subscription_delete(user=request.user, endpoint=query.validated_data["endpoint"])
        except PushSubscriptionInvalid as error:
            raise _invalid(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
