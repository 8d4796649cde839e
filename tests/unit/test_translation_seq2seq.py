"""Language codes per seq2seq family, on tiny randomly initialised models built from configs
with tokenizers trained here (sentencepiece on a few local sentences): no downloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nlp.translation import Seq2SeqTranslator, UnsupportedPairError
from nlp.translation.codes import model_family
from nlp.translation.seq2seq import LoadedSeq2Seq, load_seq2seq

torch = pytest.importorskip("torch")
spm = pytest.importorskip("sentencepiece")

CORPUS = [
    "How do I reset my password?", "¿Cómo restablezco mi contraseña?",
    "Wie setze ich mein Passwort zurück?", "Hur återställer jag mitt lösenord?",
    "Your invoice is attached to this message.", "Su factura está adjunta a este mensaje.",
    "The server will be down for maintenance tonight.", "Thanks for your patience.",
]  # fmt: skip
TINY: dict[str, Any] = {
    "d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
    "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32,
    "max_position_embeddings": 64,
}  # fmt: skip


def train_spm(folder: Path, name: str = "spm") -> tuple[Path, list[str]]:
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 3))
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / name), vocab_size=80,
        character_coverage=1.0, bos_id=-1, eos_id=2, pad_id=1, unk_id=0, minloglevel=2,
    )  # fmt: skip
    processor = spm.SentencePieceProcessor(model_file=str(folder / f"{name}.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return folder / f"{name}.model", pieces


def tiny(model: Any, tokenizer: Any) -> Seq2SeqTranslator:
    torch.manual_seed(0)
    model.eval()
    return Seq2SeqTranslator(LoadedSeq2Seq(model, tokenizer, "tiny", "cpu"), max_new_tokens=6)


def marian(tmp_path: Path, targets: tuple[str, ...]) -> Seq2SeqTranslator:
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    model_file, pieces = train_spm(tmp_path)
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for token in [*(f">>{t}<<" for t in targets), *pieces]:
        vocab.setdefault(token, len(vocab))
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = MarianTokenizer(str(model_file), str(model_file), str(tmp_path / "vocab.json"))
    config = MarianConfig(vocab_size=len(vocab), pad_token_id=2, eos_token_id=0,
                          decoder_start_token_id=2, **TINY)  # fmt: skip
    return tiny(MarianMTModel(config), tokenizer)


def test_marian_multi_target_model_gets_a_target_token(tmp_path: Path) -> None:
    translator = marian(tmp_path, ("spa", "deu"))
    assert translator.family == "marian"
    inputs, extra = translator._prepare(["How do I reset my password?"], "es", "en")
    assert inputs == [">>spa<< How do I reset my password?"] and extra == {}
    ids = translator.loaded.tokenizer(inputs)["input_ids"][0]
    assert ids[0] == translator.loaded.tokenizer.convert_tokens_to_ids(">>spa<<")
    with pytest.raises(UnsupportedPairError, match="no target 'zh'"):
        translator._prepare(["x"], "zh", "en")
    out = translator.translate(["How do I reset my password?", "Thanks"], target="de")
    assert len(out) == 2 and all(isinstance(t, str) for t in out)


def test_marian_per_pair_model_takes_plain_text(tmp_path: Path) -> None:
    translator = marian(tmp_path, ())
    assert translator._prepare(["Thanks"], "de", "en") == (["Thanks"], {})


def test_m2m100_uses_language_tokens(tmp_path: Path) -> None:
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    model_file, pieces = train_spm(tmp_path)
    vocab = {p: i for i, p in enumerate(["<s>", "<pad>", "</s>", "<unk>", *pieces[3:]])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = M2M100Tokenizer(str(tmp_path / "vocab.json"), str(model_file))
    # language ids sit after the vocabulary (get_vocab does not list them all)
    size = max(*tokenizer.get_vocab().values(), *tokenizer.lang_token_to_id.values()) + 9
    config = M2M100Config(vocab_size=size, pad_token_id=1, bos_token_id=0,
                          eos_token_id=2, decoder_start_token_id=2, **TINY)  # fmt: skip
    translator = tiny(M2M100ForConditionalGeneration(config), tokenizer)
    assert model_family(translator.loaded.model, tokenizer) == "m2m100"
    inputs, extra = translator._prepare(["Thanks"], "es", "en")
    assert extra == {"forced_bos_token_id": tokenizer.get_lang_id("es")}
    assert tokenizer(inputs)["input_ids"][0][0] == tokenizer.get_lang_id("en")
    enc = tokenizer(inputs, return_tensors="pt")
    out = translator.loaded.model.generate(**enc, max_new_tokens=3, **extra)
    assert int(out[0, 1]) == tokenizer.get_lang_id("es")
    assert translator._prepare(["x"], "nb", "en")[1][
        "forced_bos_token_id"
    ] == tokenizer.get_lang_id("no")
    assert len(translator.translate(["Thanks", "Hello there"], target="de", source="en")) == 2


def test_nllb_uses_flores_codes(tmp_path: Path) -> None:
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    _, pieces = train_spm(tmp_path)
    # NLLB's tokenizer is a BPE in transformers 5: the sentencepiece pieces, no merges.
    vocab = {p: i for i, p in enumerate(["<s>", "<pad>", "</s>", "<unk>", *pieces[3:]])}
    tokenizer = NllbTokenizer(vocab=vocab)
    size = max(tokenizer.get_vocab().values()) + 1
    config = M2M100Config(vocab_size=size, pad_token_id=1, bos_token_id=0,
                          eos_token_id=2, decoder_start_token_id=2, **TINY)  # fmt: skip
    translator = tiny(M2M100ForConditionalGeneration(config), tokenizer)
    assert translator.family == "nllb"
    inputs, extra = translator._prepare(["Thanks"], "es", "en")
    spa = tokenizer.convert_tokens_to_ids("spa_Latn")
    assert extra == {"forced_bos_token_id": spa} and spa != tokenizer.unk_token_id
    assert tokenizer(inputs)["input_ids"][0][0] == tokenizer.convert_tokens_to_ids("eng_Latn")
    out = translator.loaded.model.generate(
        **tokenizer(inputs, return_tensors="pt"), max_new_tokens=3, **extra
    )
    assert int(out[0, 1]) == spa
    with pytest.raises(UnsupportedPairError):
        translator._prepare(["x"], "xx", "en")


def test_saved_folder_loads_through_the_factory_path(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    translator = marian(tmp_path / "m", ("spa",))
    folder = tmp_path / "saved"
    translator.loaded.model.save_pretrained(folder)
    translator.loaded.tokenizer.save_pretrained(folder)
    loaded = load_seq2seq(str(folder), device="cpu")
    assert model_family(loaded.model, loaded.tokenizer) == "marian"
    assert len(Seq2SeqTranslator(loaded, max_new_tokens=4).translate(["Thanks"], target="es")) == 1
