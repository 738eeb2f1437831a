"""An MCP server written with the official Python SDK (2.x), served over stdio, for
`asap mcp` (our client) to talk to: a tool, a resource and a prompt."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("python-peer")


@server.tool()
def multiply(a: int, b: int) -> int:
    """Multiplies a by b."""
    return a * b


@server.resource("note://hello")
def hello() -> str:
    """A note."""
    return "hello from python"


@server.prompt()
def greet(name: str) -> str:
    """Greets someone."""
    return f"Say hello to {name}."


if __name__ == "__main__":
    server.run()
