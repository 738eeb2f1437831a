// Drives an MCP server with the official TypeScript SDK's client (@modelcontextprotocol/sdk
// 1.x, revisions up to 2025-11-25) and prints what it saw as one JSON object.
//
// Usage: node ts_client.mjs (stdio COMMAND ARGS... | http URL)
// The SDK is resolved from ASAP_MCP_NODE_MODULES (the node_modules directory holding it).

import { createRequire } from "node:module";
import path from "node:path";

const modules = process.env.ASAP_MCP_NODE_MODULES;
const require = createRequire(path.join(modules, "noop.js"));
const sdk = (p) => import(require.resolve(`@modelcontextprotocol/sdk/${p}`));

const { Client } = await sdk("client/index.js");
const [kind, ...target] = process.argv.slice(2);
let transport;
if (kind === "stdio") {
  const { StdioClientTransport } = await sdk("client/stdio.js");
  transport = new StdioClientTransport({ command: target[0], args: target.slice(1) });
} else {
  const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
  transport = new StreamableHTTPClientTransport(new URL(target[0]));
}

const errorOf = async (call) => {
  try {
    await call;
    return null;
  } catch (error) {
    return { code: error.code, message: error.message };
  }
};

const client = new Client({ name: "ts-sdk-probe", version: "1.0.0" });
await client.connect(transport);
const out = {};
out.server = client.getServerVersion();
out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
out.add = (await client.callTool({ name: "add", arguments: { a: 2, b: 3.5 } })).content;
out.unknown_tool = await errorOf(client.callTool({ name: "nope", arguments: {} }));
out.invalid_arguments = await errorOf(client.callTool({ name: "add", arguments: { a: "two", b: 3 } }));
out.greeting = (await client.readResource({ uri: "demo://greeting" })).contents;
out.prompt = (await client.getPrompt({ name: "summarize", arguments: { topic: "owls" } })).messages;
await client.close();
console.log(JSON.stringify(out));
