# The digest application image: the package, its configuration and sample feeds.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY digest ./digest
COPY config ./config
RUN pip install --no-cache-dir -e .
# Polls every due feed once a minute; each feed keeps its own interval and backoff.
CMD ["sh", "-c", "digest db upgrade && while true; do digest poll; sleep 60; done"]
