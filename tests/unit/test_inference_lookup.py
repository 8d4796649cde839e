"""Prompt-lookup decoding: the greedy tokens of plain `generate`, in fewer forward passes."""

from __future__ import annotations

from typing import Any

import pytest

from nlp.inference import GenerationOutput, GenerationRequest
from nlp.inference.hf import TransformersBackend, quantized_int8
from nlp.inference.lookup import lookup_supported, propose
from tests.unit.test_inference_prefix import PREFIX, tiny_backend
from tests.unit.test_inference_select import TinyTokenizer

# A prompt that repeats itself, so the lookup finds runs to propose.
LOOPING = (*PREFIX, 5, 8, 2, 19, 5, 8, 2, 19, 5, 8)


def with_lookup(plain: TransformersBackend, size: int = 8) -> TransformersBackend:
    return TransformersBackend(
        plain.model, TinyTokenizer(), "cpu", label="lookup", prompt_lookup=size
    )


def passes(backend: TransformersBackend, requests: list[GenerationRequest]) -> tuple[Any, int]:
    """The outputs of `requests` and the number of forward passes it took."""
    seen: list[int] = []
    hook = backend.model.register_forward_pre_hook(lambda *_: seen.append(1))
    try:
        return backend.generate(requests), len(seen)
    finally:
        hook.remove()


def assert_same(a: GenerationOutput, b: GenerationOutput) -> None:
    assert (a.token_ids, a.text, a.prompt_tokens, a.new_tokens) == (
        b.token_ids,
        b.text,
        b.prompt_tokens,
        b.new_tokens,
    )
    assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)


def test_propose_continues_the_latest_earlier_occurrence_of_the_longest_tail() -> None:
    assert propose([1, 2, 3, 9, 1, 2, 3, 7, 8, 1, 2, 3], 2) == [7, 8]  # latest match
    assert propose([1, 2, 3, 4, 5, 6, 5], 3) == [6, 5]  # one-token tail; up to the end
    assert propose([4, 2, 3, 8, 9, 2, 3], 3) == [8, 9, 2]  # two-token tail
    assert propose([1, 2, 3], 4) == []  # the tail occurs nowhere else
    assert propose([1, 1], 0) == []
    assert propose([7], 4) == []


@pytest.mark.parametrize("family", ["llama", "qwen2"])
@pytest.mark.parametrize("prefix_len", [0, len(PREFIX)])
def test_the_same_tokens_as_plain_generate_in_fewer_passes(family: str, prefix_len: int) -> None:
    plain = tiny_backend(family)
    lookup = with_lookup(plain)
    assert lookup.prompt_lookup == 8 and plain.prompt_lookup == 0
    request = GenerationRequest(LOOPING, 24, 24, prefix_len=prefix_len)
    (expected,), plain_passes = passes(plain, [request])
    (got,), lookup_passes = passes(lookup, [request])
    assert_same(got, expected)
    assert len(got.token_ids) == 24
    assert lookup_passes < plain_passes  # proposals were accepted


@pytest.mark.parametrize("budget", [1, 2, 5, 13])
def test_stops_at_the_token_budget_and_respects_the_minimum(budget: int) -> None:
    plain = tiny_backend("qwen2")
    lookup = with_lookup(plain, 4)
    for minimum in (0, budget):
        request = GenerationRequest(LOOPING, budget, minimum, prefix_len=len(PREFIX))
        (expected,) = plain.generate([request])
        (got,) = lookup.generate([request])
        assert_same(got, expected)
        assert len(got.token_ids) <= budget


def test_a_stop_token_ends_the_answer_with_the_same_step_count() -> None:
    plain = tiny_backend("llama")
    stop = plain.generate([GenerationRequest(LOOPING, 6, 6)])[0].token_ids[3]
    plain._stop_ids = [1, stop]  # this model's fourth greedy token now ends its turn
    lookup = with_lookup(plain)
    lookup._stop_ids = [1, stop]
    request = GenerationRequest(LOOPING, 20, 0)
    (expected,) = plain.generate([request])
    (got,) = lookup.generate([request])
    assert_same(got, expected)
    assert stop not in got.token_ids and got.new_tokens == len(got.token_ids) + 1


def test_streamed_text_grows_to_the_answer() -> None:
    lookup = with_lookup(tiny_backend("qwen2"))
    seen: list[str] = []
    (out,) = lookup.generate([GenerationRequest(LOOPING, 16, 16, seen.append, len(PREFIX))])
    assert seen and seen[-1] == out.text
    assert all(seen[i + 1].startswith(seen[i]) for i in range(len(seen) - 1))


def test_batches_and_the_kept_prefix_state_are_unchanged_by_it() -> None:
    plain = tiny_backend("llama")
    lookup = with_lookup(plain)
    batch = [
        GenerationRequest(LOOPING, 10, 10, prefix_len=len(PREFIX)),
        GenerationRequest((*PREFIX, 4, 4, 9), 10, 10, prefix_len=len(PREFIX)),
    ]
    first = lookup.generate(batch[:1])[0]  # computes and keeps the prefix state
    for got, expected in zip(lookup.generate(batch), plain.generate(batch), strict=True):
        assert_same(got, expected)
    assert_same(lookup.generate(batch[:1])[0], first)  # the kept state was not written into
    assert lookup.prefix_cache.computed == 1


def test_off_for_int8_sliding_windows_and_the_static_cache() -> None:
    from transformers import AutoConfig, AutoModelForCausalLM

    tiny = tiny_backend("llama")
    assert lookup_supported(tiny.model)
    int8 = quantized_int8(tiny.model)
    assert not lookup_supported(int8)
    assert (
        TransformersBackend(int8, TinyTokenizer(), "cpu", label="i", prompt_lookup=8).prompt_lookup
        == 0
    )
    config = AutoConfig.for_model(
        "qwen2", vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, use_sliding_window=True, sliding_window=8,
        max_window_layers=0,
    )  # fmt: skip
    windowed = AutoModelForCausalLM.from_config(config).eval()  # type: ignore[no-untyped-call]
    assert not lookup_supported(windowed)
    static = TransformersBackend(
        tiny.model, TinyTokenizer(), "cpu", label="s", static_cache=True, prompt_lookup=8
    )
    assert static.prompt_lookup == 0


def shapes(
    backend: TransformersBackend, requests: list[GenerationRequest]
) -> tuple[Any, list[Any]]:
    """The outputs of `requests` and the (rows, tokens) fed to each forward pass."""
    seen: list[Any] = []
    hook = backend.model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        return backend.generate(requests), seen
    finally:
        hook.remove()


@pytest.mark.parametrize("prefix_len", [0, len(PREFIX)])
def test_a_batch_keeps_each_rows_tokens_and_finished_rows_leave_it(prefix_len: int) -> None:
    plain = tiny_backend("qwen2")
    lookup = with_lookup(plain)
    suffixes = [(5, 8, 2, 19, 5, 8, 2, 19, 5, 8), (14, 22, 9), (19,), (4, 4, 9, 4, 4, 9, 4)]
    batch = [
        GenerationRequest((*PREFIX, *s), 6 + 5 * i, 0, prefix_len=prefix_len)
        for i, s in enumerate(suffixes)
    ]
    expected, plain_shapes = shapes(plain, batch)
    got, lookup_shapes = shapes(lookup, batch)
    for a, b in zip(got, expected, strict=True):
        assert_same(a, b)
    assert len(lookup_shapes) < len(plain_shapes)
    assert [rows for rows, _ in lookup_shapes][-1] < len(batch)  # the shortest budgets left
    alone = [lookup.generate([r])[0] for r in batch]
    for a, b in zip(alone, got, strict=True):
        assert_same(a, b)


def test_rows_that_stop_early_and_streams_in_a_batch() -> None:
    plain = tiny_backend("llama")
    first = plain.generate([GenerationRequest(LOOPING, 8, 0, prefix_len=len(PREFIX))])[0]
    stop = next(t for t in first.token_ids[2:] if t not in first.token_ids[:2])
    lookup = with_lookup(plain)
    plain._stop_ids = lookup._stop_ids = [1, stop]  # LOOPING's answer now ends after 2+ tokens
    seen: list[list[str]] = [[], []]
    batch = [
        GenerationRequest(LOOPING, 20, 0, seen[0].append, len(PREFIX)),
        GenerationRequest((*PREFIX, 4, 4, 9, 4), 20, 0, seen[1].append, len(PREFIX)),
    ]  # one minimum: the batcher groups requests by it
    got = lookup.generate(batch)
    for a, b in zip(got, plain.generate(batch), strict=True):
        assert_same(a, b)
    assert got[0].new_tokens == len(got[0].token_ids) + 1 < 20  # it stopped
    for texts, out in zip(seen, got, strict=True):
        assert texts and texts[-1] == out.text


def test_a_wide_batch_checks_fewer_proposed_tokens_per_row() -> None:
    from nlp.inference.lookup import PASS_TOKENS

    lookup = with_lookup(tiny_backend("qwen2"))
    batch = [GenerationRequest(LOOPING, 12, 12, prefix_len=len(PREFIX))] * 20
    _, seen = shapes(lookup, batch)
    decode = [(rows, tokens) for rows, tokens in seen[2:]]  # after the prefix and the prompt
    assert decode and all(rows * tokens <= max(PASS_TOKENS, rows) for rows, tokens in decode)


def test_each_row_is_reported_done_when_it_ends() -> None:
    lookup = with_lookup(tiny_backend("llama"))
    passes_so_far: list[int] = []
    done: list[tuple[int, int]] = []
    hook = lookup.model.register_forward_pre_hook(lambda *_: passes_so_far.append(1))
    batch = [
        GenerationRequest(
            LOOPING, budget, 0, prefix_len=len(PREFIX),
            on_done=lambda out, b=budget: done.append((b, len(passes_so_far))),
        )
        for budget in (12, 2, 6)
    ]  # fmt: skip
    try:
        outputs = lookup.generate(batch)
    finally:
        hook.remove()
    assert [b for b, _ in done] == [2, 6, 12]
    assert done[0][1] < done[-1][1] == len(passes_so_far)  # the short one before the end
    assert [len(o.token_ids) for o in outputs] == [12, 2, 6]
