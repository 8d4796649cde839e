"""`/parley kb search`: the knowledge-base search a command runs, and its results as Slack text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.slack.render import escape
from workers.runtime import Runtime


class KbSearch(Protocol):
    """Searches the knowledge base: (query, k) -> hits as dicts with title, source, url, text."""

    def __call__(self, query: str, k: int) -> Sequence[Mapping[str, Any]]: ...


def render_hits(query: str, hits: Sequence[Mapping[str, Any]]) -> str:
    """Search results as Slack text: title (linked where possible) and a short excerpt."""
    if not hits:
        return f"Nothing in the knowledge base matches _{escape(query)}_."
    lines = [f"Results for _{escape(query)}_:"]
    for hit in hits:
        title = escape(str(hit.get("title") or hit.get("source") or "untitled")).replace("|", "/")
        url = str(hit.get("url") or "")
        label = f"<{url}|{title}>" if url.startswith(("https://", "http://")) else f"*{title}*"
        excerpt = " ".join(str(hit.get("text") or "").split())[:200]
        lines.append(f"• {label}: {escape(excerpt)}")
    return "\n".join(lines)


def knowledge_base_search(runtime: Runtime) -> KbSearch:
    """Search on the configured knowledge base, loaded in this process on first use."""
    from retrieval.factory import build_knowledge_base  # the embedder loads only when searched

    kb = build_knowledge_base(runtime.settings)

    def search(query: str, k: int) -> Sequence[Mapping[str, Any]]:
        return [hit.to_dict() for hit in kb.search(query, k=k)]

    return search
