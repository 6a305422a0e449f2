#!/usr/bin/env python3
"""Call one tool of `anvil mcp` from the shell, the way an MCP client does.

    scripts/mcp_call.py TOOL '{"json": "arguments"}'  [-- extra anvil options]

Starts `anvil [options] mcp` (ANVIL env: the binary, default build/release/src/anvil),
sends initialize, notifications/initialized and one tools/call over stdio as
newline-delimited JSON-RPC, prints the tool's result (structuredContent, else the
text) and exits 0, or 1 when the result says isError, 2 on a protocol error.
Standard library only: usable wherever anvil runs.
"""
import json
import os
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    tool, arguments = sys.argv[1], json.loads(sys.argv[2])
    extra = sys.argv[4:] if len(sys.argv) > 3 and sys.argv[3] == "--" else []
    anvil = os.environ.get("ANVIL", "build/release/src/anvil")
    proc = subprocess.Popen([anvil, *extra, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(message):
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def receive(want_id):
        for line in proc.stdout:
            message = json.loads(line)
            if message.get("id") == want_id:
                return message
            if message.get("method") == "notifications/progress":
                p = message["params"]
                print(f"progress {p.get('progress')}/{p.get('total')} {p.get('message', '')}", file=sys.stderr)
        raise SystemExit("anvil mcp closed its output before answering")

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                     "clientInfo": {"name": "mcp_call.py", "version": "1"}}})
    receive(1)
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
          "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": "cli"}}})
    reply = receive(2)
    proc.stdin.close()
    proc.wait(timeout=60)
    if "error" in reply:
        print(json.dumps(reply["error"], indent=2))
        return 2
    result = reply["result"]
    body = result.get("structuredContent")
    print(json.dumps(body, indent=2) if body is not None else result["content"][0]["text"])
    return 1 if result.get("isError") else 0


if __name__ == "__main__":
    sys.exit(main())
