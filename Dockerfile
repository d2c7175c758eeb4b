# Beacon, one image for every role: `docker run … beacon start|setup|api|sink` (see docker-compose.yml).
# Written for the distributed form in docker-compose.yml; not built on the machine it was written on
# (no Docker there): see docs/operations.md#docker-compose.

# Build stage: every dependency (vite builds the dashboard), then drop the dev ones.
FROM node:24-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: Node 24 runs the TypeScript sources directly (type stripping), as bin/beacon does.
FROM node:24-bookworm-slim
# icmp checks run the system ping; Debian's keeps cap_net_raw, so the node user may ping.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iputils-ping ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  BEACON_HOST=0.0.0.0 \
  BEACON_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/bin ./bin
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 8080: the API and dashboard; 9464: `beacon sink`'s /metrics, /healthz and /readyz (BEACON_SINK_PORT).
EXPOSE 8080 9464
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["start"]
