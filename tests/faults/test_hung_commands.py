"""Fault 1: a hung sync command never takes the threads every other command needs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from support import StartNode, http_call

PROGRAM = """
    import time
    from roost import App

    app = App("hung", command_timeout_s=1.5)

    @app.command
    def hang() -> None:
        time.sleep(10**6)  # a device call with no timeout

    @app.command
    def ping() -> str:
        return "pong"

    app.run()
"""


def test_eight_hung_calls_leave_other_commands_answering(start_node: StartNode) -> None:
    node = start_node(PROGRAM)
    with ThreadPoolExecutor(8) as pool:
        hung = [pool.submit(http_call, "POST", node.url + "/api/commands/hang", b"{}") for _ in range(8)]
        # While the hung calls hold their threads, another command still answers.
        assert http_call("POST", node.url + "/api/commands/ping", b"{}", timeout_s=5)[:2] == (
            200,
            {"result": "pong"},
        )
        replies = sorted((status, body["error"]["code"]) for status, body, _ in (f.result() for f in hung))
    assert replies == [(429, "too_many_requests")] * 4 + [(504, "command_timeout")] * 4
    status, body, _ = http_call("POST", node.url + "/api/commands/hang", b"{}")
    assert status == 429
    assert "4 calls in flight" in body["error"]["message"]
    health = http_call("GET", node.url + "/healthz")[1]
    assert health["status"] == "degraded"
    assert health["commands"]["stuck"] == {"hang": 4}
    # The stuck threads were replaced: the pool still serves other commands.
    for _ in range(10):
        assert http_call("POST", node.url + "/api/commands/ping", b"{}", timeout_s=5)[0] == 200
    metrics = http_call("GET", node.url + "/metrics")[1]["text"]
    assert 'roost_command_stuck{command="hang"} 4' in metrics
