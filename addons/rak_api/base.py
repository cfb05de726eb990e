"""What every customer endpoint starts from.

``CustomerAPIView`` (and ``CustomerGenericView`` for lists): after the device token and the
permission, ``request.customer`` is the customer the call acts for — the account's own, or the
code client named in the ``X-Customer-Code`` header when the account linked it (issue 13,
rak_customer.selectors.customer_acting_for). Another customer's code is 404, as in the portal.
Objects are always looked up through ``request.customer`` (``get_object_or_404(Bill, pk=…,
customer=request.customer)``), never by id alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework import exceptions, generics
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from rak_api.errors import NOT_FOUND
from rak_customer.selectors import customer_acting_for

if TYPE_CHECKING:
    from rest_framework.request import Request

    from rak_customer.models import Customer

    #: the base of our APIView mixins, for the type checker only (object at run time)
    APIViewMixinBase = APIView

    class CustomerRequest(Request):
        """DRF's request once ``CustomerScopedMixin`` / ``OwnCustomerScopedMixin`` has set the
        customer the call acts for."""

        customer: Customer

else:
    APIViewMixinBase = object

_Row = TypeVar("_Row")


CUSTOMER_HEADER = "X-Customer-Code"


def request_customer(request):
    customer = customer_acting_for(request.user, code=request.headers.get(CUSTOMER_HEADER) or None)
    if customer is None:
        raise exceptions.NotFound(NOT_FOUND)
    return customer


class CustomerScopedMixin(APIViewMixinBase):
    if TYPE_CHECKING:
        request: CustomerRequest

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request.customer = request_customer(request)
        request._request.customer = request.customer  # noqa: SLF001  (services reading the plain request)


class CustomerAPIView(CustomerScopedMixin, APIView):
    pass


class CustomerGenericView(CustomerScopedMixin, generics.GenericAPIView):
    def paginate_queryset(self, queryset: QuerySet[Any, _Row] | Sequence[_Row]) -> list[_Row]:
        """A page: customer lists are paginated (``DEFAULT_PAGINATION_CLASS``), so never None."""
        page = super().paginate_queryset(queryset)
        if page is None:  # a view declaring pagination_class = None asked for a page
            raise ImproperlyConfigured(f"{type(self).__name__} has no pagination class")
        return page


class OwnCustomerScopedMixin(APIViewMixinBase):
    """The account's OWN customer whatever ``X-Customer-Code`` says: the profile, contacts, password,
    devices and change requests belong to the holder of the code client. A linked code's holder
    keeps control of their phone and e-mail (otherwise an account acting for a linked code could
    change its SMS phone, then take the holder's account over through « Mot de passe oublié »)."""

    if TYPE_CHECKING:
        request: CustomerRequest

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        customer = request_customer(request)  # a code in the header that is not the account's: 404
        if request.headers.get(CUSTOMER_HEADER):
            customer = customer_acting_for(request.user)  # a linked code named: back to the own one
        request.customer = customer
        request._request.customer = customer  # noqa: SLF001


class OwnCustomerAPIView(OwnCustomerScopedMixin, APIView):
    pass


class OwnCustomerGenericView(OwnCustomerScopedMixin, generics.GenericAPIView):
    pass


class PublicAPIView(APIView):
    """No token needed (login, registration, simulator, agencies, document verification); a token
    sent anyway is still checked (an expired one is 401)."""

    permission_classes = [AllowAny]
