"""Complaints (réclamations): filing (public, logged in, from a bill, an incident), the thread,
the helpdesk's actions, SLA and escalation. Models in ``rak_requests.complaint_models``."""
