"""A fake Slack Web API over real HTTP for the real slack_sdk client, plus Slack's request signing.

It records every call, implements the methods Parley uses, and can answer 429 with Retry-After:
on demand (`fail_next`) or by enforcing a per-channel rate for chat.postMessage. Posted messages
are kept with their message metadata (chat.update and chat.delete change them) and read back by
conversations.history and conversations.replies as Slack answers them: `oldest`/`latest`/
`inclusive`, cursor pages (`page_size` caps them, as Slack's 15 for non-Marketplace apps),
metadata only with `include_all_metadata`. `refuse_methods` makes a method fail like Slack does
(e.g. `missing_scope`), and `hold_post` keeps the answer to a post back until `release`, so a
test can kill the posting process after Slack took the post.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER = "UPARLEY"
BOT_ID = "BPARLEY"
APP_ID = "A0001"
TEAM = "T0001"
TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request: `v0=` HMAC-SHA256 of `v0:{ts}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeSlack:
    """State of the fake: calls, users, user groups, rate rules."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    channel_interval: float = 0.0  # >0: chat.postMessage faster than this per channel gets 429
    retry_after: int = 1
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    rate_limited: int = 0
    # channel -> Slack error code: posts there fail like a channel the bot cannot post to
    refuse_channels: dict[str, str] = field(default_factory=dict)
    # method -> Slack error code, e.g. {"conversations.history": "missing_scope"}
    refuse_methods: dict[str, str] = field(default_factory=dict)
    # channel -> its messages in posting order (chat.postMessage, or seeded with `add_message`)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 1000  # most messages per history/replies page (whatever `limit` asks)
    held: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)
    _posts: int = 0
    _hold_at: int = 0
    _fail: dict[str, list[int]] = field(default_factory=dict)
    _last_post: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: float = 0.0
    url: str = ""
    socket_url: str = ""

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with this Retry-After."""
        self._fail.setdefault(method, []).extend([retry_after] * times)

    def hold_post(self, nth: int = 1) -> None:
        """The `nth` chat.postMessage from now is kept (it went out), then its answer waits for
        `release`; `held` is set once it is kept."""
        with self._lock:
            self._hold_at = self._posts + nth
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        """Let a held chat.postMessage answer."""
        self._release.set()

    def add_message(
        self, channel: str, text: str, *, ts: str | None = None, user: str = "U0001", **extra: Any
    ) -> dict[str, Any]:
        """Store a message someone else posted (e.g. the parent of a thread Parley replies in)."""
        message = {"type": "message", "user": user, "text": text, "ts": ts or self.next_ts()}
        message.update({"team": TEAM, **extra})
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def next_ts(self) -> str:
        with self._lock:
            self._ts = max(time.time(), self._ts + 0.000001)
            return f"{self._ts:.6f}"

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
        """(status, JSON body, Retry-After or 0) for one API call."""
        with self._lock:
            self.calls.append(Call(method, params, time.time()))
            pending = self._fail.get(method)
            if pending:
                self.rate_limited += 1
                return 429, {"ok": False, "error": "ratelimited"}, pending.pop(0)
            if method == "chat.postMessage" and self.channel_interval > 0:
                channel = str(params.get("channel"))
                now = time.monotonic()
                last = self._last_post.get(channel)
                if last is not None and now - last < self.channel_interval * 0.9:
                    self.rate_limited += 1
                    return 429, {"ok": False, "error": "ratelimited"}, self.retry_after
                self._last_post[channel] = now
        body = self._answer(method, params)
        if method == "chat.postMessage" and body.get("ok"):
            self._maybe_hold()
        return 200, body, 0

    def _maybe_hold(self) -> None:
        with self._lock:
            self._posts += 1
            hold = self._posts == self._hold_at
        if hold:
            self.held.set()
            self._release.wait(timeout=30)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "user": "parley",
                "team": "Test",
                "url": "https://test.slack.com/",
            }
        if method in self.refuse_methods:
            return _refusal(self.refuse_methods[method], method)
        if method == "chat.postMessage" and channel in self.refuse_channels:
            return {"ok": False, "error": self.refuse_channels[str(channel)]}
        if method == "chat.postMessage":
            message = self._store_post(str(channel), params)
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": dict(message)}
        if method in ("chat.update", "chat.delete"):
            self._edit(str(channel), str(params.get("ts")), params, delete=method == "chat.delete")
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "conversations.history":
            return self._history(str(channel), params)
        if method == "conversations.replies":
            return self._replies(str(channel), params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "users.info":
            user = str(params.get("user"))
            return {"ok": True, "user": {"id": user, "locale": "de-DE", **self.users.get(user, {})}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(str(params.get("usergroup")), [])}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "views.open":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": "V0001", **(view or {})}}
        return {"ok": False, "error": "unknown_method"}

    def _store_post(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """A bot message as Slack stores and returns it (metadata kept when given)."""
        ts = self.next_ts()
        message: dict[str, Any] = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID}
        message.update({"app_id": APP_ID, "text": params.get("text"), "ts": ts, "team": TEAM})
        for name in ("blocks", "metadata"):
            if params.get(name):
                message[name] = _json(params[name])
        thread = params.get("thread_ts")
        with self._lock:
            stored = self.messages.setdefault(channel, [])
            if thread:
                parent = next((m for m in stored if m["ts"] == thread), {})
                message.update(thread_ts=thread, parent_user_id=parent.get("user", "U0001"))
            stored.append(message)
        return message

    def _edit(self, channel: str, ts: str, params: dict[str, Any], *, delete: bool) -> None:
        with self._lock:
            stored = self.messages.get(channel, [])
            for message in [m for m in stored if m["ts"] == ts]:
                if delete:
                    stored.remove(message)
                elif params.get("text") is not None:
                    message["text"] = params["text"]

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """Messages of the channel (not thread replies), newest first."""
        with self._lock:
            stored = [
                m for m in self.messages.get(channel, []) if m.get("thread_ts", m["ts"]) == m["ts"]
            ]
        found = _in_window(stored, params)[::-1]
        page = self._page(found, params, default_limit=100)
        return {**page, "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}

    def _replies(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """The thread's parent, then its replies oldest first (the parent only on page one)."""
        ts = str(params.get("ts") or "")
        with self._lock:
            stored = list(self.messages.get(channel, []))
        parent = next((m for m in stored if m["ts"] == ts), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in stored if m.get("thread_ts") == ts and m["ts"] != ts]
        return self._page([parent, *_in_window(replies, params)], params, default_limit=1000)

    def _page(
        self, found: list[dict[str, Any]], params: dict[str, Any], *, default_limit: int
    ) -> dict[str, Any]:
        start = _offset(params)
        size = min(int(params.get("limit") or default_limit), self.page_size)
        shown = found[start : start + size]
        if not _truthy(params.get("include_all_metadata")):
            shown = [{k: v for k, v in m.items() if k != "metadata"} for m in shown]
        body: dict[str, Any] = {
            "ok": True,
            "messages": shown,
            "has_more": start + size < len(found),
        }
        if body["has_more"]:
            body["response_metadata"] = {"next_cursor": f"bmV4dA=={start + size}"}
        return body


_CURSOR = "bmV4dA=="  # cursors are opaque to clients; here a prefix and an offset


def _offset(params: dict[str, Any]) -> int:
    cursor = str(params.get("cursor") or "")
    return int(cursor.removeprefix(_CURSOR)) if cursor.startswith(_CURSOR) else 0


def _truthy(value: Any) -> bool:
    """A boolean argument as sent: JSON true, or "1"/"true" in a form or query string."""
    return value is True or str(value).lower() in ("1", "true")


def _json(value: Any) -> Any:
    """An argument that is JSON in a form body and an object in a JSON body."""
    return json.loads(value) if isinstance(value, str) else value


def _in_window(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages between `oldest` and `latest` (bounds included only with `inclusive`)."""
    oldest = Decimal(str(params.get("oldest") or "0"))
    latest = Decimal(str(params.get("latest") or f"{time.time() + 1:.6f}"))
    inclusive = _truthy(params.get("inclusive"))

    def inside(ts: Decimal) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(Decimal(m["ts"]))]


def _refusal(error: str, method: str) -> dict[str, Any]:
    """Slack's answer for a refused call (`missing_scope` says which scope was needed)."""
    if error != "missing_scope":
        return {"ok": False, "error": error}
    needed = {
        "conversations.history": "channels:history",
        "conversations.replies": "channels:history",
    }
    return {
        "ok": False,
        "error": error,
        "needed": needed.get(method, "chat:write"),
        "provided": "app_mentions:read,chat:write,commands,users:read",
    }


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.path.startswith("/respond/"):
                with fake._lock:
                    fake.responses.append({"path": self.path, **json.loads(raw or "{}")})
                self._send(200, b"ok", "text/plain")
                return
            if "json" in (self.headers.get("Content-Type") or ""):
                params = json.loads(raw or "{}")
            else:
                params = dict(parse_qsl(raw))
            self._api(self.path.rsplit("/", 1)[-1], params)

        def do_GET(self) -> None:
            """Read methods (conversations.history/replies): arguments in the query string."""
            url = urlsplit(self.path)
            self._api(url.path.rsplit("/", 1)[-1], dict(parse_qsl(url.query)))

        def _api(self, method: str, params: dict[str, Any]) -> None:
            if (
                self.headers.get("Authorization") != f"Bearer {TOKEN}"
                and method != "apps.connections.open"
            ):
                self._send(200, json.dumps({"ok": False, "error": "not_authed"}).encode())
                return
            status, body, retry_after = fake.handle(method, params)
            extra = {"Retry-After": str(retry_after)} if retry_after else {}
            self._send(status, json.dumps(body).encode(), headers=extra)

        def _send(
            self,
            status: int,
            body: bytes,
            kind: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client is gone (a test killed it while its post was held)

    return Handler


class FakeSlackServer:
    """Runs a `FakeSlack` on a loopback port in a thread; `url` is the API base URL."""

    def __init__(self, fake: FakeSlack | None = None) -> None:
        self.fake = fake or FakeSlack()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/api/"
        self.fake.url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# Payloads shaped exactly as Slack sends them (fields trimmed to those Slack always includes).


def envelope(event: dict[str, Any], *, event_id: str = "Ev0001") -> dict[str, Any]:
    """An Events API `event_callback` envelope around `event`."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


def message_event(
    text: str,
    *,
    channel: str = "C0001",
    ts: str = "1700000000.000100",
    user: str = "U0001",
    channel_type: str = "channel",
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `message` event (message.channels / message.im)."""
    event: dict[str, Any] = {
        "client_msg_id": "5bb0c1d8-7d45-4d1a-a2a6-3b8c6b2d6a10",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": [],
        "team": TEAM,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def mention_event(
    text: str,
    *,
    channel: str = "C0001",
    ts: str = "1700000000.000100",
    user: str = "U0001",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` event."""
    event = message_event(text, channel=channel, ts=ts, user=user, thread_ts=thread_ts)
    event["type"] = "app_mention"
    del event["channel_type"]
    return event


def bot_message_event(
    text: str, *, channel: str = "C0001", ts: str = "1700000000.000200", bot_id: str = "BOTHER"
) -> dict[str, Any]:
    """Another app's message (`subtype: bot_message`)."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "ts": ts,
        "username": "otherbot",
        "bot_id": bot_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }


def edit_event(
    new_text: str,
    old_text: str,
    *,
    channel: str = "C0001",
    ts: str = "1700000000.000100",
    event_ts: str = "1700000050.000300",
) -> dict[str, Any]:
    """A `message_changed` event for an edit of `ts`."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": "channel",
        "message": {
            "type": "message",
            "user": "U0001",
            "text": new_text,
            "ts": ts,
            "edited": {"user": "U0001", "ts": event_ts},
        },
        "previous_message": {"type": "message", "user": "U0001", "text": old_text, "ts": ts},
    }


def delete_event(
    *, channel: str = "C0001", ts: str = "1700000000.000100", event_ts: str = "1700000060.000400"
) -> dict[str, Any]:
    """A `message_deleted` event for `ts`."""
    return {
        "type": "message",
        "subtype": "message_deleted",
        "channel": channel,
        "hidden": True,
        "deleted_ts": ts,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": "channel",
        "previous_message": {"type": "message", "user": "U0001", "text": "hola", "ts": ts},
    }


def command_body(
    text: str,
    *,
    user: str = "U0001",
    channel: str = "C0001",
    response_url: str = "",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> str:
    """A `/parley` slash command as the form body Slack posts."""
    from urllib.parse import urlencode

    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "ana",
            "command": "/parley",
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url or "https://hooks.slack.com/commands/T0001/1/abc",
            "trigger_id": trigger_id,
        }
    )


def shortcut_payload(
    text: str,
    *,
    user: str = "U0002",
    channel: str = "C0001",
    ts: str = "1700000000.000100",
    response_url: str = "",
    callback_id: str = "translate_for_me",
    trigger_id: str = "1700000100.1.shortcut",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message shortcut (`message_action`) payload, by default for "Translate for me".

    `message` replaces the fields of the message the shortcut was used on (e.g. a bot message
    as `bot_message_fields` gives it, or its `thread_ts`)."""
    shown = {"type": "message", "user": "U0001", "text": text, "ts": ts, "team": TEAM}
    shown.update(message or {})
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": "1700000100.123456",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "username": "ben", "team_id": TEAM, "name": "ben"},
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url or "https://hooks.slack.com/app/T0001/2/def",
        "message_ts": ts,
        "message": shown,
    }


def bot_message_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """The fields of a message Parley posted (as `FakeSlack.messages` keeps it) that Slack puts
    in a shortcut's `message`: its author is the bot user, with `bot_id` and `app_id`."""
    keep = ("type", "user", "bot_id", "app_id", "text", "ts", "team", "thread_ts", "blocks")
    return {k: stored[k] for k in keep if k in stored}


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user: str = "UAGENT",
    channel: str = "C0REVIEW",
    message_ts: str = "1700000000.000900",
    response_url: str = "",
    trigger_id: str = "1700000200.1.click",
) -> dict[str, Any]:
    """A `block_actions` payload: a button of a bot message clicked."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": TEAM, "domain": "test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "reviews"},
        "message": {
            "type": "message",
            "user": BOT_USER,
            "ts": message_ts,
            "bot_id": BOT_ID,
            "text": "review card",
            "team": TEAM,
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": response_url or "https://hooks.slack.com/actions/T0001/3/ghi",
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"review:{value}",
                "text": {"type": "plain_text", "text": action_id.split(":")[-1].title()},
                "value": value,
                "type": "button",
                "action_ts": "1700000200.000100",
            }
        ],
    }


def view_submission_payload(
    view: dict[str, Any], values: dict[str, str | None], *, user: str = "UAGENT"
) -> dict[str, Any]:
    """A `view_submission` payload for a modal Parley opened, with typed input `values`
    (block_id -> text of its `text` input)."""
    state = {
        block: {"text": {"type": "plain_text_input", "value": value}}
        for block, value in values.items()
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "trigger_id": "1700000300.1.submit",
        "view": {
            "id": "V0001",
            "team_id": TEAM,
            "type": "modal",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": state},
            "hash": "1700000300.abc",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "root_view_id": "V0001",
            "app_id": "A0001",
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


class FakeSocketModeServer:
    """A minimal WebSocket server speaking Slack's Socket Mode envelopes (RFC 6455, text frames).

    Point `FakeSlack.socket_url` at `url`: apps.connections.open returns it. `send(envelope)`
    pushes an envelope to the connected client; `acks` collects what the client sends back.
    """

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        import socket

        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link?ticket=test"
        self.acks: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._client: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import base64

        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        request = b""
        while b"\r\n\r\n" not in request:
            request += client.recv(4096)
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.decode().split("\r\n")
            if line.lower().startswith("sec-websocket-key")
        )
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        client.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self._client = client
        self.send({"type": "hello", "num_connections": 1, "debug_info": {}})
        self.connected.set()
        self._read(client)

    def _read(self, client: Any) -> None:
        buffer = b""
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while (frame := _parse_frame(buffer)) is not None:
                opcode, payload, used = frame
                buffer = buffer[used:]
                if opcode == 0x1:
                    self.acks.append(json.loads(payload))
                elif opcode == 0x9:
                    self._frame(0xA, payload)
                elif opcode == 0x8:
                    return

    def _frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([size])
        elif size < 65536:
            header += bytes([126]) + size.to_bytes(2, "big")
        else:
            header += bytes([127]) + size.to_bytes(8, "big")
        self._client.sendall(header + payload)

    def send(self, message: dict[str, Any]) -> None:
        self._frame(0x1, json.dumps(message).encode())

    def close(self) -> None:
        self._listener.close()
        if self._client is not None:
            self._client.close()


def _parse_frame(buffer: bytes) -> tuple[int, bytes, int] | None:
    """(opcode, payload, bytes used) of the first complete client frame, or None."""
    if len(buffer) < 2:
        return None
    opcode, size, pos = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    masked = buffer[1] & 0x80
    if size == 126:
        if len(buffer) < 4:
            return None
        size, pos = int.from_bytes(buffer[2:4], "big"), 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        size, pos = int.from_bytes(buffer[2:10], "big"), 10
    mask = b""
    if masked:
        mask, pos = buffer[pos : pos + 4], pos + 4
    if len(buffer) < pos + size:
        return None
    payload = buffer[pos : pos + size]
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload, pos + size
