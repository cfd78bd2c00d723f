# One image for api, worker and realtime (the command picks the process), plus the
# nginx-rtmp image with StreamHub's ingest configuration. Used by docker-compose.yml.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The web app is built into dist/web (its libraries are devDependencies: only the bundle ships).
# The workflow bundle is built here, from the same code as the activities, so workers start
# without running webpack (WORKFLOW_BUNDLE_PATH below).
RUN npm run build \
 && node dist/workers/bundle.js dist/workflow-bundle.js \
 && npm run web:build \
 && node dist/scripts/render-nginx-config.js > dist/nginx.conf.template \
 && npm prune --omit=dev

FROM node:24-bookworm-slim AS app
# FFmpeg for the media worker; tini so signals reach Node and shutdown is graceful.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The recordings volume, shared with nginx-rtmp, belongs to uid 1000 (node here) when the
# worker's container creates it first.
RUN mkdir -p /var/lib/streamhub/recordings && chown node:node /var/lib/streamhub/recordings
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/server.js"]

FROM debian:bookworm-slim AS nginx-rtmp
# nginx's worker processes write the live HLS and the recordings as `streamhub`, uid/gid 1000:
# the same ids as `node` in the app image, so the worker can delete a recording once it is in S3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 streamhub \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin streamhub \
 && mkdir -p /var/lib/streamhub/nginx/tmp /var/lib/streamhub/hls /var/lib/streamhub/recordings \
 && chown streamhub:streamhub /var/lib/streamhub/hls /var/lib/streamhub/recordings
COPY --from=build /app/dist/nginx.conf.template /etc/streamhub/nginx.conf.template
# nginx cannot read the environment, so the secret for the API hooks is filled in at start
# (the API's config allows only URL-safe characters in it, none of them special to sed).
# The chown hands volumes from before this image (files written as root) to the workers' owner.
CMD ["sh", "-c", "chown -R streamhub:streamhub /var/lib/streamhub/hls /var/lib/streamhub/recordings && sed \"s|__INTERNAL_SECRET__|$INTERNAL_SECRET|g\" /etc/streamhub/nginx.conf.template > /var/lib/streamhub/nginx/nginx.conf && exec nginx -p /var/lib/streamhub/nginx -c /var/lib/streamhub/nginx/nginx.conf -e stderr"]
