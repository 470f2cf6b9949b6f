# syntax=docker/dockerfile:1
# Vigil's one image: every process of compose.yaml (log, witnesses, monitor, alerts) runs it with a
# different command. There is no build step: tsx (a runtime dependency) runs the TypeScript, so
# `npm ci --omit=dev` is enough and the dev tools (typescript, vitest, playwright) stay out.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    VIGIL_LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore keeps tests, benches, docs, dashboards, data folders and node_modules out.
COPY . .
# Data folders (keys, PGlite databases) live under /data, owned by the unprivileged `node` user
# (uid 1000) of the base image. tsx caches compiled files in the temp folder, which it can write.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "--import", "tsx", "bin/vigil.ts"]
CMD ["--help"]
