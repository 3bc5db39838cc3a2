# The service's image: Node 24 runs the TypeScript sources directly (type stripping), so there is
# no build step, only production dependencies. Build: `docker build -t c2s-enricher .`
# Where the official image cannot be pulled, pass a local one with Node 24 and npm at
# /usr/local/bin and a `node` user (uid 1000): `--build-arg NODE_IMAGE=local/node:24-slim`.
ARG NODE_IMAGE=node:24-slim

# ---- production dependencies --------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (the pinned `node` package among them: the base image's node is Node 24);
# no optional ones (the embedded PostgreSQL: a container is given DB_URL); no install scripts
# (none of the production dependencies needs one).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- tini, PID 1: forwards SIGTERM to node and reaps orphaned children -----------------------
FROM ${NODE_IMAGE} AS tini
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# ---- runtime --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
WORKDIR /app
COPY --from=tini /usr/bin/tini /usr/bin/tini
# Code and dependencies belong to root and are read-only for the service's user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# DATA_DIR holds what the service generates outside production (admin token, webhook secret):
# the one place it writes.
RUN mkdir -p /var/lib/c2s-enricher && chown node:node /var/lib/c2s-enricher
ENV DATA_DIR=/var/lib/c2s-enricher \
    HOST=0.0.0.0 \
    PORT=8080
USER node
EXPOSE 8080
# Liveness through /health; slim images have no curl, node has fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/health`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A stop drains the HTTP server and the workers for up to 30 s: give `docker stop -t 40`.
STOPSIGNAL SIGTERM
# The Node flags of `npm start` (test/deploy-image.test.ts keeps them the same).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=16", "--heap-growing-percent=20", "src/main.ts"]
CMD ["--role=all"]
