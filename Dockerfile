# Slim runtime image: `vaultgate serve` on port 8080, SQLite under /data by default.
FROM node:20-slim AS scalar
WORKDIR /build
COPY scripts/fetch-scalar.sh scripts/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null \
 && mkdir -p gateway/static && bash scripts/fetch-scalar.sh

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VAULTGATE_HOST=0.0.0.0 VAULTGATE_PORT=8080 \
    VAULTGATE_DATABASE_URL=sqlite:////data/vaultgate.db \
    VAULTGATE_BLOB_DIR=/data/blobs \
    VAULTGATE_SECRET_KEY_FILE=/data/secret.key
# The instance key: pass VAULTGATE_SECRET_KEY (`vaultgate secret-key` prints one), or mount /data/secret.key (0600).
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY core core
COPY gateway gateway
COPY handlers handlers
COPY storage storage
COPY jobs jobs
COPY vault vault
COPY chat chat
COPY workflows workflows
COPY fills fills
COPY examples examples
COPY openapi openapi
COPY --from=scalar /build/gateway/static/scalar gateway/static/scalar
RUN pip install --no-cache-dir -c constraints.txt -e . \
 && useradd --system --uid 10001 vaultgate && mkdir /data && chown vaultgate /data
USER vaultgate
VOLUME /data
EXPOSE 8080
# The same image runs standalone job workers: `docker run … vaultgate worker`.
CMD ["vaultgate", "serve"]
