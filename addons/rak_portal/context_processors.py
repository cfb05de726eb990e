from django.conf import settings

from rak_base.models import Message
from rak_portal.views.public import services_menu


def portal(request):
    """Header data: the services menu and the unread notifications count (one indexed COUNT, the
    copies of one event counted once)."""
    # a callable: the template calls it only where it lists the services (the menu's links are
    # cached, private_base.html), not on every page
    context = {"services": services_menu, "site_languages": settings.LANGUAGES}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_customer", False):
        context["unread_count"] = Message.objects.for_user(user).unread_events_count()
    return context
