"""A fake Telegram Bot API server over HTTP (threaded), the Update JSON Telegram really sends,
and a harness running the real adapter on a background event loop.

The real PTB `Bot`/`Application` talk to it through `base_url` (`<url>/bot`): it serves
`getUpdates` from a queue (honouring `offset`, like Telegram: a lower id is confirmed and dropped),
records `sendMessage` and friends, keeps sent texts and inline keyboards for `editMessageText`
and `editMessageReplyMarkup` (Telegram's rules: an edit without `reply_markup` drops the keyboard,
an identical one is "message is not modified"), answers `answerCallbackQuery` and `getChatMember`,
and can answer 429 (`fail_next`) or enforce Telegram's rate limits (`enforce_limits`), counting
every 429 it sent. `bot_message` returns a sent message as Telegram embeds it in updates
(`reply_to_message`, a callback query's `message`): visible text, no tags, with its keyboard.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar

import redis

from bot.settings import Settings
from bot.telegram.app import TelegramAdapter
from bot.telegram.review import ReviewActions
from workers.runtime import configure

TOKEN = "123456:TEST-token_abc"
BOT_ID = 123456
BOT_USERNAME = "parley_test_bot"
NOW = 1_764_072_000


@dataclass
class Call:
    """One API request the server received."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram:
    """State and behaviour of the fake Bot API (thread-safe)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0
        self.batch_size = 100
        self.poll_wait = 0.5
        self.webhook: dict[str, Any] | None = None
        self.members: dict[tuple[int, int], str] = {}
        self.messages: dict[tuple[int, int], str] = {}
        self.markups: dict[tuple[int, int], dict[str, Any]] = {}
        self.too_many = 0
        self._next_id = 1000
        self.forbidden_chats: set[int] = set()
        # (chat, message_thread_id) of forum topics; any other message_thread_id is refused
        # the way Telegram refuses it ("message thread not found")
        self.forum_topics: set[tuple[int, int]] = set()
        self._failures: dict[str, list[int]] = {}
        self._limits: dict[str, float] | None = None
        self._sent: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # --- test controls --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/bot"

    def queue_updates(self, *updates: dict[str, Any]) -> None:
        with self._cond:
            self.updates.extend(updates)
            self._cond.notify_all()

    def fail_next(self, method: str, retry_after: int, count: int = 1) -> None:
        """The next `count` calls of `method` get 429 with `retry_after`."""
        with self._cond:
            self._failures.setdefault(method, []).extend([retry_after] * count)

    def enforce_limits(
        self,
        *,
        per_chat: float = 1.0,
        group_per_window: int = 20,
        window: float = 60.0,
        global_per_s: float = 30.0,
    ) -> None:
        """Answer 429 to sends beyond Telegram's limits (sliding windows, as Telegram counts)."""
        self._limits = {
            "per_chat": per_chat,
            "group": group_per_window,
            "window": window,
            "global": global_per_s,
        }

    def calls_of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_of(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"{method}: {len(self.calls_of(method))} calls, wanted {count}")

    # --- API ------------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._cond:
            self.calls.append(Call(method, params))
            pending = self._failures.get(method)
            if pending:
                self.too_many += 1
                return 429, _too_many(pending.pop(0))
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        result = handler(params)
        return (200, result) if isinstance(result, dict) else result

    def _api_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok(
            bot_user()
            | {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _api_getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        with self._cond:
            if self.webhook is not None:
                return 409, {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: can't use getUpdates method while webhook is active",
                }
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout:
                self._cond.wait(min(timeout, self.poll_wait))
            batch = self.updates[: min(int(params.get("limit") or 100), self.batch_size)]
        return _ok(batch)

    def _api_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._cond:
            self.webhook = params
        return _ok(True)

    def _api_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._cond:
            self.webhook = None
        return _ok(True)

    def _api_setMyCommands(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok(True)

    def _thread_unknown(self, chat: int, params: dict[str, Any]) -> bool:
        thread = params.get("message_thread_id")
        return thread not in (None, "") and (chat, int(thread)) not in self.forum_topics

    def _api_sendChatAction(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._thread_unknown(int(params["chat_id"]), params):
            return 400, _bad("Bad Request: message thread not found")
        return _ok(True)

    def _api_getChatMember(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat, user = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat, user), "member")
        member: dict[str, Any] = {"status": status, "user": user_json(user)}
        if status == "creator":
            member["is_anonymous"] = False
        if status == "administrator":
            for flag in (
                "can_be_edited",
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ):
                member[flag] = False
        return _ok(member)

    def _limited(self, chat: int) -> int | None:
        """Seconds to wait when a send to `chat` now would break the limits, else None."""
        limits, now = self._limits, time.monotonic()
        if limits is None:
            return None
        sent = self._sent
        if any(c == chat and now - t < limits["per_chat"] for t, c in sent):
            return 1
        if (
            chat < 0
            and sum(1 for t, c in sent if c == chat and now - t < limits["window"])
            >= limits["group"]
        ):
            return int(limits["window"] / limits["group"]) + 1
        if sum(1 for t, _ in sent if now - t < 1.0) >= limits["global"]:
            return 1
        return None

    def _send(self, chat: int) -> dict[str, Any] | None:
        with self._cond:
            wait = self._limited(chat)
            if wait is not None:
                self.too_many += 1
                return _too_many(wait)
            self._sent.append((time.monotonic(), chat))
        return None

    def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = int(params["chat_id"])
        if chat in self.forbidden_chats:
            return 400, _bad("Bad Request: chat not found")
        if self._thread_unknown(chat, params):
            return 400, _bad("Bad Request: message thread not found")
        refused = self._send(chat)
        if refused is not None:
            return 429, refused
        text = str(params["text"])
        if visible_text(text) == "" or utf16(visible_text(text)) > 4096:
            return 400, _bad("Bad Request: message is too long or empty")
        markup = _inline_keyboard(params.get("reply_markup"))
        if markup is False:
            return 400, _bad("Bad Request: BUTTON_DATA_INVALID")
        with self._cond:
            self._next_id += 1
            message_id = self._next_id
            self.messages[(chat, message_id)] = text
            if markup:
                self.markups[(chat, message_id)] = markup
        return _ok(self._message(chat, message_id))

    def _message(self, chat: int, message_id: int) -> dict[str, Any]:
        message = sent_message(chat, message_id, self.messages[(chat, message_id)])
        if (chat, message_id) in self.markups:
            message["reply_markup"] = self.markups[(chat, message_id)]
        return message

    def _edit(
        self, chat: int, message_id: int, text: str | None, markup: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        with self._cond:
            old = self.messages.get((chat, message_id))
            if old is None:
                return 400, _bad("Bad Request: message to edit not found")
            new_text = old if text is None else text
            if new_text == old and markup == self.markups.get((chat, message_id)):
                return 400, _bad(
                    "Bad Request: message is not modified: specified new message "
                    "content and reply markup are exactly the same as a current "
                    "content and reply markup of the message"
                )
            self.messages[(chat, message_id)] = new_text
            self.markups.pop((chat, message_id), None)
            if markup:
                self.markups[(chat, message_id)] = markup
            return _ok(self._message(chat, message_id))

    def _api_editMessageText(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        markup = _inline_keyboard(params.get("reply_markup"))
        if markup is False:
            return 400, _bad("Bad Request: BUTTON_DATA_INVALID")
        if utf16(visible_text(str(params["text"]))) > 4096:
            return 400, _bad("Bad Request: MESSAGE_TOO_LONG")
        chat, message_id = int(params["chat_id"]), int(params["message_id"])
        return self._edit(chat, message_id, str(params["text"]), markup)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        markup = _inline_keyboard(params.get("reply_markup"))
        if markup is False:
            return 400, _bad("Bad Request: BUTTON_DATA_INVALID")
        return self._edit(int(params["chat_id"]), int(params["message_id"]), None, markup)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if len(str(params.get("text") or "")) > 200:
            return 400, _bad("Bad Request: MESSAGE_TOO_LONG")
        return _ok(True)

    def bot_message(self, chat: int, message_id: int) -> dict[str, Any]:
        """A sent message as Telegram embeds it in updates: visible text and its keyboard."""
        with self._cond:
            message = self._message(chat, message_id)
        message["text"] = visible_text(message["text"])
        return message

    def answers(self) -> list[dict[str, Any]]:
        """The answerCallbackQuery calls' parameters, in order."""
        return [c.params for c in self.calls_of("answerCallbackQuery")]

    def _api_deleteMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._cond:
            if self.messages.pop(key, None) is None:
                return 400, _bad("Bad Request: message to delete not found")
        return _ok(True)

    # --- server ---------------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[FakeTelegram]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
                    params = {k: (v if k == "text" else _decode(v)) for k, v in pairs}
                status, payload = fake.handle(self.path[len(prefix) :], params)
                self._reply(status, payload)

            do_GET = do_POST

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            with self._cond:
                self._cond.notify_all()
            server.shutdown()
            server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """A client that hung up (a test stopping its adapter mid-poll) is not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _bad(description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": 400, "description": description}


def _inline_keyboard(raw: Any) -> dict[str, Any] | Literal[False] | None:
    """The inline keyboard of a reply_markup (None: none or empty; False: invalid data)."""
    markup = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None  # no markup, ForceReply or a reply keyboard: nothing kept on the message
    rows = markup["inline_keyboard"]
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return False
    return markup if any(rows) else None


def visible_text(markup: str) -> str:
    """The text Telegram shows for an HTML message (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _too_many(retry_after: int) -> dict[str, Any]:
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


# --- Update JSON as Telegram sends it ------------------------------------------------------


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Parley", "username": BOT_USERNAME}


def user_json(user_id: int, *, is_bot: bool = False, language: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": is_bot,
        "first_name": f"User{user_id}",
        "username": f"user{user_id}",
        "language_code": language,
    }


def chat_json(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    return {
        "id": chat_id,
        "type": "supergroup" if chat_id < -1_000_000_000_000 else "group",
        "title": "Support group",
    }


def sent_message(chat: int, message_id: int, text: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat_json(chat),
        "date": NOW,
        "text": text,
    }


def message_json(
    chat: int,
    message_id: int,
    text: str | None,
    *,
    user: int = 42,
    is_bot: bool = False,
    reply_to: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": user_json(user, is_bot=is_bot),
        "chat": chat_json(chat),
        "date": NOW,
    }
    if text is not None:
        message["text"] = text
    ents = list(entities or [])
    if text and text.startswith("/"):
        ents.insert(0, {"offset": 0, "length": utf16(text.split()[0]), "type": "bot_command"})
    if text and f"@{BOT_USERNAME}" in text and not text.startswith("/"):
        start = text.index(f"@{BOT_USERNAME}")
        ents.append(
            {"offset": utf16(text[:start]), "length": utf16(BOT_USERNAME) + 1, "type": "mention"}
        )
    if ents:
        message["entities"] = ents
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return message


def update(update_id: int, **kinds: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": update_id, **kinds}


def private_text(
    update_id: int, text: str, *, chat: int = 42, message_id: int = 10
) -> dict[str, Any]:
    return update(update_id, message=message_json(chat, message_id, text, user=chat))


def group_text(
    update_id: int,
    text: str | None,
    *,
    chat: int = -1001234567890,
    message_id: int = 20,
    user: int = 42,
    is_bot: bool = False,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return update(
        update_id,
        message=message_json(chat, message_id, text, user=user, is_bot=is_bot, reply_to=reply_to),
    )


def edited_group_text(
    update_id: int, text: str, *, chat: int = -1001234567890, message_id: int = 20, user: int = 42
) -> dict[str, Any]:
    message = message_json(chat, message_id, text, user=user)
    message["edit_date"] = NOW + 60
    return update(update_id, edited_message=message)


def reply_to_bot(
    update_id: int, text: str, *, chat: int = -1001234567890, message_id: int = 30
) -> dict[str, Any]:
    return group_text(
        update_id,
        text,
        chat=chat,
        message_id=message_id,
        reply_to=sent_message(chat, 5, "earlier answer"),
    )


def callback_query(
    update_id: int,
    data: str,
    message: dict[str, Any],
    *,
    user: int = 7,
    language: str = "en",
    query_id: str | None = None,
) -> dict[str, Any]:
    """A tap on an inline button of `message` (as `FakeTelegram.bot_message` returns it)."""
    return update(
        update_id,
        callback_query={
            "id": query_id or f"{4_382_000_000_000_000 + update_id}",
            "from": user_json(user, language=language),
            "message": message,
            "chat_instance": f"-{abs(message['chat']['id'])}77",
            "data": data,
        },
    )


def reply(
    update_id: int,
    text: str,
    replied: dict[str, Any],
    *,
    user: int = 7,
    message_id: int = 90,
) -> dict[str, Any]:
    """A message replying to `replied` (as `FakeTelegram.bot_message` returns it)."""
    chat = int(replied["chat"]["id"])
    message = message_json(chat, message_id, text, user=user, reply_to=replied)
    return update(update_id, message=message)


def sticker(update_id: int, *, chat: int = 42) -> dict[str, Any]:
    message = message_json(chat, 77, None, user=chat)
    message["sticker"] = {
        "file_id": "CAACAgIAAxk",
        "file_unique_id": "AgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return update(update_id, message=message)


def photo_without_caption(update_id: int, *, chat: int = 42) -> dict[str, Any]:
    message = message_json(chat, 78, None, user=chat)
    message["photo"] = [
        {
            "file_id": "AgACAgIAAxk",
            "file_unique_id": "AQAD",
            "width": 90,
            "height": 90,
            "file_size": 1234,
        }
    ]
    return update(update_id, message=message)


def channel_post(update_id: int) -> dict[str, Any]:
    return update(
        update_id,
        channel_post={
            "message_id": 5,
            "sender_chat": {"id": -1009876543210, "type": "channel", "title": "News"},
            "chat": {"id": -1009876543210, "type": "channel", "title": "News"},
            "date": NOW,
            "text": "channel news",
        },
    )


# --- the adapter on a background event loop, and what it enqueued ---------------------------

T = TypeVar("T")


class AdapterThread:
    """A started TelegramAdapter whose event loop runs on a daemon thread."""

    def __init__(
        self, settings: Settings, *, poll: bool = True, review: ReviewActions | None = None
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.runtime = configure(settings)
        self.adapter = TelegramAdapter(settings, self.runtime, review)
        self.call(self.adapter.start())
        self._poll: asyncio.Task[None] | None = None
        if poll:
            self._poll = self.call(self._start_polling())

    async def _start_polling(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.adapter.poll())

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._poll is not None:
            self.loop.call_soon_threadsafe(self._poll.cancel)
        self.call(self.adapter.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def queued_kwargs(client: redis.Redis, queue: str, name: str) -> list[dict[str, Any]]:
    """The keyword argument `name` of each task waiting in a Celery queue (kombu's Redis format)."""
    out = []
    for raw in client.lrange(queue, 0, -1):
        body = json.loads(base64.b64decode(json.loads(raw)["body"]))
        out.append(body[1][name])
    return out


def queued_events(client: redis.Redis, queue: str = "models") -> list[str]:
    """Event ids of the answer_message tasks waiting in a Celery queue."""
    return [str(message["event_id"]) for message in queued_kwargs(client, queue, "message")]
