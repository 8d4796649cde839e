"""Fixing a translation from Slack: the "Fix translation" message shortcut and its modal, driven
through the real bolt App behind waitress with signed Slack payloads (message_action,
view_submission), the fake Slack Web API, real Redis, and (end to end) a real worker that posts
the translation and then edits it."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import waitress

from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.corrections import SHORTCUT_FIX
from bot.slack.corrections_render import FIX_VIEW
from bot.slack.server import SlackWsgiApp
from bot.types import IncomingMessage, MessageKind
from tests.conftest import WorkerProcess
from tests.fake_slack import (
    SECRET,
    TOKEN,
    FakeSlackServer,
    bot_message_fields,
    envelope,
    message_event,
    shortcut_payload,
    view_submission_payload,
)
from tests.fakes_translation import seed_posted_translation
from tests.integration.test_slack_http import Endpoint, queued, wait_for
from workers.app import DELIVER_REPLY
from workers.corrections import AGENTS_ONLY, find_posted_translation
from workers.keys import Keys
from workers.preferences import ChannelSettings
from workers.runtime import configure

pytestmark = pytest.mark.integration

ORIGINAL = "¿Dónde está la factura de abril? Escríbeme a ana@example.com"
FIXED = "Where is the April invoice? Write to me at ana@example.com"


@pytest.fixture
def endpoint(
    make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Iterator[Endpoint]:
    overrides = getattr(request, "param", {})  # more settings, from indirect parametrization
    with FakeSlackServer() as fake:
        settings = make_settings(
            slack_api_url=fake.url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_channel_interval=0.0,
            **overrides,
        )
        runtime = configure(settings)
        runtime.preferences.set_channel(
            "slack", "C0001", ChannelSettings(languages=("en", "es"), auto_translate=True)
        )
        app = build_app(settings, runtime)
        server = waitress.create_server(
            SlackWsgiApp(app, settings.slack_path), host="127.0.0.1", port=0, threads=4
        )
        threading.Thread(target=server.run, daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}{settings.slack_path}"  # type: ignore[union-attr]
        yield Endpoint(url, fake, runtime, settings)
        server.close()


def interact(endpoint: Endpoint, payload: dict[str, Any]) -> tuple[int, str]:
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    return endpoint.post(body, content_type="application/x-www-form-urlencoded")


def fix_shortcut(endpoint: Endpoint, ts: str, *, user: str = "U0002", **kw: Any) -> None:
    """Use "Fix translation" on the message `ts` of C0001 (as Slack sends it)."""
    stored = next((m for m in endpoint.fake.messages.get("C0001", []) if m["ts"] == ts), None)
    message = bot_message_fields(stored) if stored else None
    payload = shortcut_payload(
        str((stored or {}).get("text") or "hola"),
        ts=ts,
        user=user,
        callback_id=SHORTCUT_FIX,
        message=message,
        **kw,
    )
    status, body = interact(endpoint, payload)
    assert status == 200 and not body


def opened_view(endpoint: Endpoint, n: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `n`th views.open call's arguments and its view."""
    wait_for(lambda: len(endpoint.fake.of("views.open")) > n)
    params = endpoint.fake.of("views.open")[n].params
    view = params["view"]
    return params, view if isinstance(view, dict) else json.loads(view)


def ephemerals(endpoint: Endpoint) -> list[dict[str, Any]]:
    return [c.params for c in endpoint.fake.of("chat.postEphemeral")]


def corrections(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    stream = Keys(settings.namespace).translation_corrections_stream()
    return [json.loads(fields["data"]) for _, fields in client.xrange(stream)]


def seed_translation(endpoint: Endpoint, client: redis.Redis, posted_ts: str) -> str:
    """What the pipeline does without a worker: translate the message (tagging translator) and
    map the post's ts to it, as the delivery task does once Slack answered. Returns its text."""
    message = IncomingMessage(
        platform="slack", channel="C0001", user="U0001", event_id="C0001:1700000000.000100",
        message_id="1700000000.000100", text=ORIGINAL, kind=MessageKind.CHANNEL,
    )  # fmt: skip
    [translation] = seed_posted_translation(endpoint.settings, client, message, posted_ts)
    endpoint.fake.add_message(
        "C0001", translation.text, ts=posted_ts, user="UPARLEY", bot_id="BPARLEY",
        thread_ts="1700000000.000100",
    )  # fmt: skip
    return translation.text


def test_fix_translation_end_to_end_edits_the_post_and_feeds_learning(
    endpoint: Endpoint, redis_client: redis.Redis, start_worker: Callable[..., WorkerProcess]
) -> None:
    fake, settings = endpoint.fake, endpoint.settings
    start_worker(
        PARLEY_SLACK_API_URL=fake.url, PARLEY_SLACK_BOT_TOKEN=TOKEN,
        PARLEY_SLACK_CHANNEL_INTERVAL="0",
        PARLEY_TRANSLATOR_FACTORY="tests.fakes_translation:build_recording_translator",
    )  # fmt: skip
    source_ts = "1700000200.000100"
    assert endpoint.event(envelope(message_event(ORIGINAL, ts=source_ts), event_id="Ev1"))[0] == 200
    wait_for(lambda: len(fake.of("chat.postMessage")) == 1)
    [post] = [m for m in fake.messages["C0001"] if m.get("thread_ts") == source_ts]
    ts = post["ts"]
    wait_for(
        lambda: find_posted_translation(redis_client, settings, "slack", "C0001", ts) is not None
    )
    posted = find_posted_translation(redis_client, settings, "slack", "C0001", ts)
    assert posted is not None and posted.text.startswith("[en] ")

    fix_shortcut(endpoint, ts, trigger_id="1700000300.9.fix")
    params, view = opened_view(endpoint)
    assert params["trigger_id"] == "1700000300.9.fix"
    assert view["callback_id"] == FIX_VIEW and view["title"]["text"] == "Fix translation"
    assert json.loads(view["private_metadata"]) == {"channel": "C0001", "ts": ts}
    [context, field] = view["blocks"]
    assert "factura de abril" in context["elements"][0]["text"]
    assert field["element"]["initial_value"] == posted.text
    assert field["element"]["multiline"] is True

    status, body = interact(
        endpoint, view_submission_payload(view, {"translation": FIXED}, user="U0002")
    )
    assert status == 200 and not body  # the modal closes
    wait_for(lambda: len(fake.of("chat.update")) == 1)
    update = fake.of("chat.update")[0].params
    assert (update["channel"], update["ts"], update["text"]) == ("C0001", ts, FIXED)
    assert [m["text"] for m in fake.messages["C0001"] if m["ts"] == ts] == [FIXED]

    [note] = ephemerals(endpoint)
    assert (note["channel"], note["user"], note["thread_ts"]) == ("C0001", "U0002", source_ts)
    assert "correction" in note["text"] and "learns" in note["text"]
    [data] = corrections(redis_client, settings)
    assert data["corrected_translation"].startswith("Where is the April invoice?")
    assert data["machine_translation"].startswith("[en] ")
    assert "ana@example.com" not in json.dumps(data).lower()  # redacted before it is stored
    assert (data["user"], data["target_language"]) == ("slack:U0002", "en")

    # The same text again: nothing changes, nothing more is recorded or edited.
    status, body = interact(
        endpoint, view_submission_payload(view, {"translation": FIXED}, user="U0002")
    )
    assert status == 200 and not body
    wait_for(lambda: len(ephemerals(endpoint)) == 2)
    assert ephemerals(endpoint)[1]["text"].startswith("Nothing changed")
    assert len(corrections(redis_client, settings)) == 1 and len(fake.of("chat.update")) == 1


def test_unknown_message_is_explained_and_opens_no_modal(endpoint: Endpoint) -> None:
    fake = endpoint.fake
    fake.add_message("C0001", "just a message", ts="1700000400.000100")
    fix_shortcut(endpoint, "1700000400.000100", user="U0003")
    wait_for(lambda: len(ephemerals(endpoint)) == 1)
    [note] = ephemerals(endpoint)
    assert (note["channel"], note["user"]) == ("C0001", "U0003")
    assert "only fix its own translations from the last 2 days" in note["text"]
    assert "Translate for me" in note["text"]
    assert fake.of("views.open") == []


def test_submissions_errors_unchanged_and_the_enqueued_edit(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    fake, settings = endpoint.fake, endpoint.settings
    ts = "1700000500.000200"
    text = seed_translation(endpoint, redis_client, ts)

    fake.refuse_methods["views.open"] = "expired_trigger_id"  # too slow: the user is told
    fix_shortcut(endpoint, ts)
    wait_for(lambda: len(ephemerals(endpoint)) == 1)
    assert ephemerals(endpoint)[0]["text"].startswith("Sorry, the dialog could not be opened")
    del fake.refuse_methods["views.open"]

    fix_shortcut(endpoint, ts)
    _, view = opened_view(endpoint, 1)
    assert view["blocks"][1]["element"]["initial_value"] == text

    def submit(value: str | None) -> tuple[int, dict[str, Any]]:
        status, body = interact(
            endpoint, view_submission_payload(view, {"translation": value}, user="U0002")
        )
        return status, json.loads(body) if body else {}

    status, answer = submit(None)
    assert status == 200 and answer["response_action"] == "errors"
    assert answer["errors"]["translation"].startswith("The corrected translation is empty")
    status, answer = submit("x" * 5000)
    assert answer["response_action"] == "errors"
    assert "too long (5000 characters, at most 4000)" in answer["errors"]["translation"]
    assert submit(text) == (200, {})  # unchanged: the modal closes, nothing is sent
    wait_for(lambda: len(ephemerals(endpoint)) == 2)
    assert ephemerals(endpoint)[1]["text"].startswith("Nothing changed")
    assert queued(redis_client, "io") == [] and corrections(redis_client, settings) == []

    assert submit(FIXED) == (200, {})
    [task] = queued(redis_client, "io")
    raw = json.loads(redis_client.lindex("io", 0) or "{}")
    assert raw["headers"]["task"] == DELIVER_REPLY
    edit = task["outgoing"]
    assert (edit["channel"], edit["text"], edit["kind"]) == ("C0001", FIXED, "translation")
    assert edit["replaces"] == "translation:slack:C0001:1700000000.000100:en"
    assert edit["metadata"]["corrected_by"] == "slack:U0002"
    [data] = corrections(redis_client, settings)
    assert "ana@example.com" not in json.dumps(data) and data["user"] == "slack:U0002"
    wait_for(lambda: len(ephemerals(endpoint)) == 3)
    assert "learns from corrections" in ephemerals(endpoint)[2]["text"]


@pytest.mark.parametrize(
    "endpoint", [{"translation_fixers": "agents", "review_agents": "slack:U0009"}], indirect=True
)
def test_with_fixers_set_to_agents_others_are_told_and_get_no_form(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    posted_ts = "1700000500.000100"
    seed_translation(endpoint, redis_client, posted_ts)
    fix_shortcut(endpoint, posted_ts, user="U0002")
    wait_for(lambda: len(ephemerals(endpoint)) == 1)
    [note] = ephemerals(endpoint)
    assert note["user"] == "U0002"
    assert note["text"] == f"{AGENTS_ONLY}."
    assert endpoint.fake.of("views.open") == []
    fix_shortcut(endpoint, posted_ts, user="U0009")  # an agent gets the form
    _, view = opened_view(endpoint)
    assert view["callback_id"] == "parley_fix_translation_view"
