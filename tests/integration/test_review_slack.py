"""Reviewing drafts in Slack end to end: the real bolt App behind waitress fed signed Slack
payloads (events, block_actions, view_submission, slash commands), a real worker, the fake Slack
Web API. Customers write in C0001; agents review in C0REVIEW."""

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
from bot.slack.server import SlackWsgiApp
from tests.conftest import WorkerProcess
from tests.fake_slack import (
    SECRET,
    TOKEN,
    Call,
    FakeSlackServer,
    block_actions_payload,
    envelope,
    mention_event,
    view_submission_payload,
)
from tests.integration.test_slack_http import Endpoint, wait_for
from workers.preferences import ChannelSettings
from workers.runtime import configure

pytestmark = pytest.mark.integration

AGENTS = "slack:UAGENT,slack:UBEN"


@pytest.fixture
def endpoint(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> Iterator[Endpoint]:
    with FakeSlackServer() as fake:
        fake.users["UADMIN"] = {"is_admin": True}
        settings = make_settings(
            slack_api_url=fake.url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_channel_interval=0.0,
            review_agents=tuple(AGENTS.split(",")),
            max_input_chars=300,
        )
        runtime = configure(settings)
        review = ChannelSettings(policy="review", review_destination="slack:C0REVIEW")
        runtime.preferences.set_channel("slack", "C0001", review)
        app = build_app(settings, runtime)
        server = waitress.create_server(
            SlackWsgiApp(app, settings.slack_path), host="127.0.0.1", port=0, threads=6
        )
        threading.Thread(target=server.run, daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}{settings.slack_path}"  # type: ignore[union-attr]
        start_worker(
            PARLEY_SLACK_API_URL=fake.url,
            PARLEY_SLACK_BOT_TOKEN=TOKEN,
            PARLEY_SLACK_CHANNEL_INTERVAL="0",
            PARLEY_REVIEW_AGENTS=AGENTS,
            PARLEY_MAX_INPUT_CHARS="300",
            PARLEY_TRANSLATOR_FACTORY="tests.fakes_translation:build_recording_translator",
        )
        yield Endpoint(url, fake, runtime, settings)
        server.close()


def interact(endpoint: Endpoint, payload: dict[str, Any]) -> tuple[int, str]:
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    return endpoint.post(body, content_type="application/x-www-form-urlencoded")


def click(endpoint: Endpoint, action: str, rid: str, user: str = "UAGENT", n: int = 0) -> str:
    """Click a card button; the ephemeral line the clicking user got back."""
    url = f"{endpoint.fake.url[:-4]}respond/click-{rid}-{user}-{action}-{n}"
    payload = block_actions_payload(f"review:{action}", rid, user=user, response_url=url)
    assert interact(endpoint, payload)[0] == 200
    path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    response = wait_for_value(
        lambda: [r for r in endpoint.fake.responses if r["path"].endswith(path.split("/")[-1])]
    )
    return str(response[0]["text"])


def wait_for_value(check: Callable[[], Any]) -> Any:
    box: list[Any] = []

    def done() -> bool:
        value = check()
        if value:
            box.append(value)
        return bool(value)

    wait_for(done)
    return box[0]


def posts(endpoint: Endpoint, channel: str) -> list[Call]:
    return [c for c in endpoint.fake.of("chat.postMessage") if c.params["channel"] == channel]


def ask(endpoint: Endpoint, text: str, ts: str, event: str) -> str:
    """A customer's mention in C0001; returns the review id from the card posted in C0REVIEW."""
    before = len(posts(endpoint, "C0REVIEW"))
    assert (
        endpoint.event(envelope(mention_event(f"<@UPARLEY> {text}", ts=ts), event_id=event))[0]
        == 200
    )
    card = wait_for_value(lambda: posts(endpoint, "C0REVIEW")[before:])[0]
    actions = next(b for b in card.params["blocks"] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def updates(endpoint: Endpoint) -> list[dict[str, Any]]:
    return [c.params for c in endpoint.fake.of("chat.update")]


def test_card_in_the_review_channel_edit_modal_and_bad_clicks(endpoint: Endpoint) -> None:
    fake = endpoint.fake
    rid = ask(endpoint, "how do I reset my password?", "1700000000.000100", "Ev1")
    note = posts(endpoint, "C0001")[0].params
    assert note["thread_ts"] == "1700000000.000100" and "support team will reply" in note["text"]
    card = posts(endpoint, "C0REVIEW")[0].params
    assert f"Review {rid}" in card["text"]
    blocks = card["blocks"]
    text = json.dumps(blocks)
    assert "how do I reset my password?" in text and "echo: how do I reset my password?" in text
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("review:approve", rid),
        ("review:edit", rid),
        ("review:reject", rid),
    ]

    assert (
        click(endpoint, "approve", rid, user="UOTHER") == "Only support agents can review drafts."
    )
    assert click(endpoint, "edit", rid, user="UOTHER", n=1).startswith("Only support agents")
    assert fake.of("views.open") == []

    assert (
        interact(endpoint, block_actions_payload("review:edit", rid, trigger_id="trig-e"))[0] == 200
    )
    opened = wait_for_value(lambda: fake.of("views.open"))[0].params
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert opened["trigger_id"] == "trig-e" and view["callback_id"] == "review_edit"
    assert view["blocks"][0]["element"]["initial_value"] == "echo: how do I reset my password?"

    status, body = interact(endpoint, view_submission_payload(view, {"answer": None}))
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"answer": "The edited text is empty."},
    }
    status, body = interact(endpoint, view_submission_payload(view, {"answer": "x" * 301}))
    assert "too long (301 characters; at most 300)" in json.loads(body)["errors"]["answer"]

    final = "Open Settings > Account and click Reset password."
    status, body = interact(endpoint, view_submission_payload(view, {"answer": final}))
    assert status == 200 and not body
    ephemeral = wait_for_value(lambda: fake.of("chat.postEphemeral"))[0].params
    assert (ephemeral["channel"], ephemeral["user"]) == ("C0REVIEW", "UAGENT")
    assert ephemeral["text"] == "Edited: your answer is being sent."
    answer = wait_for_value(lambda: posts(endpoint, "C0001")[1:])[0].params
    assert answer["text"] == "Open Settings &gt; Account and click Reset password."
    assert answer["thread_ts"] == "1700000000.000100"
    update = wait_for_value(lambda: updates(endpoint))[0]
    assert update["channel"] == "C0REVIEW"
    assert all(b["type"] != "actions" for b in update["blocks"])
    assert "Edited by ana" in json.dumps(update["blocks"])
    assert "Sent to the customer" in json.dumps(update["blocks"])

    assert click(endpoint, "approve", rid, n=2).startswith("Already edited by ana at ")
    assert click(endpoint, "reject", rid, n=3).startswith("Already edited by ana at ")


def test_concurrent_approvals_reject_modal_and_commands(endpoint: Endpoint) -> None:
    fake = endpoint.fake
    rid = ask(endpoint, "what does Premium cost?", "1700000001.000100", "Ev2")
    lines: list[str] = []
    threads = [
        threading.Thread(
            target=lambda u=u, i=i: lines.append(click(endpoint, "approve", rid, u, i))
        )
        for i, u in enumerate(["UAGENT", "UBEN"] * 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lines.count("Approved: the answer is being sent.") == 1
    assert sum(line.startswith("Already approved by ") for line in lines) == 5
    answer = wait_for_value(lambda: posts(endpoint, "C0001")[1:])[0].params
    assert (
        answer["text"].startswith("echo: what does Premium cost?")
        and "Sources: FAQ" in answer["text"]
    )
    wait_for(lambda: len(updates(endpoint)) == 1)

    rid2 = ask(endpoint, "can I pay by invoice?", "1700000002.000100", "Ev3")
    assert interact(endpoint, block_actions_payload("review:reject", rid2, user="UBEN"))[0] == 200
    opened = wait_for_value(lambda: fake.of("views.open"))[0].params
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "review_reject"
    submit = view_submission_payload(view, {"reason": "outdated", "answer": None}, user="UBEN")
    assert interact(endpoint, submit)[0] == 200
    wait_for(lambda: len(updates(endpoint)) == 2)
    decided = json.dumps(updates(endpoint)[1]["blocks"])
    assert "Rejected by ana" in decided and "Nothing was sent" in decided and "outdated" in decided

    # Commands: agents list and take; an admin points a channel at a review destination.
    assert endpoint.command("review pending", user="UAGENT")[0] == 200
    wait_for(lambda: any("No drafts are waiting" in r["text"] for r in fake.responses))
    assert endpoint.command("review pending", user="UOTHER")[0] == 200
    wait_for(lambda: any("Only support agents" in r["text"] for r in fake.responses))
    assert (
        endpoint.command("channel review <#C0RV2|reviews>", user="UADMIN", channel="C0009")[0]
        == 200
    )
    prefs = endpoint.runtime.preferences
    wait_for(lambda: prefs.channel("slack", "C0009").review_destination == "slack:C0RV2")
    assert len(posts(endpoint, "C0001")) == 3  # two notes and one answer: sent once


def test_undeliverable_review_destination_keeps_the_draft(
    endpoint: Endpoint, redis_client: redis.Redis, tmp_path: Any
) -> None:
    fake = endpoint.fake
    fake.refuse_channels["C0GONE"] = "channel_not_found"
    prefs = endpoint.runtime.preferences
    prefs.set_channel(
        "slack", "C0001", ChannelSettings(policy="review", review_destination="slack:C0GONE")
    )
    event = envelope(
        mention_event("<@UPARLEY> refund please", ts="1700000003.000100"), event_id="Ev4"
    )
    assert endpoint.event(event)[0] == 200
    wait_for(lambda: len(posts(endpoint, "C0GONE")) >= 1 and len(posts(endpoint, "C0001")) == 1)
    log = tmp_path / "w1.log"
    wait_for(lambda: "could not be posted to slack:C0GONE" in log.read_text())
    assert endpoint.command("review pending", user="UAGENT")[0] == 200
    listed = wait_for_value(lambda: [r for r in fake.responses if "waiting" in r["text"]])[0]
    assert "card not posted" in listed["text"] and "channel_not_found" in listed["text"]
    assert "refund please" in listed["text"]

    # The bot is invited: taking the review posts the card again, with its buttons.
    rid = listed["text"].splitlines()[1].split()[0]
    fake.refuse_channels.clear()
    refused = len(posts(endpoint, "C0GONE"))
    assert endpoint.command(f"review take {rid}", user="UAGENT")[0] == 200
    wait_for(lambda: any("You took review" in r["text"] for r in fake.responses))
    card = wait_for_value(lambda: posts(endpoint, "C0GONE")[refused:])[0].params
    assert any(b["type"] == "actions" for b in card["blocks"])
    assert "Taken by ana" in json.dumps(card["blocks"])


def test_customer_on_another_platform_is_answered_after_a_slack_approval(
    endpoint: Endpoint, redis_client: redis.Redis
) -> None:
    """Cross-platform: the customer is on the local platform (standing in for Telegram at the
    workers level), the agents in Slack; the answer goes back through the customer's deliverer."""
    from bot.types import IncomingMessage
    from workers.intake import accept_message
    from workers.keys import Keys

    runtime = endpoint.runtime
    runtime.preferences.set_channel(
        "local", "-1001", ChannelSettings(policy="review", review_destination="slack:C0REVIEW")
    )
    message = IncomingMessage(
        platform="local",
        channel="-1001",
        user="42",
        text="¿Cuánto cuesta Premium?",
        event_id="tg-1",
        language="es",
        user_name="Lucía",
    )
    assert accept_message(message, runtime)
    card = wait_for_value(lambda: posts(endpoint, "C0REVIEW"))[0].params
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    assert "Lucía" in shown and "[en] ¿CUÁNTO CUESTA PREMIUM?" in shown
    rid = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    assert click(endpoint, "approve", rid) == "Approved: the answer is being sent."
    outbox = Keys("parley").local_reply("tg-1")
    wait_for(lambda: redis_client.llen(outbox) == 2)
    answer = json.loads(redis_client.lindex(outbox, 1) or "{}")
    assert answer["text"] == "echo: ¿Cuánto cuesta Premium?"
    assert answer["metadata"]["review_id"] == rid
