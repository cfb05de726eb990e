"""gunicorn settings of rak-web.service (deploy/systemd): ``gunicorn --config
/opt/rak/deploy/gunicorn.conf.py config.wsgi:application``.

The listening socket comes from systemd (rak-web.socket, /run/rak/gunicorn.sock, only nginx may
connect); ``bind`` is used only when gunicorn is started by hand. ``RAK_WEB_WORKERS`` and
``RAK_WEB_THREADS`` (environment, e.g. /etc/rak/rak.env) size it: by default one process per CPU
(at least 2) × 4 threads — a page spends much of its time waiting for PostgreSQL.

``systemctl reload rak-web`` sends HUP: gunicorn starts new workers, which import the code afresh
(no preload), and stops the old ones once their requests are answered — an upgrade without a
refused request. SIGTERM (``systemctl stop``) lets running requests finish for ``graceful_timeout``.
"""

import multiprocessing
import os

bind = os.environ.get("RAK_BIND", "unix:/run/rak/gunicorn.sock")
workers = int(os.environ.get("RAK_WEB_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("RAK_WEB_THREADS", "4"))
preload_app = False  # HUP must load the new code
timeout = 60
graceful_timeout = 30  # < TimeoutStopSec of rak-web.service
keepalive = 5  # nginx keeps upstream connections open (upstream keepalive)
# recycle a worker now and then (memory held by one big report does not stay forever)
max_requests = 5000
max_requests_jitter = 500
# nginx logs every request (its access log); gunicorn's own messages go to the journal
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "rak-web"
# no control socket: it would be written under the home directory, read-only for the service
control_socket_disable = True
