"""Resume after a dropped connection: exactly the missed changes, or a snapshot when they are gone."""

from __future__ import annotations


async def test_websocket_resumes_with_exactly_the_missed_changes(start_live, probes) -> None:
    app = await start_live()
    for i in range(5):
        app.state[f"k{i}"] = i
    first = await probes.ws(app)
    await first.next()
    held, boot = first.view.seq, first.view.boot
    await first.close()
    for i in range(3, 9):  # k3, k4 change; k5..k8 are new; k0 goes
        app.state[f"k{i}"] = i * 10
    del app.state["k0"]
    again = await probes.ws(app, f"?since={held}&boot={boot}")
    again.view.tree, again.view.seq = first.view.tree, held
    msg = await again.next()
    assert msg["type"] == "change"
    assert (msg["since"], msg["seq"]) == (held, app.state.seq)
    assert msg["changes"] == {f"k{i}": i * 10 for i in range(3, 9)}
    assert msg["removed"] == ["k0"]
    assert again.view.tree == app.state.to_dict()


async def test_sse_resumes_from_last_event_id(start_live, probes) -> None:
    app = await start_live()
    app.state["a"] = 1
    first = await probes.sse(app)
    await first.next()
    app.state["a"] = 2
    await first.until_seq(2)
    last_id = first.last_event_id
    assert last_id == f"{app.live.boot}:2"
    await first.close()
    app.state["b"] = 3
    app.state["a"] = 4
    again = await probes.sse(app, last_event_id=last_id)
    again.view.tree, again.view.seq = first.view.tree, 2
    msg = await again.next()
    assert msg == {"type": "change", "seq": 4, "since": 2, "changes": {"b": 3, "a": 4}}
    assert again.last_event_id == f"{app.live.boot}:4"


async def test_resume_with_nothing_missed_sends_nothing_until_the_next_change(start_live, probes) -> None:
    app = await start_live()
    app.state["a"] = 1
    probe = await probes.ws(app, f"?since=1&boot={app.live.boot}")
    probe.view.tree, probe.view.seq = {"a": 1}, 1
    app.state["a"] = 2
    msg = await probe.next()
    assert msg == {"type": "change", "seq": 2, "since": 1, "changes": {"a": 2}}


async def test_changes_no_longer_buffered_give_a_snapshot(start_live, probes) -> None:
    app = await start_live()
    app.state["a"] = 0
    for n in range(5000):  # more than the ring buffer's 4096 changes
        app.state["counter"] = n
    msg = await (await probes.ws(app, f"?since=1&boot={app.live.boot}")).next()
    assert msg["type"] == "snapshot"
    assert msg["state"] == {"a": 0, "counter": 4999}


async def test_a_seq_from_another_boot_gives_a_snapshot(start_live, probes) -> None:
    # After a restart seqs start over, so seq 1 of the old run means nothing now.
    app = await start_live()
    app.state["a"] = 1
    app.state["a"] = 2
    ws_msg = await (await probes.ws(app, "?since=1&boot=0ldb00t0")).next()
    sse_msg = await (await probes.sse(app, last_event_id="0ldb00t0:1")).next()
    assert ws_msg["type"] == sse_msg["type"] == "snapshot"


async def test_a_seq_ahead_of_the_server_gives_a_snapshot(start_live, probes) -> None:
    app = await start_live()
    app.state["a"] = 1
    msg = await (await probes.ws(app, "?since=999")).next()
    assert msg["type"] == "snapshot"
    assert msg["seq"] == 1


async def test_a_bad_since_is_a_json_400(start_live, probes) -> None:
    app = await start_live()
    async with probes.session.get(f"{app.url}/api/events?since=abc") as response:
        assert response.status == 400
        body = await response.json()
    assert body["error"]["code"] == "bad_request"
