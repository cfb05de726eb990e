"""One module per request type (see ``base``). Importing this package registers every kind;
``RakRequestsConfig.ready`` imports it. Add a type: a module here, its import below, its seed rows."""

from rak_requests.kinds.base import (  # noqa: F401
    EmptyData,
    PhaseRule,
    RequestData,
    RequestKind,
    StaffAction,
    kind_by_slug,
    kind_for,
    kind_register,
    kinds_all,
)

# the modules register themselves on import (one line per type: subscription, connection,
# termination, refund, direct_debit, attestation, collective_meter)
# isort: off
from rak_requests.kinds import subscription  # noqa: E402, F401
from rak_requests.kinds import connection  # noqa: E402, F401
from rak_requests.kinds import attestation  # noqa: E402, F401
from rak_requests.kinds import termination  # noqa: E402, F401
from rak_requests.kinds import refund  # noqa: E402, F401
from rak_requests.kinds import direct_debit  # noqa: E402, F401
from rak_requests.kinds import collective_meter  # noqa: E402, F401
# isort: on
