#!/usr/bin/env python3
"""Drive an ASAP server with the Python reference client (PyPI `asap-protocol`: 1.0.0, 0.5.0
or 0.1.0, whichever is installed in the interpreter running this script).

Usage:
    reference_client.py BASE_URL [SCENARIO ...]
        [--auth-url URL --token TOKEN --sender URN] [--nonce-url URL]
        [--limit-url URL --limit BYTES] [--list]

Runs the named scenarios (default: all) and prints one JSON object per line on stdout:

    {"meta": {"asap_protocol": "1.0.0", "python": "3.11.2", "httpx": "0.28.1",
              "capabilities": {"compression": true, "get_manifest": true, ...}}}
    {"scenario": "plain", "ok": true, "details": {...}}
    {"scenario": "gzip", "ok": false, "error": "...", "details": {...}}

Exit status: 0 when every scenario passed, 1 when one failed, 2 on bad usage.

Scenarios (scenarios_client.py: through `ASAPClient`; scenarios_raw.py: raw httpx requests):

| scenario              | server                                                          |
|-----------------------|-----------------------------------------------------------------|
| plain                 | BASE_URL: echo handler for `task.request`, rate limit off       |
| brotli, gzip          | BASE_URL (a >= 1 KiB body the client compresses; 1.0.0 only)    |
| batch                 | BASE_URL (`send_batch` of 10 envelopes; 1.0.0 only)             |
| manifest              | BASE_URL (into the release's Manifest model)                    |
| auth_manifest         | --auth-url: manifest `auth: {schemes: ["bearer"]}`              |
| auth_ok               | --auth-url, TOKEN valid                                         |
| auth_wrong_token      | --auth-url                                                      |
| auth_missing_token    | --auth-url                                                      |
| auth_sender_mismatch  | --auth-url                                                      |
| nonce_replay          | --nonce-url: server with nonce checking on                      |
| raw_*                 | BASE_URL: one malformed request each (see scenarios_raw.py)     |
| raw_oversize          | --limit-url: server whose request size limit is --limit bytes   |

--auth-url and --nonce-url default to BASE_URL. TOKEN must authenticate the agent URN given
by --sender. A scenario that the installed client cannot run (compression, `send_batch`
before 1.0.0) fails, saying so.

The reference client has no authentication option (PROTOCOL §11.1): the auth scenarios set
`Authorization` on the client's underlying `httpx.AsyncClient`, as its users must.
"""

import argparse
import asyncio
import json
import os
import platform
import sys
import traceback

# The reference logs through a handler bound to sys.stdout when it is first imported. Keep
# stdout for results only: point sys.stdout at stderr while the reference is imported and used.
RESULTS = sys.stdout
sys.stdout = sys.stderr
os.environ.setdefault("ASAP_LOG_LEVEL", "WARNING")

import httpx  # noqa: E402

from asap.transport.client import ASAPRemoteError  # noqa: E402

import scenarios_client  # noqa: E402
import scenarios_raw  # noqa: E402
from scenarios_common import CAPABILITIES, REFERENCE_VERSION, Failure  # noqa: E402

SCENARIOS = {f.__name__: f for f in scenarios_client.SCENARIOS + scenarios_raw.SCENARIOS}
# Per-scenario ceiling, well under the Rust test's timeout for the whole run.
SCENARIO_TIMEOUT = 20.0


def emit(obj):
    RESULTS.write(json.dumps(obj, default=str) + "\n")
    RESULTS.flush()


async def run(name, args):
    try:
        details = await asyncio.wait_for(SCENARIOS[name](args), SCENARIO_TIMEOUT)
        emit({"scenario": name, "ok": True, "details": details})
        return True
    except Failure as e:
        emit({"scenario": name, "ok": False, "error": str(e)})
    except Exception as e:  # the reference raised something unexpected
        text = f"{type(e).__name__}: {e}"
        if isinstance(e, ASAPRemoteError):
            text += f" data={json.dumps(e.data, default=str)}"
        emit({"scenario": name, "ok": False, "error": text, "traceback": traceback.format_exc()})
    return False


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", help="base URL of the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("scenarios", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--auth-url", help="server requiring bearer auth (default: URL)")
    parser.add_argument("--token", help="bearer token valid on --auth-url")
    parser.add_argument("--sender", help="agent URN that --token authenticates")
    parser.add_argument("--nonce-url", help="server checking nonces (default: URL)")
    parser.add_argument("--limit-url", help="server with a small request size limit")
    parser.add_argument("--limit", type=int, help="that server's limit in bytes")
    parser.add_argument("--list", action="store_true", help="print the scenario names")
    args = parser.parse_intermixed_args()
    if args.list:
        RESULTS.write("\n".join(SCENARIOS) + "\n")
        return 0
    if not args.url:
        parser.error("URL is required")
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")
    args.auth_url = args.auth_url or args.url
    args.nonce_url = args.nonce_url or args.url

    emit(
        {
            "meta": {
                "asap_protocol": REFERENCE_VERSION,
                "python": platform.python_version(),
                "httpx": httpx.__version__,
                "capabilities": CAPABILITIES,
            }
        }
    )
    ok = True
    for name in args.scenarios or list(SCENARIOS):
        ok &= await run(name, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
