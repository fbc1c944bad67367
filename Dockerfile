# The platform in a container: API + its own nginx (the router) + reconciler, one process tree.
# It drives the host's Docker engine through the mounted socket (see docker-compose.yml).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx curl publicsuffix \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY src ./src
# editable: `workflow db upgrade` finds alembic.ini and migrations/ next to src/
RUN pip install --no-cache-dir -e .

ENV WORKFLOW_DATA_DIR=/data \
    WORKFLOW_PORT=8000 \
    WORKFLOW_TLS_PORT=8443 \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000 8443

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

CMD ["sh", "-c", "workflow db upgrade && exec workflow serve"]
