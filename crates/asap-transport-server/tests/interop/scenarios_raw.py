"""Malformed requests, POSTed to /asap as raw bytes with httpx (each on a fresh connection),
and the answers parsed with the release's own JSON-RPC error model.

A scenario reports what came back (`status`, `content_type`, `body`); the Rust test holds
the expected codes. A JSON-RPC error that the release's `JsonRpcErrorResponse` model
refuses fails the scenario here.
"""

import json
from datetime import datetime, timedelta, timezone

import httpx

from asap.transport.jsonrpc import JsonRpcErrorResponse

from scenarios_common import Failure, check, task_request


def envelope():
    """A valid task.request envelope as the reference serializes it."""
    return task_request({"text": "hi"}).model_dump(mode="json")


def rpc(**changes):
    """An `asap.send` request with members replaced (a value of None removes the member)."""
    request = {"jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope()}}
    request["id"] = "req-1"
    for member, value in changes.items():
        if value is None:
            request.pop(member)
        else:
            request[member] = value
    return json.dumps(request).encode()


def with_envelope(**changes):
    """An `asap.send` request whose envelope has members replaced (None removes one)."""
    env = envelope()
    for member, value in changes.items():
        if value is None:
            env.pop(member)
        else:
            env[member] = value
    return rpc(params={"envelope": env})


async def post(base_url, body):
    # A new client per request: a fresh connection, and no proxy from the environment.
    async with httpx.AsyncClient(timeout=15.0, trust_env=False) as http:
        response = await http.post(
            f"{base_url.rstrip('/')}/asap",
            content=body,
            headers={"content-type": "application/json"},
        )
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    return {
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "body": answer,
        "sent_bytes": len(body),
    }


async def rpc_error(base_url, body):
    """POSTs `body` and checks that the answer is a JSON-RPC error response to the release."""
    details = await post(base_url, body)
    answer = details["body"]
    check(isinstance(answer, dict) and "error" in answer, f"not a JSON-RPC error: {details}")
    try:
        JsonRpcErrorResponse.model_validate(answer)
    except Exception as e:  # pydantic.ValidationError, with the offending member
        raise Failure(f"JsonRpcErrorResponse refuses the answer {answer}: {e}") from None
    return details


async def raw_parse_error(args):
    return await rpc_error(args.url, b'{"jsonrpc": "2.0", "method": ')


async def raw_batch_array(args):
    return await rpc_error(args.url, b"[" + rpc() + b"]")


async def raw_params_array(args):
    return await rpc_error(args.url, rpc(params=[envelope()]))


async def raw_missing_params(args):
    return await rpc_error(args.url, rpc(params=None))


async def raw_missing_envelope(args):
    return await rpc_error(args.url, rpc(params={}))


async def raw_unknown_method(args):
    return await rpc_error(args.url, rpc(method="asap.receive"))


async def raw_wrong_version(args):
    return await rpc_error(args.url, rpc(jsonrpc="1.0"))


async def raw_missing_jsonrpc(args):
    return await rpc_error(args.url, rpc(jsonrpc=None))


async def raw_missing_sender(args):
    return await rpc_error(args.url, with_envelope(sender=None))


async def raw_bad_sender_urn(args):
    return await rpc_error(args.url, with_envelope(sender="coordinator"))


async def raw_stale_timestamp(args):
    stale = datetime.now(timezone.utc) - timedelta(minutes=10)
    return await rpc_error(args.url, with_envelope(timestamp=stale.isoformat()))


async def raw_oversize(args):
    check(args.limit_url and args.limit, "raw_oversize needs --limit-url and --limit")
    # A well-formed request, padded to 1 KiB over the limit.
    body = rpc()
    padding = args.limit + 1024 - len(body)
    env = envelope()
    env["payload"]["input"] = {"text": "x" * max(padding, 0)}
    body = rpc(params={"envelope": env})
    check(len(body) > args.limit, f"body of {len(body)} bytes is not over {args.limit}")
    return await post(args.limit_url, body)


SCENARIOS = [
    raw_parse_error,
    raw_batch_array,
    raw_params_array,
    raw_missing_params,
    raw_missing_envelope,
    raw_unknown_method,
    raw_wrong_version,
    raw_missing_jsonrpc,
    raw_missing_sender,
    raw_bad_sender_urn,
    raw_stale_timestamp,
    raw_oversize,
]
