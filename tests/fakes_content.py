"""A scripted `ChatModel` for the content tasks (PARLEY_CHAT_MODEL_FACTORY in worker tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.settings import Settings


class EchoChat:
    """Summarises by naming who spoke; drafts by echoing the brief. One token per word."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(
        self, chats: Sequence[Sequence[Mapping[str, str]]], *, max_new_tokens: int
    ) -> list[str]:
        out = []
        for chat in chats:
            user = chat[-1]["content"]
            if user.startswith("Summarize this conversation:"):
                names = sorted({line.split(":")[0] for line in user.splitlines()[1:]})
                out.append(f"{' and '.join(names)} talked.")
            elif "Brief:" in user:
                out.append("DRAFT: " + user.split("Brief:", 1)[1].strip())
            else:
                out.append("merged.")
        return out


def build_echo_chat(settings: Settings) -> EchoChat:
    return EchoChat()
