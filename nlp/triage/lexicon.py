"""Multilingual urgency cues: phrases that flag a message whatever the classifier says.

A cue is a high-precision phrase (EN, ES, DE, SV, FR, PT, ZH): a customer writing "our lawyer"
or "取消订阅" is flagged even when the embedding classifier is unsure. Patterns are matched
case-insensitively on word starts (Chinese has no word boundaries: matched anywhere).
"""

from __future__ import annotations

import re

_CUES: dict[str, tuple[str, ...]] = {
    "outage": (
        r"(?:is|are|went|goes|seems?|been) down\b",
        r"\boutage",
        r"\bnot (?:loading|reachable)",
        r"\bcannot (?:log ?in|access|connect)",
        r"\bcan'?t (?:log ?in|access|connect)",
        r"\b50[234]\b",
        r"connection refused",
        r"\bca[ií]d[oa]\b",
        r"\bno carga",
        r"\bsin servicio",
        r"\bnicht erreichbar",
        r"\bausfall",
        r"\bnichts geht",
        r"\bligger nere",
        r"\bär nere",
        r"\bvara nere",
        r"\bgår inte att nå",
        r"\ben panne",
        r"\bhors service",
        r"\bfora do ar",
        "宕机",
        "无法访问",
        "打不开",
        "无法登录",
        "崩溃",
    ),
    "payment": (
        r"\bcharged twice",
        r"\bdouble[- ]charge",
        r"\bbilled (?:twice|after)",
        r"\brefund",
        r"\bpayment (?:failed|fails|page|error|declined|was declined)",
        r"\bcard (?:was )?declined",
        r"\brejects? (?:every|my|the) card",
        r"\bcobrad[oa] dos veces",
        r"\bme han cobrado",
        r"\breembolso",
        r"\bpago\b.*\b(?:no funciona|fall[aó]|rechaz)",
        r"\bdoppelt abgebucht",
        r"\bzahlung\b.*\b(?:abgelehnt|fehlgeschlagen)",
        r"\berstatt",
        r"\bbetalningen gick inte",
        r"\bdragit pengar två gånger",
        r"\bpaiement refusé",
        "重复扣款",
        "付款失败",
        "付款一直失败",
        "退款",
        "扣款",
    ),
    "legal": (
        r"\blawyers?\b",
        r"\battorney",
        r"\blegal action",
        r"\bsue\b",
        r"\blawsuit",
        r"\bregulator",
        r"\babogad[oa]",
        r"\bdemanda\b",
        r"\bdenuncia",
        r"\banwalt",
        r"\brechtliche schritte",
        r"\bklage",
        r"\badvokat",
        r"\bstämma\b",
        r"\bavocat",
        r"\bprocès",
        r"\badvogad[oa]",
        "律师",
        "法律行动",
        "起诉",
    ),
    "churn": (
        r"\bcancel(?:l?ing)? (?:my|our|the)? ?(?:subscription|account|plan|everything)",
        r"\bclose my account",
        r"\bswitch(?:ing)? (?:to|providers)",
        r"\bnot renew",
        r"\bwon'?t renew",
        r"\bterminate the contract",
        r"\bmov(?:e|ing) to a competitor",
        r"\bcancelar",
        r"\bdarme de baja",
        r"\botra empresa",
        r"\bkündigen",
        r"\bkonkurrenz",
        r"\bnicht verlänger",
        r"\bsäga upp",
        r"\bbyta leverantör",
        r"\bavsluta (?:mitt |vårt )?konto",
        r"\brésilier",
        "取消订阅",
        "不会续费",
        "换别家",
        "换用其他",
    ),
}

_COMPILED = {
    flag: re.compile("|".join(f"(?:{p})" for p in cues), re.IGNORECASE)
    for flag, cues in _CUES.items()
}


def urgency_cues(text: str) -> dict[str, str]:
    """The flags whose cue phrases occur in `text`, each with the phrase that matched."""
    found: dict[str, str] = {}
    for flag, pattern in _COMPILED.items():
        match = pattern.search(text)
        if match:
            found[flag] = match.group(0)
    return found
