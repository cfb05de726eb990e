from rak_base.models import Message


def portal(request):
    """Header data: the unread notifications count (one indexed COUNT query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_customer", False):
        return {}
    return {"unread_count": Message.objects.for_user(user).unread().count()}
