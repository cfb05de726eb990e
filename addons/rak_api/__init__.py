"""The REST API v1 of the mobile apps (issue 13): the portal's services behind device tokens.

Layer: at the top, beside the portal. It may use every addon's services and selectors and the
portal's forms and throttles, never the portal's views; no business logic lives here (a view
parses, calls one service or selector, serialises). docs/API.md explains auth, errors, pagination.
"""
