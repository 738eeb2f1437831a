"""Drives an MCP server with the official Python SDK's client and prints what it saw.

Usage: python_client.py MODE COMMAND [ARGS...]

MODE is the SDK client's connect mode: "legacy" (the initialize handshake, revisions up to
2025-11-25) or "auto" (server/discover first, 2026-07-28, falling back to initialize).
COMMAND is the server to spawn over stdio, or the URL of a Streamable HTTP endpoint.
Prints one JSON object on stdout.
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError


def text_of(result):
    return [block.text for block in result.content if getattr(block, "type", "") == "text"]


async def error_of(call):
    try:
        await call
    except MCPError as error:
        return {"code": error.error.code, "message": error.error.message}
    return None


async def main(mode, command):
    if command[0].startswith("http://"):
        params = command[0]
    else:
        params = StdioServerParameters(command=command[0], args=command[1:])
    out = {}
    async with Client(params, mode=mode) as client:
        out["protocol_version"] = client.protocol_version
        info = client.server_info
        out["server"] = {"name": info.name, "version": info.version} if info else None
        tools = await client.list_tools()
        out["tools"] = sorted(tool.name for tool in tools.tools)
        out["echo_schema"] = next(t.input_schema for t in tools.tools if t.name == "echo")
        echo = await client.call_tool("echo", {"text": "hello"})
        out["echo"] = {"text": text_of(echo), "is_error": echo.is_error}
        added = await client.call_tool("add", {"a": 2, "b": 3.5})
        out["add"] = {"text": text_of(added), "is_error": added.is_error}
        out["unknown_tool"] = await error_of(client.call_tool("nope", {}))
        out["invalid_arguments"] = await error_of(client.call_tool("add", {"a": "two", "b": 3}))
        resources = await client.list_resources()
        out["resources"] = [str(r.uri) for r in resources.resources]
        read = await client.read_resource("demo://greeting")
        out["greeting"] = [c.text for c in read.contents]
        prompts = await client.list_prompts()
        out["prompts"] = [
            {"name": p.name, "arguments": [(a.name, a.required) for a in (p.arguments or [])]}
            for p in prompts.prompts
        ]
        prompt = await client.get_prompt("summarize", {"topic": "owls"})
        out["prompt"] = [(m.role, m.content.text) for m in prompt.messages]
        out["prompt_missing"] = await error_of(client.get_prompt("summarize", {}))
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
