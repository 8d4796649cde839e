"""The one typed settings object. Built at the entry point (CLI, worker) and passed down.

Every field reads from `PARLEY_<NAME>` (or a `.env` file in the working directory). Library code
never reads the environment itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigurationError

ENV_PREFIX = "PARLEY_"


def _default_data_dir() -> Path:
    return platformdirs.user_data_path("parley")


def _default_cache_dir() -> Path:
    return platformdirs.user_cache_path("parley")


class Settings(BaseSettings):
    """Effective configuration of one Parley process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", validate_default=True
    )

    # Storage
    data_dir: Path = Field(default_factory=_default_data_dir, description="Parley's data folder")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Converted-model cache")
    kb_dir: Path | None = Field(None, description="Knowledge-base folder (default: DATA_DIR/kb)")

    # Retrieval
    embedding_model: str = Field(
        "builtin:multilingual-e5-small",
        description="Embedding model: builtin:<name>, a local folder or a hub id",
    )
    embedding_batch_size: int = Field(32, ge=1, le=1024)
    index_factory: str = Field("Flat", description="FAISS index factory string")
    hybrid_search: bool = Field(True, description="Fuse BM25 with dense search")
    chunk_chars: int = Field(1200, ge=200, le=20000)
    chunk_overlap: int = Field(150, ge=0, le=5000)
    search_k: int = Field(5, ge=1, le=100)
    lexical_weight: float = Field(
        0.3, ge=0.0, le=10.0, description="Weight of BM25 against dense (1.0) in hybrid fusion"
    )
    index_nprobe: int = Field(16, ge=1, description="IVF lists searched per query (IVF factories)")
    index_ef_search: int = Field(128, ge=1, description="HNSW efSearch (HNSW factories)")
    embedding_allow_download: bool = Field(
        False, description="Let a hub-id embedding model download when it is not cached"
    )

    # Models
    dialogue_model: str = Field(
        "builtin:qwen2.5-coder-0.5b-instruct",
        description="Dialogue model: builtin:<name>, a local folder or a hub id",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_new_tokens: int = Field(200, ge=1, le=4096)
    max_input_chars: int = Field(4000, ge=100, description="Longer messages are truncated")
    confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    # Cosine of the best hit with the builtin multilingual e5 (its scores bunch in 0.7-0.95):
    # answerable sample-KB and FAQ questions scored >= 0.80, off-topic ones mostly below
    # (bench/bench_answers.py --gate-scores). Recalibrate for another embedding model.
    min_retrieval_score: float = Field(0.8, description="Below this, escalate without drafting")
    draft_context_chars: int = Field(
        2400, ge=200, le=50000, description="Passage text a draft prompt may carry"
    )
    query_translation: bool = Field(
        False,
        description="Also search a non-English question's English translation by the dialogue "
        "model (seconds per question on a CPU; see docs/models.md)",
    )
    answer_translation: bool = Field(
        True,
        description="Translate an answer the dialogue model drafted in another language than "
        "the asker's into theirs (docs/models.md)",
    )
    draft_passages: int = Field(
        3, ge=1, le=20, description="Best passages shown to the dialogue model (of SEARCH_K)"
    )
    default_language: str = Field(
        "en", pattern=r"^[a-z]{2}$", description="Reply language when detection is unsure"
    )
    # Inference (docs/models.md "Inference backends")
    inference_backend: Literal["auto", "transformers", "int8", "ctranslate2"] = Field(
        "auto",
        description="What runs the dialogue/translation model: auto (the measured fastest that "
        "keeps answers, see PARLEY_INFERENCE_COMPUTE_TYPE), transformers, int8 (torch dynamic, "
        "CPU) or ctranslate2",
    )
    inference_compute_type: Literal[
        "auto", "float32", "float16", "bfloat16", "bfloat16_float32", "int8", "int8_float32",
        "int8_float16", "int8_bfloat16",
    ] = Field(
        "auto",
        description="auto: on a CPU with native bf16 transformers bfloat16_float32, on other "
        "CPUs CTranslate2 float32, on CUDA bf16/fp16; float32/bfloat16/"
        "float16: the transformers weights' dtype or CTranslate2's compute type (bfloat16 on a "
        "CPU: transformers, fast only with native bf16); bfloat16_float32: transformers with "
        "bf16 matrix products and float32 elsewhere; int8*: CTranslate2",
    )  # fmt: skip
    inference_threads: int = Field(0, ge=0, le=256, description="CPU threads (0: all cores)")
    inference_max_batch: int = Field(
        16, ge=1, le=256, description="Requests generated together (across conversations)"
    )
    inference_batch_wait_ms: float = Field(
        30.0, ge=0.0, le=1000.0, description="How long a request waits for others to batch with"
    )
    inference_static_cache: bool = Field(
        False,
        description="CUDA, transformers backend: a static KV cache, so transformers compiles the "
        "decode step (torch.compile, CUDA graphs); each new batch size compiles once (~40 s)",
    )
    inference_prompt_lookup: int = Field(
        16,
        ge=0,
        le=64,
        description="transformers backend: check up to this many tokens copied from the "
        "prompt (passages, mentions, links) per request in one pass, keeping the model's own "
        "greedy choices (the same answers in fewer passes; fewer per request in wide batches); "
        "0 turns it off",
    )
    # Streaming replies (docs/runtime.md "Streaming")
    streaming: bool = Field(
        True,
        description="Show answers while they are generated: a typing indicator, then the "
        "message edited as the text grows (Slack, Telegram, local chat)",
    )
    streaming_slack_interval: float = Field(
        1.2, ge=0.5, le=60.0, description="Seconds between two edits of a streamed Slack reply"
    )
    streaming_telegram_interval: float = Field(
        1.5, ge=1.0, le=60.0, description="Seconds between two edits in a Telegram private chat"
    )
    streaming_telegram_group_interval: float = Field(
        3.0, ge=3.0, le=60.0, description="Seconds between two edits in a Telegram group"
    )
    streaming_typing_interval: float = Field(
        4.0, ge=1.0, le=5.0, description="Seconds between Telegram 'typing' actions (they last 5)"
    )
    streaming_local_interval: float = Field(
        0.1, ge=0.01, le=5.0, description="Seconds between partial answers in `parley chat`"
    )

    # Translation (docs/translation.md)
    translation_models: dict[str, str] = Field(
        default_factory=lambda: {"*": "builtin:qwen2.5-coder-0.5b-instruct"},
        description="Language pair -> model: 'en-de', 'en-*', '*-de' or '*' mapped to a hub id, "
        "folder or builtin:<name> (JSON in the environment)",
    )
    translation_batch_size: int = Field(8, ge=1, le=256, description="Segments per generate()")
    translation_compute_type: Literal[
        "auto", "same", "float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16",
        "int8_bfloat16",
    ] = Field(
        "auto",
        description="Compute type of the instruct translator on CTranslate2 (auto: int8 on CPU "
        "when the inference settings are auto, as measured by bench/bench_translation_compute.py; "
        "same: PARLEY_INFERENCE_COMPUTE_TYPE)",
    )  # fmt: skip
    translation_max_new_tokens: int = Field(256, ge=8, le=4096)
    translation_segment_chars: int = Field(
        400, ge=50, le=5000, description="Longer lines are split on sentences before translating"
    )
    glossary_file: Path | None = Field(
        None, description="Default glossary (JSON Lines) for workspaces without their own"
    )
    translator_factory: str = Field(
        "nlp.translation:build_translator",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' taking Settings and returning a Translator",
    )
    chat_model_factory: str = Field(
        "nlp.content.chat_model:load_chat_model",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' taking Settings and returning the ChatModel that "
        "summarises threads and drafts content",
    )

    # Redis and Celery
    redis_url: str | None = Field(None, description="Redis URL; unset = embedded Redis")
    broker_url: str | None = Field(None, description="Celery broker (default: REDIS_URL)")
    state_redis_url: str | None = Field(None, description="Redis for TTL'd state")
    namespace: str = Field("parley", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    task_soft_time_limit: int = Field(300, ge=1)
    task_time_limit: int = Field(360, ge=1)
    visibility_timeout: int = Field(3900, ge=1)
    task_expires: int = Field(3600, ge=1, description="Seconds a queued task stays valid")
    history_turns: int = Field(10, ge=0, le=200)
    history_tokens: int = Field(1200, ge=0)
    conversation_ttl: int = Field(7 * 24 * 3600, ge=60)
    dedupe_ttl: int = Field(48 * 3600, ge=60, description="Must outlive platform retry windows")
    thread_log_ttl: int = Field(
        7 * 24 * 3600, ge=60, description="How long channel messages are kept for summaries"
    )
    thread_log_max: int = Field(1000, ge=10, description="Messages kept per channel for summaries")
    triage: bool = Field(True, description="Classify sentiment and urgency of support messages")
    oncall_destination: str = Field(
        "", description="'platform:channel' pinged about urgent messages and negative spikes"
    )
    sentiment_window_hours: int = Field(48, ge=1, le=24 * 90)
    sentiment_alert_min: int = Field(5, ge=1, description="Negatives in an hour before alerting")
    sentiment_alert_ratio: float = Field(
        2.0, ge=1.0, description="Alert when the hour's negative share is this many times the day's"
    )
    task_max_retries: int = Field(5, ge=0, le=100, description="Retries for transient errors")
    reply_timeout: float = Field(300.0, gt=0, description="Seconds `ask`/`chat` wait for a reply")
    answerer_factory: str = Field(
        "nlp.answering:build_answerer",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' taking Settings and returning an Answerer",
    )

    # Platforms
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = Field(
        "https://slack.com/api/",
        description="Slack Web API base URL (GovSlack: https://slack-gov.com/api/; tests: a fake)",
    )
    slack_mode: Literal["auto", "socket", "http"] = Field(
        "auto", description="Slack connection: socket (app token), http (Events API), auto"
    )
    slack_host: str = Field("127.0.0.1", description="Address the Slack HTTP endpoint binds to")
    slack_port: int = Field(3000, ge=1, le=65535, description="Port of the Slack HTTP endpoint")
    slack_path: str = Field("/slack/events", pattern=r"^/[\w/.-]*$")
    slack_http_threads: int = Field(8, ge=1, le=256, description="HTTP endpoint worker threads")
    slack_admin_usergroup: str = Field(
        "", description="Slack user group id whose members may change channel settings"
    )
    slack_channel_interval: float = Field(
        1.0, ge=0.0, le=60.0, description="Seconds between two posts to one Slack channel"
    )
    slack_rate_max_wait: float = Field(
        20.0, ge=0.0, le=240.0, description="Longest a delivery sleeps for its slot before retrying"
    )
    slack_max_chars: int = Field(3500, ge=200, le=40000, description="Longer posts are split")
    slack_intake_timeout: float = Field(
        2.0,
        gt=0.0,
        le=2.8,
        description="Seconds an incoming Slack event may take to be enqueued before Parley "
        "answers 503 so Slack redelivers it (Slack's own limit is 3 s)",
    )
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = Field(
        "polling", description="How updates arrive: long polling or a webhook"
    )
    telegram_webhook_url: str | None = Field(
        None, description="Public HTTPS URL Telegram posts updates to (webhook mode)"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None, description="secret_token for the webhook: 1-256 of A-Z a-z 0-9 _ -"
    )
    telegram_webhook_listen: str = Field("127.0.0.1", description="Webhook server address")
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_webhook_path: str = Field("/telegram/webhook", pattern=r"^/[\w./-]*$")
    telegram_poll_timeout: int = Field(30, ge=0, le=50, description="getUpdates long-poll seconds")
    telegram_rate_per_chat: float = Field(1.0, gt=0, description="Messages/s to one chat")
    telegram_rate_per_group: float = Field(20.0, gt=0, description="Messages/min to one group")
    telegram_rate_global: float = Field(30.0, gt=0, description="Messages/s over all chats")
    telegram_max_wait: float = Field(
        10.0, ge=0, description="Seconds a sender waits for a rate-limit slot before retrying later"
    )
    telegram_inbox_grace: float = Field(
        60.0, gt=0, description="Seconds before an unfinished update is handled again"
    )
    telegram_command_languages: tuple[str, ...] = Field(
        ("en", "de", "es", "fr", "it", "pt", "ru", "uk"),
        description="Languages the bot's command menu is registered in (setMyCommands)",
    )

    # Review (docs/review.md)
    review_agents: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Support agents who may review drafts: comma list of platform:user_id "
        "(e.g. slack:U123,telegram:42)",
    )
    review_expiry: int = Field(
        4 * 3600, ge=1, le=7 * 24 * 3600, description="Seconds a draft waits for an agent"
    )
    review_destination: str = Field(
        "",
        pattern=r"^$|^(slack|telegram|local):\S+$",
        description="Where drafts are reviewed for channels and chats without their own review "
        "destination (e.g. every Telegram private chat); platform:channel",
    )
    review_escalation: str = Field(
        "",
        pattern=r"^$|^(slack|telegram|local):\S+$",
        description="Where expired drafts are escalated (platform:channel; default: the review "
        "destination itself)",
    )
    translation_fixers: Literal["anyone", "agents"] = Field(
        "anyone",
        description="Who may fix a translation Parley posted: anyone who can see it, or only "
        "support agents (PARLEY_REVIEW_AGENTS and agents added at run time)",
    )

    # Learning loop (docs/learning.md)
    learning_dir: Path | None = Field(
        None, description="Datasets and trained model versions (default: DATA_DIR/learning)"
    )
    learning_min_examples: int = Field(
        20, ge=1, description="Fewest training examples a fine-tuning run accepts"
    )
    learning_margin: float = Field(
        0.5, ge=0.0, description="chrF points a new model must gain over the current one"
    )
    learning_epochs: int = Field(2, ge=1, le=100)
    learning_rate: float = Field(2e-4, gt=0.0, lt=1.0, description="Fine-tuning learning rate")
    learning_batch_size: int = Field(8, ge=1, le=1024)
    learning_max_length: int = Field(256, ge=16, le=8192, description="Tokens per example")
    learning_seed: int = 13
    learning_time_limit: int = Field(
        6 * 3600, ge=60, description="Seconds a training task may run (Celery hard limit)"
    )
    learning_poll_seconds: float = Field(
        30.0, gt=0.0, description="How often workers check for a newly promoted model"
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level of CLI commands (workers: parley worker --loglevel)"
    )

    @field_validator("review_agents", mode="before")
    @classmethod
    def _split_agents(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        for item in value:
            if not re.match(r"^(slack|telegram|local):\S+$", str(item)):
                raise ValueError(f"review agent {item!r}: use platform:user_id (slack:U123)")
        return tuple(value)

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("task_soft_time_limit must be below task_time_limit")
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError("visibility_timeout must exceed task_time_limit")
        if self.chunk_overlap >= self.chunk_chars:
            raise ValueError("chunk_overlap must be below chunk_chars")
        _check_translation_models(self.translation_models)
        return self

    @property
    def knowledge_base_dir(self) -> Path:
        return self.kb_dir if self.kb_dir is not None else self.data_dir / "kb"

    @property
    def learning_root(self) -> Path:
        return self.learning_dir if self.learning_dir is not None else self.data_dir / "learning"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured and Parley runs its own."""
        return self.redis_url is None

    def masked(self) -> dict[str, Any]:
        """Settings as plain values with secrets masked, for `parley config`."""
        out: dict[str, Any] = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif isinstance(value, Path):
                out[name] = str(value)
            elif isinstance(value, str) and "://" in value and "@" in value:
                scheme, rest = value.split("://", 1)
                out[name] = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
            else:
                out[name] = value
        return out


_PAIR_KEY = re.compile(r"^(?:\*|[a-z]{2,3}-[a-z]{2,3}|[a-z]{2,3}-\*|\*-[a-z]{2,3})$")


def _check_translation_models(models: dict[str, str]) -> None:
    if not models:
        raise ValueError("translation_models must name at least one model (e.g. '*')")
    for key, ref in models.items():
        if not _PAIR_KEY.match(key) or not ref.strip():
            raise ValueError(
                f"translation_models entry {key!r}: keys are 'en-de', 'en-*', '*-de' or '*' "
                "and values a hub id, folder or builtin:<name>"
            )


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, turning validation errors into a clear message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"{ENV_PREFIX}{field.upper()}" if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigurationError("Invalid configuration: " + "; ".join(problems)) from exc
