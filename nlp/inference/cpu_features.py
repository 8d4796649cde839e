"""Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX).

It decides what bf16 costs on a CPU. With native bf16, bf16 matrix products with float32
elsewhere (`bfloat16_float32`) kept fp32's answers within the tolerance and are faster than
CTranslate2 float32, so `auto` picks them there (docs/models.md). Without, torch emulates bf16
and prompt processing is about 7x slower than fp32: Parley warns when asked for it there.
"""

from __future__ import annotations

import functools
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def bf16_in_cpuinfo(cpuinfo: str) -> bool:
    """Whether the first `flags` line of a /proc/cpuinfo text names a native bf16 extension."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return any(flag in flags for flag in BF16_FLAGS)
    return False


@functools.cache
def cpu_has_native_bf16() -> bool:
    """This machine's answer (Linux's /proc/cpuinfo; False where it cannot be read)."""
    try:
        return bf16_in_cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False
