# One image for the Node services of docker-compose.yml: the budget sidecar, the fake provider,
# the demo app and its traffic. Each service picks its entry point with `command:`.
FROM node:20.19.5-bookworm-slim

WORKDIR /app

# Dependencies first, so that a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY instrumentation ./instrumentation
COPY demo ./demo
COPY bench ./bench
COPY examples ./examples
COPY pricing ./pricing
RUN npm run build

# Dev dependencies are kept: the demo app runs the real express, openai and @anthropic-ai/sdk,
# which are dev dependencies of the llm-finops package (the library itself must not pull them).
# Everything above is owned by root: the services run as the image's unprivileged `node` user
# and cannot change their own code.
ENV NODE_ENV=production
USER node
