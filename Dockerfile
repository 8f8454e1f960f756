# The digest application image: the package, its configuration, templates and sample feeds.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY digest ./digest
COPY config ./config
COPY templates ./templates
RUN pip install --no-cache-dir -e .
EXPOSE 8000
# The schema is created or upgraded at every start; then the command given by the service runs.
ENTRYPOINT ["sh", "-c", "digest db upgrade && exec digest \"$@\"", "--"]
CMD ["run"]
