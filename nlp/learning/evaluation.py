"""The evaluation gate: scores on the held-out test split, the promotion decision, the chart.

Translation: chrF (the gate's metric) and BLEU (sacrebleu). Dialogue: chrF (the gate's metric) and
ROUGE-L against the agents' final answers, and the escalation rate (how often the model answered
NO_ANSWER or refused where an agent did answer). A new model is promoted only when its chrF beats
the current model's by `learning_margin` points and (dialogue) it does not escalate more often.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.prompts import NO_ANSWER, is_refusal

# A dialogue model may escalate this much more often (fraction of test questions) and still pass.
ESCALATION_TOLERANCE = 0.05
_WORD = re.compile(r"\w+", re.UNICODE)


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 (longest common subsequence of lower-cased words), 0-100."""
    hyp, ref = _WORD.findall(hypothesis.lower()), _WORD.findall(reference.lower())
    if not hyp or not ref:
        return 0.0
    previous = [0] * (len(ref) + 1)
    for word in hyp:
        row = [0]
        for j, other in enumerate(ref, start=1):
            row.append(previous[j - 1] + 1 if word == other else max(previous[j], row[j - 1]))
        previous = row
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 100 * 2 * precision * recall / (precision + recall)


def is_escalation(answer: str) -> bool:
    text = answer.strip()
    return not text or NO_ANSWER in text or is_refusal(text)


def translation_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    import sacrebleu

    refs = [list(references)]
    return {
        "chrf": round(sacrebleu.corpus_chrf(list(hypotheses), refs).score, 2),
        "bleu": round(sacrebleu.corpus_bleu(list(hypotheses), refs).score, 2),
        "examples": float(len(references)),
    }


def dialogue_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    import sacrebleu

    n = max(len(references), 1)
    return {
        "chrf": round(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score, 2),
        "rouge_l": round(sum(map(rouge_l, hypotheses, references)) / n, 2),
        "escalation_rate": round(sum(map(is_escalation, hypotheses)) / n, 4),
        "examples": float(len(references)),
    }


@dataclass(frozen=True, slots=True)
class GateDecision:
    promote: bool
    reason: str


def gate(
    kind: str, before: dict[str, float], after: dict[str, float], margin: float
) -> GateDecision:
    """Promote only a model that is better than the current one by `margin` chrF points."""
    gain = after["chrf"] - before["chrf"]
    if gain < margin:
        return GateDecision(
            False,
            f"chrF {after['chrf']:.2f} vs {before['chrf']:.2f} for the current model: a gain of "
            f"{gain:+.2f}, below the required margin of {margin:.2f}",
        )
    if kind == "dialogue":
        extra = after["escalation_rate"] - before["escalation_rate"]
        if extra > ESCALATION_TOLERANCE:
            return GateDecision(
                False,
                f"escalation rate {after['escalation_rate']:.0%} vs {before['escalation_rate']:.0%}"
                " for the current model: it would hand off more questions",
            )
    return GateDecision(True, f"chrF {after['chrf']:.2f} vs {before['chrf']:.2f} ({gain:+.2f})")


def save_chart(
    path: Path,
    train_loss: Sequence[float],
    val_loss: Sequence[float],
    before: dict[str, float],
    after: dict[str, float],
) -> None:
    """A PNG: training loss per step (validation loss per epoch) and before/after scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(range(1, len(train_loss) + 1), list(train_loss), label="training loss")
    if val_loss and train_loss:
        per_epoch = len(train_loss) / len(val_loss)
        steps = [round(per_epoch * (i + 1)) for i in range(len(val_loss))]
        left.plot(steps, list(val_loss), "o-", label="validation loss")
    left.set_xlabel("step")
    left.set_title("Loss")
    left.legend()
    names = [k for k in ("chrf", "bleu", "rouge_l") if k in before and k in after]
    xs = range(len(names))
    right.bar([x - 0.2 for x in xs], [before[k] for k in names], width=0.4, label="current")
    right.bar([x + 0.2 for x in xs], [after[k] for k in names], width=0.4, label="new")
    right.set_xticks(list(xs), names)
    right.set_title("Held-out test split")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summarize(scores: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in scores.items() if k != "examples")
