"""Log formatters (config/settings_observability.py): JSON lines (python-json-logger) in
production, plain text elsewhere. Both mask the traceback text too (``rak_base.redact``): an
exception's message can carry a phone number or a gateway URL with its query string.

One record, one line: what a request brings into a message (a 404's path, a header) may hold a
newline that would start a forged line of its own, or terminal escapes. JSON escapes them; the plain
format writes the control characters of the record's line escaped (« \\n », « \\x1b »); the
traceback under it keeps its lines."""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS as _RESERVED  # the LogRecord attributes left out
from pythonjsonlogger.json import JsonFormatter

from rak_base.redact import TRACEBACK_MAX_CHARS, clip, mask_text, mask_value


def _masked_default(value: Any) -> str:
    """An object the JSON encoder cannot write (a request given as ``extra``): its text, masked."""
    return mask_text(str(value))


class RakJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request id, and the ``extra`` fields."""

    def formatException(self, ei) -> str | list[str]:  # type: ignore[override]  # noqa: N802 - logging's name
        text = super().formatException(ei)
        if isinstance(text, str):
            return clip(mask_text(text), TRACEBACK_MAX_CHARS, keep_end=True)
        return [mask_text(line) for line in text]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("json_default", _masked_default)
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*_RESERVED, "rak_masked"])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return mask_value(super().process_log_record(log_data))


# C0 controls but the tab, DEL, C1 controls (« \x9b » is a terminal's CSI too) and the Unicode
# line and paragraph separators (str.splitlines and some viewers break lines there)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda match: match.group(0).encode("unicode_escape").decode("ascii"), text)


class RakPlainFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return clip(mask_text(super().formatException(ei)), TRACEBACK_MAX_CHARS, keep_end=True)
