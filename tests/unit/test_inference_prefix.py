"""Prefix reuse in the transformers backend: the same outputs as without it, computed once."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from nlp.inference import GenerationOutput, GenerationRequest
from nlp.inference.hf import TransformersBackend, padded, quantized_int8
from tests.unit.test_inference_select import TinyTokenizer

PREFIX = (7, 3, 12, 9, 25, 4, 17, 30, 11, 6)


def tiny_backend(family: str) -> TransformersBackend:
    """A random two-layer model: the second layer reads the first one's output at the pads."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    config = AutoConfig.for_model(
        family, vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    model = AutoModelForCausalLM.from_config(config).eval()  # type: ignore[no-untyped-call]
    return TransformersBackend(model, TinyTokenizer(), "cpu", label=f"tiny-{family}")


def requests(suffixes: Sequence[tuple[int, ...]], prefix_len: int) -> list[GenerationRequest]:
    return [GenerationRequest(PREFIX + s, 8, 8, prefix_len=prefix_len) for s in suffixes]


def assert_same(a: list[GenerationOutput], b: list[GenerationOutput]) -> None:
    assert [o.token_ids for o in a] == [o.token_ids for o in b]
    assert [o.text for o in a] == [o.text for o in b]
    assert [o.prompt_tokens for o in a] == [o.prompt_tokens for o in b]
    for x, y in zip(a, b, strict=True):
        assert len(x.token_ids) == 8
        assert x.logprobs == pytest.approx(y.logprobs, abs=1e-4)


def test_padding_goes_between_the_cached_prefix_and_the_suffix() -> None:
    batch = [GenerationRequest((5, 6, 7, 8), 1), GenerationRequest((5, 6, 9), 1)]
    assert padded(batch, 0, 2) == ([[5, 6, 7, 8], [5, 6, 0, 9]], [[1, 1, 1, 1], [1, 1, 0, 1]])
    assert padded(batch, 0, 0) == ([[5, 6, 7, 8], [0, 5, 6, 9]], [[1, 1, 1, 1], [0, 1, 1, 1]])


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_a_single_request_with_a_prefix_matches_one_without(family: str) -> None:
    backend = tiny_backend(family)
    plain = backend.generate(requests([(5, 8, 2)], 0))
    widths: list[int] = []
    hook = backend.model.register_forward_pre_hook(
        lambda _, args, kwargs: widths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    reused = backend.generate(requests([(5, 8, 2)], len(PREFIX)))
    hook.remove()
    assert_same(reused, plain)
    assert backend.prefix_cache.computed == 1
    assert widths == [len(PREFIX), 3] + [1] * 7  # the prefix once, then only the rest
    assert reused[0].prompt_tokens == len(PREFIX) + 3


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_suffixes_of_different_lengths_match_without_the_prefix(family: str) -> None:
    backend = tiny_backend(family)
    suffixes = [(5, 8, 2), (14, 22, 9, 13, 27, 5, 2), (19,)]
    plain = backend.generate(requests(suffixes, 0))
    reused = backend.generate(requests(suffixes, len(PREFIX)))
    assert_same(reused, plain)
    alone = [backend.generate(requests([s], len(PREFIX)))[0] for s in suffixes]
    assert_same(reused, alone)
    assert backend.prefix_cache.computed == 1


def test_requests_with_different_prefixes_each_reuse_their_own() -> None:
    backend = tiny_backend("llama")
    mixed = [
        *requests([(5, 8, 2)], len(PREFIX)),
        GenerationRequest((9, 9, 4, 21), 8, 8, prefix_len=2),
    ]
    plain = backend.generate([GenerationRequest(r.prompt_ids, 8, 8) for r in mixed])
    assert_same(backend.generate(mixed), plain)
    assert backend.prefix_cache.computed == 2  # split by prefix: one generate per prefix
    assert len(backend.prefix_cache) == 2


def test_the_prefix_state_is_computed_once_and_kept_in_a_small_lru() -> None:
    backend = tiny_backend("llama")
    first = backend.generate(requests([(5, 8, 2), (13,)], len(PREFIX)))
    second = backend.generate(requests([(5, 8, 2), (13,)], len(PREFIX)))
    assert_same(second, first)  # generate did not write into the kept state
    cache = backend.prefix_cache
    assert (cache.computed, cache.hits, len(cache)) == (1, 1, 1)
    for head in range(2, 2 + cache.capacity):  # as many more prefixes: the oldest one goes
        backend.generate([GenerationRequest((head, *PREFIX, 5), 2, 0, prefix_len=4)])
    assert (cache.computed, len(cache)) == (1 + cache.capacity, cache.capacity)
    backend.generate(requests([(5,)], len(PREFIX)))
    assert cache.computed == 2 + cache.capacity


def test_streamed_text_still_arrives_with_a_reused_prefix() -> None:
    backend = tiny_backend("llama")
    seen: list[list[str]] = [[], []]
    batch = [
        GenerationRequest(PREFIX + s, 8, 8, seen[i].append, len(PREFIX))
        for i, s in enumerate([(5, 8, 2), (14, 22, 9, 13, 27)])
    ]
    out = backend.generate(batch)
    assert backend.prefix_cache.computed == 1
    for texts, result in zip(seen, out, strict=True):
        assert texts
        assert texts[-1] == result.text


def test_int8_dynamic_quantization_keeps_the_whole_prompt_together() -> None:
    # Activations get one int8 scale per input tensor: the prefix alone would get other numbers.
    tiny = tiny_backend("llama")
    backend = TransformersBackend(quantized_int8(tiny.model), tiny.tokenizer, "cpu", label="int8")
    suffixes = [(5, 8, 2), (14, 22, 9, 13, 27, 5, 2)]
    assert_same(
        backend.generate(requests(suffixes, len(PREFIX))), backend.generate(requests(suffixes, 0))
    )
    assert backend.prefix_cache.computed == 0


def test_static_cache_gives_the_dynamic_cache_outputs_with_padded_batch_sizes() -> None:
    """The CUDA static-cache path (compiled there; plain on CPU): same answers, three requests
    run as a batch of four, prefixes ignored (the cache has one fixed shape)."""
    dynamic = tiny_backend("qwen2")
    static = TransformersBackend(
        dynamic.model, TinyTokenizer(), "cpu", label="tiny-static", static_cache=True
    )
    assert static.static is not None and static.static.max_cache_len == 64
    batch = requests([(5, 8, 2), (9,), (4, 4, 4, 4, 4)], len(PREFIX))
    assert len(static.static.rows(batch)) == 4 and len(static.static.rows(batch[:1])) == 1
    seen: list[int] = []
    hook = dynamic.model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    got = static.generate(batch)
    hook.remove()
    assert set(seen) == {4}
    assert static.prefix_cache.computed == 0
    assert_same(got, dynamic.generate(requests([(5, 8, 2), (9,), (4, 4, 4, 4, 4)], 0)))
