# syntax=docker/dockerfile:1
# recap-bot service image.
#   docker build -t recap-bot .
#   docker run --env-file .env -p 8080:8080 recap-bot
# deploy/verify.sh replays this file's npm steps, COPY lines, ENV and CMD on the
# host (images cannot be pulled everywhere), so keep each RUN that matters to it
# on one line, and CMD in exec form.
#
# Node 22 (LTS, maintained until April 2027): Node 20 reached end of life in
# April 2026 and gets no security fixes, and a runtime dependency
# (content-type@3, through octokit) declares node >=22. The project still
# supports 20 (package.json engines) for hosts that have not moved yet.
# Debian slim (glibc) rather than Alpine (musl): no dependency needs musl, and
# glibc is what CI and most hosts run. Pin a digest in production
# (node:22-bookworm-slim@sha256:…) so rebuilds are reproducible.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project's own lifecycle scripts must not run before its
# sources are copied, and no dependency needs an install script to work.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# tini is PID 1 and runs node as its child: the kernel drops signals that PID 1
# has no handler for, so without it a SIGTERM arriving before the service has
# installed its handlers (during migrations) would be ignored until `docker stop`
# escalates to SIGKILL. tini forwards SIGTERM/SIGINT to node, which drains and
# exits 0, and reaps any orphaned process. Works the same with `docker run --init`.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=8080 DATA_DIR=/app/data PROMPTS_DIR=/app/prompts TINI_SUBREAPER=1
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# dist/ holds the compiled service, CLI, migrations and plugins (with their manifests).
COPY --from=build /app/dist ./dist
# The bundled prompts (PROMPTS_DIR, fallback level 3), read at run time.
COPY prompts ./prompts
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# DATA_DIR: only used without DATABASE_URL (embedded PGlite); mount a volume there then.
RUN mkdir -p /app/data && chown node:node /app/data
# The `node` user (uid 1000) of the official image; the code and modules stay root-owned, read-only to it.
USER node
EXPOSE 8080
# /healthz never touches the database, so it fails only when the process is wedged.
# start-period covers the first start's migrations (HTTP listens once they are done).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=1", "dist/src/main.js"]
