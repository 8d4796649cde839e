"""The real bolt App behind waitress, fed signed Slack payloads, against the fake Slack Web API.

Requests are signed exactly as Slack signs them; nothing in bolt or slack_sdk is patched.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import waitress

from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.server import SlackWsgiApp
from tests.conftest import WorkerProcess
from tests.fake_slack import (
    BOT_ID,
    SECRET,
    TOKEN,
    FakeSlack,
    FakeSlackServer,
    bot_message_event,
    command_body,
    delete_event,
    edit_event,
    envelope,
    mention_event,
    message_event,
    shortcut_payload,
    sign,
)
from tests.fakes import calls_key
from workers.embedded import EmbeddedRedis
from workers.preferences import ChannelSettings
from workers.runtime import Runtime, configure

pytestmark = pytest.mark.integration


@dataclass
class Endpoint:
    url: str
    fake: FakeSlack
    runtime: Runtime
    settings: Settings

    def post(
        self,
        body: str,
        *,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        content_type: str = "application/json",
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {})}
        all_headers.update(headers or {})
        request = urllib.request.Request(self.url, data=body.encode(), headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def event(self, payload: dict[str, Any], **kw: Any) -> tuple[int, str]:
        return self.post(json.dumps(payload), **kw)

    def command(self, text: str, **kw: Any) -> tuple[int, str]:
        body = command_body(text, response_url=f"{self.fake.url[:-4]}respond/cmd", **kw)
        return self.post(body, content_type="application/x-www-form-urlencoded")


def queued(client: redis.Redis, queue: str = "models") -> list[dict[str, Any]]:
    """The kwargs of tasks waiting in a Celery queue."""
    out = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        out.append(kwargs)
    return out


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def endpoint(make_settings: Callable[..., Settings]) -> Iterator[Endpoint]:
    with FakeSlackServer() as fake:
        fake.users["UADMIN"] = {"is_admin": True}
        settings = make_settings(
            slack_api_url=fake.url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_channel_interval=0.0,
            slack_admin_usergroup="S0001",
        )
        fake.groups["S0001"] = ["UGROUP"]
        runtime = configure(settings)

        def kb_search(query: str, k: int) -> Sequence[Mapping[str, Any]]:
            return [{"title": "Reset guide", "url": "https://kb.io/reset", "text": "Hold 5 s"}]

        app = build_app(settings, runtime, kb_search=kb_search)
        server = waitress.create_server(
            SlackWsgiApp(app, settings.slack_path), host="127.0.0.1", port=0, threads=4
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.effective_port}{settings.slack_path}"  # type: ignore[union-attr]
        yield Endpoint(url, fake, runtime, settings)
        server.close()


def test_mention_answered_once_in_its_thread_despite_retries_double_events_and_429(
    endpoint: Endpoint, redis_client: redis.Redis, start_worker: Callable[..., WorkerProcess]
) -> None:
    fake = endpoint.fake
    fake.fail_next("chat.postMessage", retry_after=1)
    start_worker(
        PARLEY_SLACK_API_URL=fake.url,
        PARLEY_SLACK_BOT_TOKEN=TOKEN,
        PARLEY_SLACK_CHANNEL_INTERVAL="0",
    )
    text = "<@UPARLEY> how do I reset my password?"
    mention = envelope(mention_event(text, ts="1700000000.000100"), event_id="Ev1")
    assert endpoint.event(mention)[0] == 200
    assert (
        endpoint.event(
            mention, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )[0]
        == 200
    )
    double = envelope(message_event(text, ts="1700000000.000100"), event_id="Ev2")
    assert endpoint.event(double)[0] == 200
    dm = envelope(
        message_event("hola", channel="D0001", channel_type="im", ts="1700000001.000100"),
        event_id="Ev3",
    )
    assert endpoint.event(dm)[0] == 200

    wait_for(lambda: len(fake.of("chat.postMessage")) >= 3)  # 429, then the two answers
    time.sleep(1.5)  # would-be duplicates have had time to arrive
    posts = fake.of("chat.postMessage")
    assert len(posts) == 3 and fake.rate_limited == 1
    answers = {p.params["channel"]: p for p in posts[1:]}
    assert answers["C0001"].params["thread_ts"] == "1700000000.000100"
    assert answers["C0001"].params["text"].startswith("echo: how do I reset my password?")
    assert "Sources: FAQ" in answers["C0001"].params["text"]
    assert "thread_ts" not in answers["D0001"].params
    retried = [p for p in posts if p.params["channel"] == posts[0].params["channel"]]
    assert retried[1].at - retried[0].at >= 0.9  # Retry-After honoured
    assert redis_client.llen(calls_key(endpoint.settings)) == 2  # answered once per message

    # A reply in the thread Parley answered in continues the conversation without a mention.
    follow = envelope(
        message_event("and on mobile?", ts="1700000002.000100", thread_ts="1700000000.000100"),
        event_id="Ev4",
    )
    assert endpoint.event(follow)[0] == 200
    wait_for(lambda: len(fake.of("chat.postMessage")) == 4)
    assert fake.of("chat.postMessage")[3].params["thread_ts"] == "1700000000.000100"

    # `/parley ask`: answered privately through the command's response_url.
    assert endpoint.command("ask what are your opening hours?", trigger_id="t-ask")[0] == 200
    wait_for(lambda: len(fake.responses) == 1)
    assert fake.responses[0]["text"].startswith("echo: what are your opening hours?")
    assert len(fake.of("chat.postMessage")) == 4


@pytest.mark.parametrize("case", ["unsigned", "bad-signature", "wrong-secret", "stale"])
def test_unverified_requests_get_401_and_nothing_is_enqueued(
    endpoint: Endpoint, redis_client: redis.Redis, case: str
) -> None:
    body = json.dumps(envelope(message_event("hi", channel="D1", channel_type="im")))
    headers = {
        "unsigned": {},
        "bad-signature": {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64},
        "wrong-secret": sign(body, secret="wrong-secret"),
        "stale": sign(body, timestamp=int(time.time()) - 600),
    }[case]
    status, _ = endpoint.post(body, headers=headers, signed=False)
    assert status == 401
    time.sleep(0.2)
    assert queued(redis_client) == [] and not list(redis_client.scan_iter("parley:dedupe:*"))


def test_malformed_and_unknown_payloads_are_answered_cleanly(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    assert endpoint.post('{"type": "event_callback", "event": ')[0] == 400
    assert endpoint.post('{"type": "event_callback"', signed=False)[0] == 400
    unknown = envelope(
        {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "tada",
            "item": {"type": "message", "channel": "C1", "ts": "1.1"},
            "event_ts": "1.2",
        }
    )
    assert endpoint.event(unknown)[0] == 200
    status, body = endpoint.event({"token": "x", "challenge": "abc123", "type": "url_verification"})
    assert status == 200 and "abc123" in body
    health = urllib.request.urlopen(endpoint.url.replace("/slack/events", "/healthz"), timeout=5)
    assert health.status == 200
    time.sleep(0.2)
    assert queued(redis_client) == []


def test_bot_messages_and_unsubscribed_channel_traffic_are_ignored(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    assert endpoint.event(envelope(bot_message_event("<!channel> alert")))[0] == 200
    own = message_event("my own reply", ts="1.5", bot_id=BOT_ID, user="UPARLEY")
    assert endpoint.event(envelope(own, event_id="Ev5"))[0] == 200
    chatter = envelope(message_event("just chatting", ts="1.6"), event_id="Ev6")
    assert endpoint.event(chatter)[0] == 200
    time.sleep(0.3)
    assert queued(redis_client) == []

    # In an auto-translating channel, human messages and deletions go to intake.
    endpoint.runtime.preferences.set_channel(
        "slack", "C0001", ChannelSettings(policy="translate", languages=("en",))
    )
    assert endpoint.event(envelope(message_event("hola", ts="1.7"), event_id="Ev7"))[0] == 200
    assert endpoint.event(envelope(delete_event(ts="1.7"), event_id="Ev8"))[0] == 200
    assert endpoint.event(envelope(bot_message_event("hi", ts="1.8"), event_id="Ev9"))[0] == 200
    wait_for(lambda: len(queued(redis_client)) == 2)
    kinds = [q["message"]["kind"] for q in queued(redis_client)]
    assert sorted(kinds) == ["channel", "delete"]


def test_slash_commands(endpoint: Endpoint, redis_client: redis.Redis) -> None:
    fake, prefs = endpoint.fake, endpoint.runtime.preferences
    status, body = endpoint.command("help")
    assert status == 200 and "/parley ask" in json.loads(body)["text"]
    assert "de" in json.loads(endpoint.command("lang de")[1])["text"]
    assert prefs.user("slack", "U0001").language == "de"

    assert endpoint.command("channel translate de,fr")[0] == 200  # U0001 is no admin
    wait_for(lambda: len(fake.responses) == 1)
    assert "Only workspace admins" in fake.responses[0]["text"]
    assert prefs.channel("slack", "C0001") == ChannelSettings()
    assert endpoint.command("channel translate de,fr", user="UADMIN")[0] == 200
    wait_for(lambda: prefs.channel("slack", "C0001").languages == ("de", "fr"))
    assert endpoint.command("channel mode review", user="UGROUP")[0] == 200
    wait_for(lambda: prefs.channel("slack", "C0001").policy == "review")

    endpoint.command("kb search reset")
    wait_for(lambda: any("kb.io/reset" in r["text"] for r in fake.responses))

    status, body = endpoint.command("ask where is my invoice?", trigger_id="trig-ask")
    assert status == 200 and "Looking that up" in json.loads(body)["text"]
    status, body = endpoint.command("translate es good morning", trigger_id="trig-tr")
    assert status == 200
    wait_for(lambda: len(queued(redis_client)) == 2)
    ask, translate = sorted((q["message"] for q in queued(redis_client)), key=lambda m: m["intent"])
    assert (ask["intent"], ask["text"], ask["kind"]) == (
        "answer",
        "where is my invoice?",
        "command",
    )
    assert (translate["intent"], translate["targets"]) == ("translate", ["es"])
    assert redis_client.get("parley:slack:respond:command:trig-ask").endswith("/respond/cmd")
    assert "Usage" in json.loads(endpoint.command("translate")[1])["text"]
    assert "Unknown command" in json.loads(endpoint.command("dance")[1])["text"]


def test_translate_for_me_shortcut(endpoint: Endpoint, redis_client: redis.Redis) -> None:
    payload = shortcut_payload("hola a todos")
    body = "payload=" + urllib.request.quote(json.dumps(payload))
    status, _ = endpoint.post(body, content_type="application/x-www-form-urlencoded")
    assert status == 200
    wait_for(lambda: len(queued(redis_client)) == 1)
    message = queued(redis_client)[0]["message"]
    assert (message["intent"], message["targets"], message["user"]) == (
        "translate",
        ["de"],
        "U0002",
    )
    assert endpoint.fake.of("users.info")[0].params["include_locale"] in ("true", "1", True)


def test_socket_mode_over_a_websocket(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    """bolt's SocketModeHandler with slack_sdk's client, against a fake Socket Mode server."""
    from bot.slack.server import check_settings, connection_mode, socket_mode_handler
    from tests.fake_slack import FakeSocketModeServer

    with FakeSlackServer() as fake:
        ws = FakeSocketModeServer()
        fake.socket_url = ws.url
        settings = make_settings(
            slack_api_url=fake.url, slack_bot_token=TOKEN, slack_app_token="xapp-1"
        )
        assert connection_mode(settings) == "socket"
        check_settings(settings, "socket")
        handler = socket_mode_handler(
            build_app(settings, configure(settings), http=False), settings
        )
        handler.connect()  # type: ignore[no-untyped-call]
        try:
            assert ws.connected.wait(10)
            event = envelope(message_event("hola", channel="D0009", channel_type="im"))
            ws.send(
                {
                    "envelope_id": "env-1",
                    "payload": event,
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
            command = dict(urllib.parse.parse_qsl(command_body("help")))
            ws.send(
                {
                    "envelope_id": "env-2",
                    "payload": command,
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                }
            )
            wait_for(lambda: len(ws.acks) == 2)
            acks = {a["envelope_id"]: a for a in ws.acks}
            assert "/parley ask" in acks["env-2"]["payload"]["text"]
            wait_for(lambda: len(queued(redis_client)) == 1)
            assert queued(redis_client)[0]["message"]["channel"] == "D0009"
        finally:
            handler.close()  # type: ignore[no-untyped-call]
            ws.close()


def test_parley_slack_command_serves_http_on_the_configured_port(
    redis_server: Any, redis_client: redis.Redis, tmp_path: Any
) -> None:
    import socket
    import subprocess

    from tests.conftest import PARLEY, REPO_ROOT, worker_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with FakeSlackServer() as fake:
        env = worker_env(
            redis_server.url, tmp_path, PARLEY_SLACK_API_URL=fake.url,
            PARLEY_SLACK_BOT_TOKEN=TOKEN, PARLEY_SLACK_SIGNING_SECRET=SECRET,
        )  # fmt: skip
        log = (tmp_path / "slack.log").open("w")
        process = subprocess.Popen(
            [PARLEY, "slack", "--mode", "http", "--port", str(port)],
            env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/slack/events"

            def up() -> bool:
                try:
                    return urllib.request.urlopen(url[:-13] + "/healthz", timeout=1).status == 200
                except OSError:
                    return False

            wait_for(up, timeout=30)
            endpoint = Endpoint(url, fake, None, None)  # type: ignore[arg-type]
            body = envelope(message_event("hi", channel="D0007", channel_type="im"))
            assert endpoint.event(body)[0] == 200
            assert endpoint.event(body, signed=False)[0] == 401
            wait_for(lambda: len(queued(redis_client)) == 1)
            assert fake.of("auth.test")
        finally:
            process.terminate()
            process.wait(10)
            log.close()


def test_auto_translation_posted_in_thread_then_updated_and_deleted(
    endpoint: Endpoint, redis_client: redis.Redis, start_worker: Callable[..., WorkerProcess]
) -> None:
    fake = endpoint.fake
    endpoint.runtime.preferences.set_channel(
        "slack", "C0001", ChannelSettings(languages=("en",), auto_translate=True)
    )
    start_worker(
        PARLEY_SLACK_API_URL=fake.url, PARLEY_SLACK_BOT_TOKEN=TOKEN,
        PARLEY_SLACK_CHANNEL_INTERVAL="0",
        PARLEY_TRANSLATOR_FACTORY="tests.fakes_translation:build_recording_translator",
    )  # fmt: skip
    ts = "1700000100.000100"
    original = "hola a todos, ¿cómo están hoy? El servidor no funciona"
    assert endpoint.event(envelope(message_event(original, ts=ts), event_id="EvT1"))[0] == 200
    wait_for(lambda: len(fake.of("chat.postMessage")) == 1)
    post = fake.of("chat.postMessage")[0].params
    assert post["thread_ts"] == ts and post["text"].startswith("[en] ")

    edited = "hola a todos, ¿cómo están hoy? El servidor ya funciona"
    edit = envelope(edit_event(edited, original, ts=ts), event_id="EvT2")
    assert endpoint.event(edit)[0] == 200
    wait_for(lambda: len(fake.of("chat.update")) == 1)
    assert "YA FUNCIONA" in fake.of("chat.update")[0].params["text"]

    assert endpoint.event(envelope(delete_event(ts=ts), event_id="EvT3"))[0] == 200
    wait_for(lambda: len(fake.of("chat.delete")) == 1)
    assert fake.of("chat.delete")[0].params["ts"] == fake.of("chat.update")[0].params["ts"]
    assert len(fake.of("chat.postMessage")) == 1

    # "Translate for me": the translation comes back only to the user, through response_url.
    payload = shortcut_payload(original, ts=ts, response_url=f"{fake.url[:-4]}respond/sc")
    body = "payload=" + urllib.request.quote(json.dumps(payload))
    assert endpoint.post(body, content_type="application/x-www-form-urlencoded")[0] == 200
    wait_for(lambda: len(fake.responses) == 1)
    assert fake.responses[0]["text"].startswith("[de] HOLA")
    assert fake.responses[0]["response_type"] == "ephemeral"


def _timed(call: Callable[[], tuple[int, str]]) -> tuple[int, str, float]:
    started = time.monotonic()
    status, body = call()
    return status, body, time.monotonic() - started


def test_redis_outage_answers_503_in_time_and_the_slack_retry_is_enqueued_once(
    endpoint: Endpoint,
    redis_server: EmbeddedRedis,
    redis_client: redis.Redis,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """No accepted event is lost or answered twice when Redis goes away at intake."""
    fake = endpoint.fake
    normal = envelope(
        message_event("hello", channel="D0001", channel_type="im", ts="1700000300.000100"),
        event_id="EvN",
    )
    status, _, elapsed = _timed(lambda: endpoint.event(normal))
    assert status == 200 and elapsed < 1.0

    outage = envelope(
        message_event("are you there?", channel="D0002", channel_type="im", ts="1700000301.0001"),
        event_id="EvO",
    )
    redis_server.stop()
    try:
        status, _, elapsed = _timed(lambda: endpoint.event(outage))
        assert status == 503 and elapsed < 3.0  # Slack redelivers: not acknowledged, not lost
        # A slash command is not redelivered: it is acknowledged and the user told to retry.
        status, body, elapsed = _timed(lambda: endpoint.command("ask anyone?", trigger_id="t-o"))
        assert status == 200 and elapsed < 3.0
        assert "try again" in json.loads(body)["text"]
        assert json.loads(body)["response_type"] == "ephemeral"
    finally:
        redis_server.start()
    with contextlib.suppress(redis.ConnectionError):
        redis_client.ping()  # drop the connection the restart broke

    # Slack's first retry, at once: enqueued (or found enqueued by the late first attempt).
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    status, _, elapsed = _timed(lambda: endpoint.event(outage, headers=retry))
    assert status == 200 and elapsed < 3.0
    retry2 = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
    assert endpoint.event(outage, headers=retry2)[0] == 200
    time.sleep(3.0)  # the first attempt's thread, still in the Redis client's retries, ends

    def dms() -> list[str]:
        return [q["message"]["channel"] for q in queued(redis_client) if q["message"]["text"]]

    assert sorted(c for c in dms() if c.startswith("D")) == ["D0001", "D0002"]

    start_worker(
        PARLEY_SLACK_API_URL=fake.url,
        PARLEY_SLACK_BOT_TOKEN=TOKEN,
        PARLEY_SLACK_CHANNEL_INTERVAL="0",
    )
    wait_for(lambda: len(fake.of("chat.postMessage")) >= 2, timeout=40)
    time.sleep(1.5)  # a duplicate would have had time to be posted
    channels = sorted(p.params["channel"] for p in fake.of("chat.postMessage"))
    assert channels == ["D0001", "D0002"]


def test_socket_mode_acks_an_event_only_once_it_is_enqueued(
    make_settings: Callable[..., Settings], redis_server: EmbeddedRedis
) -> None:
    from bot.slack.server import socket_mode_handler
    from tests.fake_slack import FakeSocketModeServer

    with FakeSlackServer() as fake:
        ws = FakeSocketModeServer()
        fake.socket_url = ws.url
        settings = make_settings(
            slack_api_url=fake.url, slack_bot_token=TOKEN, slack_app_token="xapp-1"
        )
        handler = socket_mode_handler(
            build_app(settings, configure(settings), http=False), settings
        )
        handler.connect()  # type: ignore[no-untyped-call]
        event = envelope(message_event("hola", channel="D0009", channel_type="im"))

        def push(envelope_id: str, attempt: int) -> None:
            ws.send(
                {
                    "envelope_id": envelope_id,
                    "payload": event,
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": attempt,
                    "retry_reason": "timeout" if attempt else "",
                }
            )

        try:
            assert ws.connected.wait(10)
            redis_server.stop()
            try:
                push("env-1", 0)
                time.sleep(3.5)
                assert ws.acks == []  # not acknowledged: Slack sends it again
            finally:
                redis_server.start()
            push("env-2", 1)
            wait_for(lambda: [a["envelope_id"] for a in ws.acks] == ["env-2"])
            client = redis.Redis.from_url(redis_server.url, decode_responses=True)
            time.sleep(2.0)
            assert [q["message"]["channel"] for q in queued(client)] == ["D0009"]
            client.close()
        finally:
            handler.close()  # type: ignore[no-untyped-call]
            ws.close()


def test_broker_outage_after_the_dedupe_mark_does_not_swallow_the_retry(
    make_settings: Callable[..., Settings], redis_client: redis.Redis, tmp_path: Any
) -> None:
    """Intake marks the event as seen, then the enqueue fails: Slack's retry must still count."""
    from workers.embedded import free_port

    broker = EmbeddedRedis(tmp_path / "broker", port=free_port())  # not started yet: down
    with FakeSlackServer() as fake:
        settings = make_settings(
            slack_api_url=fake.url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            broker_url=broker.url,
        )
        app = build_app(settings, configure(settings))
        server = waitress.create_server(
            SlackWsgiApp(app, settings.slack_path), host="127.0.0.1", port=0, threads=4
        )
        threading.Thread(target=server.run, daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}{settings.slack_path}"  # type: ignore[union-attr]
        endpoint = Endpoint(url, fake, None, settings)  # type: ignore[arg-type]
        try:
            event = envelope(
                message_event("hi", channel="D0005", channel_type="im"), event_id="EvB"
            )
            status, _, elapsed = _timed(lambda: endpoint.event(event))
            assert status == 503 and elapsed < 3.0
            assert not list(redis_client.scan_iter("parley:dedupe:*"))  # mark released
            broker.start()
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
            assert endpoint.event(event, headers=retry)[0] == 200
            assert endpoint.event(event, headers={"X-Slack-Retry-Num": "2"})[0] == 200
            client = redis.Redis.from_url(broker.url, decode_responses=True)
            assert [q["message"]["channel"] for q in queued(client)] == ["D0005"]
            client.close()
        finally:
            server.close()
            broker.stop()


def test_summarize_and_write_commands_and_mentions(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    endpoint.fake.users["U0001"] = {"profile": {"display_name": "Ana"}}
    status, body = endpoint.command("summarize 2h", trigger_id="t-sum")
    assert status == 200 and "Summarising" in json.loads(body)["text"]
    assert "Usage: summarize" in json.loads(endpoint.command("summarize yesterday")[1])["text"]
    status, body = endpoint.command("write --to en,es announce SSO", trigger_id="t-write")
    assert status == 200 and "Drafting" in json.loads(body)["text"]
    assert "Usage" in json.loads(endpoint.command("write --tone formal")[1])["text"]
    thread = mention_event(
        "<@UPARLEY> summarize 20", ts="1700000000.000300", thread_ts="1700000000.000100"
    )
    assert endpoint.event(envelope(thread, event_id="EvSum"))[0] == 200
    wait_for(lambda: len(queued(redis_client)) == 3)
    by_intent = {q["message"]["intent"]: q["message"] for q in queued(redis_client)}
    assert by_intent["write"]["text"] == "--to en,es announce SSO"
    assert by_intent["summarize"]["text"] in ("2h", "20")
    mention = next(q["message"] for q in queued(redis_client) if q["message"]["text"] == "20")
    assert mention["thread"] == "1700000000.000100" and mention["user_name"] == "Ana"
    assert redis_client.get("parley:slack:name:U0001") == "Ana"
