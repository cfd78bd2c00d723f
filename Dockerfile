# One image for api, worker and realtime (the command picks the process), plus the
# nginx-rtmp image with StreamHub's ingest configuration. Used by docker-compose.yml.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && node dist/scripts/render-nginx-config.js > dist/nginx.conf.template \
 && npm prune --omit=dev

FROM node:24-bookworm-slim AS app
# FFmpeg for the media worker; tini so signals reach Node and shutdown is graceful.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/server.js"]

FROM debian:bookworm-slim AS nginx-rtmp
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/streamhub/nginx/tmp /var/lib/streamhub/hls /var/lib/streamhub/recordings
COPY --from=build /app/dist/nginx.conf.template /etc/streamhub/nginx.conf.template
# nginx cannot read the environment, so the secret for the API hooks is filled in at start
# (the API's config allows only URL-safe characters in it, none of them special to sed).
CMD ["sh", "-c", "sed \"s|__INTERNAL_SECRET__|$INTERNAL_SECRET|g\" /etc/streamhub/nginx.conf.template > /var/lib/streamhub/nginx/nginx.conf && exec nginx -p /var/lib/streamhub/nginx -c /var/lib/streamhub/nginx/nginx.conf -e stderr"]
