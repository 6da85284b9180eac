"""`python -m harness.gate --upstream URL --port N [--burst-seconds S]`: run the capacity gate in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys

from harness.gate.buckets import BURST_SECONDS
from harness.gate.proxy import serve_forever


def main(argv: list[str] | None = None) -> None:
    """Parse the options and serve until SIGINT, SIGTERM or SIGHUP; exit code 128 + the signal's number then."""
    parser = argparse.ArgumentParser(prog="python -m harness.gate", description="DynamoDB capacity emulation in front of DynamoDB Local")
    parser.add_argument("--upstream", required=True, help="the DynamoDB Local endpoint, e.g. http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=0, help="loopback port to listen on (0: any free port)")
    parser.add_argument("--burst-seconds", type=float, default=BURST_SECONDS, help="seconds of unused capacity a bucket keeps (DynamoDB: 300)")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    stopped_by = serve_forever(options.upstream, options.port, options.burst_seconds)
    sys.exit(128 + stopped_by if stopped_by else 0)


if __name__ == "__main__":
    main()
