def lockout_response(request, response, credentials, *args, **kwargs):
    return response
