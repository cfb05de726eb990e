"""The bell (« Notifications ») in the API: each notice once, as the portal's page shows it
(rak_base.bell: the copies of one event — SMS, e-mail, bell — are one line naming its channels),
read or unread; mark one read (every copy of it), mark all read. Another account's notice is 404.

- GET  /notifications/                 paginated, newest first, with ``unread_count``
- GET  /notifications/unread-count/    the badge
- POST /notifications/{id}/read/       mark one read
- POST /notifications/read-all/        mark all read

Notices belong to the signed-in account (not to the code client it acts for).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from rak_api.pagination import RakPagination
from rak_api.serializers_complaints import (
    NotificationPageSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    UnreadCountSerializer,
)
from rak_base import clock
from rak_base.bell import (
    bell_lines_for,
    bell_mark_all_read,
    bell_mark_read,
    bell_queryset,
    bell_unread_count,
)

TAGS = ["Notifications"]


class NotificationListView(generics.GenericAPIView):
    pagination_class = RakPagination

    @extend_schema(responses={200: NotificationPageSerializer}, operation_id="notifications_list", tags=TAGS)
    def get(self, request):
        page = self.paginate_queryset(bell_queryset(request.user))
        lines = bell_lines_for(request.user, page)
        response = self.get_paginated_response(NotificationSerializer(lines, many=True).data)
        response.data["unread_count"] = bell_unread_count(request.user)
        return response


class NotificationUnreadCountView(generics.GenericAPIView):
    @extend_schema(responses={200: UnreadCountSerializer}, operation_id="notifications_unread_count", tags=TAGS)
    def get(self, request):
        return Response({"unread_count": bell_unread_count(request.user)})


class NotificationReadView(generics.GenericAPIView):
    metadata_class = None  # OPTIONS: 405 (only POST is documented)

    @extend_schema(
        request=None, responses={200: NotificationReadSerializer}, operation_id="notifications_mark_read", tags=TAGS
    )
    def post(self, request, pk: int):
        message = bell_mark_read(user=request.user, message_id=pk, now=clock.now())
        if message is None:
            raise Http404
        return Response({"id": message.pk, "unread": False, "unread_count": bell_unread_count(request.user)})


class NotificationReadAllView(generics.GenericAPIView):
    metadata_class = None  # OPTIONS: 405 (only POST is documented)

    @extend_schema(
        request=None, responses={200: UnreadCountSerializer}, operation_id="notifications_mark_all_read", tags=TAGS
    )
    def post(self, request):
        bell_mark_all_read(user=request.user, now=clock.now())
        return Response({"unread_count": bell_unread_count(request.user)})
