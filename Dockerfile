# school-support-bot: a slim image running the bot as an unprivileged user.
# Build: docker build -t school-support-bot .   Run it with docker compose (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PORT=3000

RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin bot

# The project itself, installed from its source (pyproject.toml), without the dev tools. pip
# compiles what it installs; the source is built outside /app and removed, because the working
# directory comes first on sys.path (uvicorn puts it there): a copy of the source in /app would
# be imported instead, and compiled again at every start (the user cannot write .pyc there).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && rm -rf /src \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
WORKDIR /app

USER 10001:10001
EXPOSE 3000
VOLUME ["/app/data"]

# Liveness only (GET /healthz); slim has no curl, so Python's urllib asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# HTTP mode, as the Procfile's web process. For Socket Mode run `python -m bot serve`.
CMD ["sh", "-c", "exec uvicorn --factory bot.entry.serve:build_asgi_app --host 0.0.0.0 --port \"${PORT}\" --proxy-headers"]
