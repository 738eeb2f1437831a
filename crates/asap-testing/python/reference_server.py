"""Run the reference ASAP server (PyPI asap-protocol) on 127.0.0.1 for interop tests.

Usage: reference_server.py PORT [--require-nonce]

Serves an echo agent `urn:asap:agent:echo-agent` with the reference's default handler
registry. Rate limiting is raised out of the way (ASAP_RATE_LIMIT is read when the server
module is imported, so it is set first).
"""

import os
import sys

os.environ.setdefault("ASAP_RATE_LIMIT", "100000/second")
os.environ.setdefault("ASAP_LOG_LEVEL", "ERROR")

import inspect  # noqa: E402

import uvicorn  # noqa: E402
from asap.models.entities import Capability, Endpoint, Manifest, Skill  # noqa: E402
from asap.transport import server  # noqa: E402


def main() -> None:
    port = int(sys.argv[1])
    require_nonce = "--require-nonce" in sys.argv[2:]
    manifest = Manifest(
        id="urn:asap:agent:echo-agent",
        name="Echo Agent",
        version="1.0.0",
        description="Echoes input",
        capabilities=Capability(
            asap_version="0.1",
            skills=[Skill(id="echo", description="Echo back the input")],
        ),
        endpoints=Endpoint(asap=f"http://127.0.0.1:{port}/asap"),
    )
    params = inspect.signature(server.create_app).parameters
    kwargs = {}
    if "rate_limit" in params:
        kwargs["rate_limit"] = os.environ["ASAP_RATE_LIMIT"]
    if require_nonce and "require_nonce" in params:
        kwargs["require_nonce"] = True
    app = server.create_app(manifest, **kwargs)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
