"""Translation: a `Translator` interface, seq2seq and instruct implementations, chat safety."""

from nlp.translation.base import Translator, UnsupportedPairError, model_for_pair
from nlp.translation.chat import ChatTranslator, Translation
from nlp.translation.factory import RoutedTranslator, build_translator, load_translator
from nlp.translation.instruct import InstructTranslator
from nlp.translation.seq2seq import Seq2SeqTranslator, load_seq2seq

__all__ = [
    "ChatTranslator",
    "InstructTranslator",
    "RoutedTranslator",
    "Seq2SeqTranslator",
    "Translation",
    "Translator",
    "UnsupportedPairError",
    "build_translator",
    "load_seq2seq",
    "load_translator",
    "model_for_pair",
]
