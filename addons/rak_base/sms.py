"""SMS backends. ``dev`` keeps messages readable (outbox + a file under var/); ``http`` talks to
the operator's HTTP API with requests, credentials and body template from rak.conf.

Each send carries ``reference``, the outbox message's own id (``RAK-<id>``), the same at every
attempt: delivery is at-least-once (a worker killed after the gateway's answer, before its
commit, sends again), and an operator that deduplicates on the client reference
(``{reference}`` in ``[sms] http_body_template``) drops the second copy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import requests
from django.conf import settings

from rak_base import clock
from rak_base.redact import mask_text


class SmsDeliveryError(Exception):
    """The gateway refused or could not be reached; the outbox retries later. Its text is kept on
    the message (``last_error``, shown to staff) and logged: never the number or the text sent
    (``_without_sent_text``, ``_safe_reason``)."""


def _safe_reason(text: str) -> str:
    """An error's text without what we sent: a URL's query string (GET puts the number and the
    text, a code among them, in it) cut off, phones, e-mails and codes masked."""
    return mask_text(re.sub(r"\?[^\s'\"]*", "?…", text))


def _without_sent_text(answer: str, text: str) -> str:
    """The gateway's answer without the message we sent: some gateways quote the text they refuse,
    and it holds a customer's name, an amount, a reference — logged by the outbox, where the masker
    catches phones and codes but no name. The whole text as sent (plain, JSON-escaped, URL-encoded)
    and then each of its words found in the answer (a gateway may quote it cut or re-wrapped) become
    « … »; the gateway's own words stay."""
    forms = {text, json.dumps(text, ensure_ascii=False)[1:-1], json.dumps(text)[1:-1], quote_plus(text), quote(text)}
    for form in sorted(forms, key=len, reverse=True):
        if form:
            answer = answer.replace(form, "…")
    words = {word for word in re.findall(r"\w{3,}", text) if not word.isdigit()}
    if words:
        answer = re.sub(r"\w{3,}", lambda match: "…" if match.group(0) in words else match.group(0), answer)
    return answer


@dataclass(frozen=True)
class SmsResult:
    provider_id: str = ""


class DevSmsBackend:
    """Development backend: appends each SMS to a file (one line per message)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or settings.SMS_DEV_FILE)

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> SmsResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": clock.now().isoformat(), "from": sender, "to": to, "text": text, "reference": reference},
            ensure_ascii=False,
        )
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return SmsResult(provider_id="dev")


class HttpSmsBackend:
    """Generic HTTP gateway: the body template gets {to}, {sender}, {text} and {reference} (the
    client reference the operator can deduplicate on; GET sends it as ``reference``)."""

    def __init__(self, options: dict | None = None, session: requests.Session | None = None) -> None:
        self.options: dict[str, Any] = options or settings.SMS_HTTP
        self.session = session or requests.Session()

    def _render(self, template: str, *, to: str, text: str, sender: str, reference: str = "") -> str:
        is_json = "json" in self.options.get("content_type", "")

        def esc(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1] if is_json else value

        # one pass, so a {placeholder} inside the customer's text is never replaced in turn
        values = {"{to}": to, "{sender}": sender, "{text}": text, "{reference}": reference}
        return re.sub(r"\{(?:to|sender|text|reference)\}", lambda match: esc(values[match.group(0)]), template)

    def send(self, *, to: str, text: str, sender: str, reference: str = "") -> SmsResult:
        opts = self.options
        body = self._render(opts["body_template"], to=to, text=text, sender=sender, reference=reference)
        auth = (opts["user"], opts["password"]) if opts.get("user") else None
        try:
            if opts.get("method", "POST") == "GET":
                response = self.session.get(
                    opts["url"],
                    params={"to": to, "text": text, "from": sender, "reference": reference},
                    auth=auth,
                    timeout=opts["timeout"],
                )
            else:
                response = self.session.post(
                    opts["url"],
                    data=body.encode("utf-8"),
                    auth=auth,
                    timeout=opts["timeout"],
                    headers={"Content-Type": opts.get("content_type", "application/json")},
                )
        except requests.RequestException as exc:
            raise SmsDeliveryError(f"passerelle SMS injoignable: {_safe_reason(str(exc))}") from exc
        if response.status_code >= 300:
            # the gateway's answer may quote the number and the text it refused
            reason = _safe_reason(_without_sent_text(response.text[:2000], text)[:200])
            raise SmsDeliveryError(f"passerelle SMS: HTTP {response.status_code} {reason}")
        provider_id = ""
        try:
            payload = response.json()
            if isinstance(payload, dict):
                provider_id = str(payload.get("id") or payload.get("message_id") or "")
        except ValueError:
            provider_id = response.text[:100].strip()
        return SmsResult(provider_id=provider_id)


def get_sms_backend():
    if settings.SMS_BACKEND == "http":
        return HttpSmsBackend()
    return DevSmsBackend()
