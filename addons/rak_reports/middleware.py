"""Portal usage counters for the adoption report (issue 14). Placeholder until the adoption part
lands: passes every request through unchanged."""


class PortalUsageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
