"""`python -m copilot metrics`: the Prometheus endpoint, a small HTTP server (127.0.0.1 by
default) showing what every process counted (copilot/core/metrics.py) and the queue depth.

Run it once per machine, beside the app, workers and API, all started with the same
`PROMETHEUS_MULTIPROC_DIR`; Prometheus scrapes http://HOST:9108/metrics.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from prometheus_client import start_http_server

from copilot.core.metrics import MULTIPROC_ENV, exposition_registry, multiprocess_dir
from copilot.core.ops_settings import OpsSettings
from copilot.core.settings import Settings

__all__ = ["add_metrics_command", "run_metrics"]


def add_metrics_command(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser(
        "metrics", help="serve Prometheus metrics (every process's counts and the queue "
                        "depth) until Ctrl-C")
    metrics.add_argument("--port", type=int, default=9108, help="port (default 9108)")
    metrics.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1: this machine only)")


def run_metrics(args: argparse.Namespace, settings: Settings) -> int:
    ops = settings.section(OpsSettings)
    registry = exposition_registry(ops.redis_url, ops.queues if ops.redis_url else ())
    server, thread = start_http_server(args.port, addr=args.host, registry=registry)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if not multiprocess_dir():
        print(f"warning: {MULTIPROC_ENV} is not set, so only this command's own (empty) "
              "counts are shown; set it for every process (README: Logs and metrics).",
              file=sys.stderr, flush=True)
    print(f"metrics on http://{args.host}:{server.server_port}/metrics", flush=True)
    stop.wait()
    server.shutdown()
    thread.join(timeout=5)
    return 0
