"""Scenarios driven through the reference `ASAPClient`: round trips, compression, batches,
the manifest, bearer auth and nonce replay.

Each scenario takes the parsed command-line arguments and returns its details (a JSON
object) or raises Failure.
"""

import json

from asap.models.entities import Manifest
from asap.models.ids import generate_id
from asap.transport.client import ASAPRemoteError

from scenarios_common import (
    CAPABILITIES,
    Failure,
    RecordingTransport,
    check,
    check_echo,
    client_for,
    expect_remote_error,
    remote_error_details,
    require,
    task_request,
)


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
    require("compression")
    import asap.transport.compression as compression

    check(compression.is_brotli_available(), "brotli is not installed in this venv")
    return await compressed_send(args, "br")


async def gzip(args):
    require("compression")
    import asap.transport.compression as compression

    # The client has no option to choose the algorithm; without the brotli package it falls
    # back to gzip (and advertises `gzip, identity`). Hide brotli for this scenario.
    saved = compression.is_brotli_available
    compression.is_brotli_available = lambda: False
    try:
        return await compressed_send(args, "gzip")
    finally:
        compression.is_brotli_available = saved


async def batch(args):
    require("send_batch")
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
    """The manifest through `get_manifest()` (cached) where the client has it; older clients
    have none, so their users GET it and parse it with the release's Manifest model."""
    url = f"{base_url.rstrip('/')}/.well-known/asap/manifest.json"
    async with client_for(base_url) as client:
        if CAPABILITIES["get_manifest"]:
            via = "get_manifest"
            parsed = await client.get_manifest()
            cached = await client.get_manifest()
            check(cached is parsed, "second get_manifest() did not come from the cache")
        else:
            via = "Manifest.model_validate"
            parsed = Manifest.model_validate((await client._client.get(url)).json())
        raw = (await client._client.get(url)).json()
    check(isinstance(parsed, Manifest), f"not a Manifest: {type(parsed).__name__}")
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
        "via": via,
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


SCENARIOS = [
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
