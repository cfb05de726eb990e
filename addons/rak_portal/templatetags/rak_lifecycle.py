"""``{% lifecycle_actions r %}``: the lifecycle block of a request's page (« Appeler », « Signer
en ligne », « Payer les frais », the signed contracts once paid, the installation orders)."""

from django import template

from rak_requests.lifecycle import lifecycle_state

register = template.Library()


@register.inclusion_tag("rak_portal/lifecycle/_actions.html")
def lifecycle_actions(service_request):
    return {"r": service_request, "state": lifecycle_state(service_request)}
