#!/bin/bash
# On the GPU machine (after bench/gpu/prepare.sh here): the carried wheels, the shape twin of
# the dialogue model, then batch-1 speed, load through a real Celery worker at two answer
# lengths, the same with the static cache (load48s), and the static-cache probe. Logs go to $OUT (or ./gpu-out).
set -o pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
rm -rf /tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export TOKENIZERS_PARALLELISM=false
# The twin has random weights: what prompt lookup accepts there says nothing of the real model,
# so these runs measure plain decoding (the real model's lookup figures come from the CPU runs).
export PARLEY_INFERENCE_PROMPT_LOOKUP=${PARLEY_INFERENCE_PROMPT_LOOKUP:-0}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, celery; print(torch.__version__, transformers.__version__, celery.__version__)" | tee -a "$OUT/gpu.txt" || exit 4
[ -d /tmp/twin ] || timeout 120 python3 bench/shape_twin.py --source .gpu/model --out /tmp/twin || exit 5
run() {
  local name=$1 t=$2; shift 2; echo "=== $name"
  timeout "$t" python3 "$@" 2>&1 | grep -v 'it/s\]' | tee "$OUT/$name.log"; echo "=== $name rc=$?"
}
sections=${SECTIONS:-speed load48 load128 load48s probe}
for s in $sections; do case $s in
  speed) run speed 120 bench/bench_inference.py --model /tmp/twin --device cuda --sections speed \
      --backends "transformers fp32,transformers bf16,auto" --whole-prompt auto --max-new 48 ;;
  load48) run load48 150 bench/bench_inference.py --model /tmp/twin --device cuda --sections load \
      --levels 1,8,32,64,128 --max-batch 64 --max-new 48 --baseline-n 5 ;;
  load128) run load128 150 bench/bench_inference.py --model /tmp/twin --device cuda --sections load \
      --levels 1,8,32,64 --max-batch 64 --max-new 128 --baseline-n 3 ;;
  load48s) PARLEY_INFERENCE_STATIC_CACHE=true run load48s 300 bench/bench_inference.py --model /tmp/twin \
      --device cuda --sections load --levels 1,8,32,64 --max-batch 64 --max-new 48 --baseline-n 3 --warm ;;
  probe) run probe 120 bench/probe_static_cache.py --model /tmp/twin --batches 1,8 --max-new 48 \
      --repeats 2 ;;
esac; done
echo ALL_DONE
