"""What the interop scenarios share: the installed reference release and what its client can
do, result checks, and envelope builders.

Imported by reference_client.py after it has moved sys.stdout aside (see there).
"""

import importlib.metadata
import importlib.util
import inspect
import json

import httpx

from asap.models.constants import ASAP_PROTOCOL_VERSION
from asap.models.envelope import Envelope
from asap.models.ids import generate_id
from asap.transport.client import ASAPClient, ASAPRemoteError

#: The installed `asap-protocol` release (1.0.0, 0.5.0, 0.1.0, ...).
REFERENCE_VERSION = importlib.metadata.version("asap-protocol")

_CLIENT_PARAMETERS = inspect.signature(ASAPClient.__init__).parameters

#: What this release's client offers; older releases lack some of it:
#: 0.1.0 and 0.5.0 have no compression, `get_manifest` or `send_batch`, and 0.1.0 has no
#: `require_https` (it never refuses plain http).
CAPABILITIES = {
    "compression": importlib.util.find_spec("asap.transport.compression") is not None,
    "get_manifest": hasattr(ASAPClient, "get_manifest"),
    "send_batch": hasattr(ASAPClient, "send_batch"),
    "require_https": "require_https" in _CLIENT_PARAMETERS,
}

CLIENT_URN = "urn:asap:agent:interop-client"
SERVER_URN = "urn:asap:agent:interop-server"


class Failure(Exception):
    """A scenario check failed."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def require(capability):
    """Fails the scenario when this release's client lacks `capability`."""
    check(
        CAPABILITIES[capability],
        f"the asap-protocol {REFERENCE_VERSION} client has no {capability}",
    )


class RecordingTransport(httpx.AsyncBaseTransport):
    """The transport ASAPClient would build itself, recording every request it sends."""

    def __init__(self):
        self.inner = httpx.AsyncHTTPTransport(http2=True)
        self.requests = []

    async def handle_async_request(self, request):
        body = await request.aread()
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body_len": len(body),
            }
        )
        return await self.inner.handle_async_request(request)

    async def aclose(self):
        await self.inner.aclose()


def client_for(url, transport=None):
    """The reference client with its defaults, except: plain http to 127.0.0.1 without the
    warning (where the release has the option) and a timeout below the scenario ceiling."""
    options = {"timeout": 15.0, "transport": transport}
    if CAPABILITIES["require_https"]:
        options["require_https"] = False
    return ASAPClient(url, **options)


def task_request(input_, sender=CLIENT_URN, extensions=None):
    return Envelope(
        asap_version=ASAP_PROTOCOL_VERSION,
        sender=sender,
        recipient=SERVER_URN,
        payload_type="task.request",
        payload={"conversation_id": generate_id(), "skill_id": "echo", "input": input_},
        extensions=extensions,
    )


def check_echo(request, response):
    """The echo handler's answer: a completed task.response correlated to the request."""
    check(isinstance(response, Envelope), f"not an Envelope: {type(response).__name__}")
    check(
        response.payload_type == "task.response",
        f"payload_type {response.payload_type!r}, want 'task.response'",
    )
    check(
        response.correlation_id == request.id,
        f"correlation_id {response.correlation_id!r}, want request id {request.id!r}",
    )
    check(
        response.recipient == request.sender,
        f"recipient {response.recipient!r}, want {request.sender!r}",
    )
    payload = response.payload
    check(payload.get("status") == "completed", f"status {payload.get('status')!r}")
    result = payload.get("result") or {}
    echoed = result.get("echoed")
    check(
        echoed == request.payload["input"],
        f"result.echoed differs from the input: {json.dumps(echoed)[:200]}",
    )
    return {
        "request_id": request.id,
        "response_id": response.id,
        "correlation_id": response.correlation_id,
        "sender": response.sender,
        "status": payload.get("status"),
        "task_id": payload.get("task_id"),
    }


async def expect_remote_error(send):
    try:
        response = await send
    except ASAPRemoteError as e:
        return e
    raise Failure(f"expected a remote error, got a {response.payload_type} envelope")


def remote_error_details(e):
    return {"code": e.code, "message": e.message, "data": e.data}
