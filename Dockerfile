# hopwise container image (docs/deploy.md). Multi-stage: the build stage compiles TypeScript with the dev
# dependencies; the runtime stage has only dist/, the production dependencies and the configuration, and runs as
# the unprivileged `node` user. test/unit/deploy.test.ts checks this file against the real CLI and config keys.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build is the next step.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY config ./config
COPY deploy/hopwise.yaml ./deploy/hopwise.yaml
USER node
# 8080: the proxy; 8081: the admin listener (/healthz, /stats, /metrics, dashboard).
EXPOSE 8080 8081
# The image has no curl: Node's fetch asks the admin listener's /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop, Kubernetes) drains for up to shutdown.drainTimeout: give `docker stop -t 30`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/hopwise.js"]
CMD ["--config", "deploy/hopwise.yaml"]
