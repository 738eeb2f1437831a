#!/usr/bin/env python3
"""Drive an ASAP server with the Python reference client (PyPI `asap-protocol` 1.0.0).

Usage:
    reference_client.py BASE_URL [SCENARIO ...]
        [--auth-url URL --token TOKEN --sender URN] [--nonce-url URL] [--list]

Runs the named scenarios (default: all) with the reference `ASAPClient` and prints one JSON
object per line on stdout:

    {"meta": {"asap_protocol": "1.0.0", "python": "3.11.2", "httpx": "0.28.1", "brotli": true}}
    {"scenario": "plain", "ok": true, "details": {...}}
    {"scenario": "gzip", "ok": false, "error": "AssertionError: ...", "details": {...}}

Exit status: 0 when every scenario passed, 1 when one failed, 2 on bad usage.

Scenarios and the server they need:

| scenario              | server                                                          |
|-----------------------|-----------------------------------------------------------------|
| plain                 | BASE_URL: echo handler for `task.request`, rate limit off       |
| brotli                | BASE_URL (a >= 1 KiB body, which the client compresses with br) |
| gzip                  | BASE_URL (same, with brotli hidden so the client falls back)    |
| batch                 | BASE_URL (`send_batch` of 10 envelopes)                         |
| manifest              | BASE_URL (`get_manifest()` into the reference Manifest model)   |
| auth_manifest         | --auth-url: manifest `auth: {schemes: ["bearer"]}`              |
| auth_ok               | --auth-url, TOKEN valid                                         |
| auth_wrong_token      | --auth-url                                                      |
| auth_missing_token    | --auth-url                                                      |
| auth_sender_mismatch  | --auth-url                                                      |
| nonce_replay          | --nonce-url: server with nonce checking on                      |

--auth-url and --nonce-url default to BASE_URL. TOKEN must authenticate the agent URN given
by --sender.

The reference client has no authentication option (PROTOCOL §11.1): the auth scenarios set
`Authorization` on the client's underlying `httpx.AsyncClient`, as its users must.
"""

import argparse
import asyncio
import importlib.metadata
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

import asap.transport.compression as compression  # noqa: E402
from asap.models.constants import ASAP_PROTOCOL_VERSION  # noqa: E402
from asap.models.entities import Manifest  # noqa: E402
from asap.models.envelope import Envelope  # noqa: E402
from asap.models.ids import generate_id  # noqa: E402
from asap.transport.client import ASAPClient, ASAPRemoteError  # noqa: E402

CLIENT_URN = "urn:asap:agent:interop-client"
SERVER_URN = "urn:asap:agent:interop-server"
# Per-scenario ceiling, well under the Rust test's timeout for the whole run.
SCENARIO_TIMEOUT = 20.0


class Failure(Exception):
    """A scenario check failed."""


def check(condition, message):
    if not condition:
        raise Failure(message)


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
    # Defaults of the reference client, except: plain http to 127.0.0.1 without the warning,
    # and a timeout below the scenario ceiling.
    return ASAPClient(url, require_https=False, timeout=15.0, transport=transport)


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


# --- scenarios ---------------------------------------------------------------------------


async def plain(args):
    transport = RecordingTransport()
    async with client_for(args.url, transport) as client:
        request = task_request({"message": "hello", "n": 7, "nested": {"ok": True}})
        response = await client.send(request)
    details = check_echo(request, response)
    sent = transport.requests[-1]
    check("content-encoding" not in sent["headers"], f"small body was compressed: {sent}")
    details["request_headers"] = sent["headers"]
    return details


def large_input():
    # > 1 KiB once serialized, compressible, with non-ASCII text (sent as \u escapes).
    return {
        "text": "The quick brown fox jumps over the lazy dog. " * 40,
        "unicode": "héllo wörld ✓ 日本語 🦀",
        "numbers": list(range(200)),
        "rows": [{"id": i, "name": f"row-{i}", "flag": i % 3 == 0} for i in range(30)],
    }


async def compressed_send(args, want_encoding):
    transport = RecordingTransport()
    async with client_for(args.url, transport) as client:
        request = task_request(large_input())
        response = await client.send(request)
    details = check_echo(request, response)
    sent = transport.requests[-1]
    encoding = sent["headers"].get("content-encoding")
    check(encoding == want_encoding, f"client sent Content-Encoding {encoding!r}")
    raw_len = len(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "asap.send",
                "params": {
                    "envelope": request.model_dump(mode="json"),
                    "idempotency_key": sent["headers"].get("x-idempotency-key"),
                },
                "id": "req-1",
            }
        ).encode()
    )
    check(raw_len >= 1024, f"uncompressed body only {raw_len} bytes")
    details.update(
        {
            "content_encoding": encoding,
            "accept_encoding": sent["headers"].get("accept-encoding"),
            "uncompressed_bytes": raw_len,
            "sent_bytes": sent["body_len"],
        }
    )
    return details


async def brotli(args):
    check(compression.is_brotli_available(), "brotli is not installed in this venv")
    return await compressed_send(args, "br")


async def gzip(args):
    # The client has no option to choose the algorithm; without the brotli package it falls
    # back to gzip (and advertises `gzip, identity`). Hide brotli for this scenario.
    saved = compression.is_brotli_available
    compression.is_brotli_available = lambda: False
    try:
        return await compressed_send(args, "gzip")
    finally:
        compression.is_brotli_available = saved


async def batch(args):
    async with client_for(args.url) as client:
        requests = [task_request({"index": i, "word": f"w{i}"}) for i in range(10)]
        responses = await client.send_batch(requests)
    check(len(responses) == 10, f"{len(responses)} responses for 10 requests")
    for i, (request, response) in enumerate(zip(requests, responses)):
        try:
            check_echo(request, response)
        except Failure as e:
            raise Failure(f"response {i}: {e}") from None
    return {
        "count": len(responses),
        "correlation_ids_in_order": [r.correlation_id for r in responses]
        == [r.id for r in requests],
    }


async def manifest(args):
    return await manifest_at(args.url)


async def auth_manifest(args):
    # The manifest is never authenticated (§11.1); the reference must parse `auth`.
    details = await manifest_at(args.auth_url)
    check(
        details["auth"] is not None and "bearer" in details["auth"]["schemes"],
        f"auth server manifest declares no bearer auth: {details['auth']}",
    )
    return details


async def manifest_at(base_url):
    url = f"{base_url.rstrip('/')}/.well-known/asap/manifest.json"
    async with client_for(base_url) as client:
        parsed = await client.get_manifest()
        cached = await client.get_manifest()
        raw = (await client._client.get(url)).json()
    check(isinstance(parsed, Manifest), f"not a Manifest: {type(parsed).__name__}")
    check(cached is parsed, "second get_manifest() did not come from the cache")
    check(parsed.id == raw["id"], f"id {parsed.id!r} != served {raw['id']!r}")
    check(parsed.name == raw["name"], f"name {parsed.name!r} != served {raw['name']!r}")
    check(
        parsed.version == raw["version"],
        f"version {parsed.version!r} != served {raw['version']!r}",
    )
    # The server serves every field, nulls included (§10.1): the reference model's own
    # serialization must give back exactly what was served.
    redumped = parsed.model_dump(mode="json")
    check(
        redumped == raw,
        f"reference re-serialization differs from the served manifest: "
        f"served {json.dumps(raw, sort_keys=True)} vs {json.dumps(redumped, sort_keys=True)}",
    )
    return {
        "id": parsed.id,
        "name": parsed.name,
        "version": parsed.version,
        "skills": [s.id for s in parsed.capabilities.skills],
        "asap_endpoint": parsed.endpoints.asap,
        "auth": parsed.auth.model_dump(mode="json") if parsed.auth else None,
    }


async def auth_send(args, token, sender):
    transport = RecordingTransport()
    async with client_for(args.auth_url, transport) as client:
        if token is not None:
            client._client.headers["Authorization"] = f"Bearer {token}"
        request = task_request({"secret": "payload"}, sender=sender)
        try:
            return request, await client.send(request), transport
        except ASAPRemoteError as e:
            return request, e, transport


def require_auth_args(args):
    check(args.token and args.sender, "auth scenarios need --token and --sender")


async def auth_ok(args):
    require_auth_args(args)
    request, response, transport = await auth_send(args, args.token, args.sender)
    check(
        not isinstance(response, ASAPRemoteError),
        f"valid token refused: {getattr(response, 'code', '')} {getattr(response, 'data', '')}",
    )
    sent = transport.requests[-1]["headers"]
    check(sent.get("authorization") == f"Bearer {args.token}", "Authorization not sent")
    return check_echo(request, response)


def check_remote_error(e, code, error, status_code):
    check(isinstance(e, ASAPRemoteError), f"expected a remote error, got {type(e).__name__}")
    details = remote_error_details(e)
    check(e.code == code, f"code {e.code}, want {code}: {details}")
    check(e.message == {-32600: "Invalid request", -32602: "Invalid params"}[code], str(details))
    check(e.data.get("error") == error, f"data.error {e.data.get('error')!r}, want {error!r}")
    check(
        e.data.get("status_code") == status_code,
        f"data.status_code {e.data.get('status_code')!r}, want {status_code}",
    )
    return details


async def auth_wrong_token(args):
    require_auth_args(args)
    _, e, _ = await auth_send(args, args.token + "-wrong", args.sender)
    return check_remote_error(e, -32600, "Invalid authentication token", 401)


async def auth_missing_token(args):
    require_auth_args(args)
    _, e, _ = await auth_send(args, None, args.sender)
    return check_remote_error(e, -32600, "Authentication required", 401)


async def auth_sender_mismatch(args):
    require_auth_args(args)
    _, e, _ = await auth_send(args, args.token, "urn:asap:agent:someone-else")
    return check_remote_error(e, -32602, "Sender does not match authenticated identity", 403)


async def nonce_replay(args):
    nonce = f"nonce-{generate_id()}"
    async with client_for(args.nonce_url) as client:
        first = task_request({"attempt": 1}, extensions={"nonce": nonce})
        details = {"first": check_echo(first, await client.send(first))}
        # The same envelope again, then a new envelope carrying the same nonce.
        replays = [first, task_request({"attempt": 2}, extensions={"nonce": nonce})]
        for name, replay in zip(["same_envelope", "same_nonce"], replays):
            e = await expect_remote_error(client.send(replay))
            info = remote_error_details(e)
            check(e.code == -32602, f"{name}: code {e.code}, want -32602: {info}")
            check(e.message == "Invalid params", f"{name}: {info}")
            check(e.data.get("error") == "Invalid envelope nonce", f"{name}: {info}")
            check(e.data.get("code") == "asap:protocol/invalid_nonce", f"{name}: {info}")
            check(
                (e.data.get("details") or {}).get("nonce") == nonce,
                f"{name}: details.nonce: {info}",
            )
            details[name] = info
        # A fresh nonce is still accepted.
        fresh = task_request({"attempt": 3}, extensions={"nonce": f"nonce-{generate_id()}"})
        details["fresh"] = check_echo(fresh, await client.send(fresh))
    return details


SCENARIOS = {
    f.__name__: f
    for f in [
        plain,
        brotli,
        gzip,
        batch,
        manifest,
        auth_manifest,
        auth_ok,
        auth_wrong_token,
        auth_missing_token,
        auth_sender_mismatch,
        nonce_replay,
    ]
}


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
                "asap_protocol": importlib.metadata.version("asap-protocol"),
                "python": platform.python_version(),
                "httpx": httpx.__version__,
                "brotli": compression.is_brotli_available(),
            }
        }
    )
    ok = True
    for name in args.scenarios or list(SCENARIOS):
        ok &= await run(name, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
