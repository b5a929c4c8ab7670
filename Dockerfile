# syntax=docker/dockerfile:1
# image-syncer with skopeo available (for `--transport skopeo` and for checking results by hand).
#
#   docker build -t image-syncer .
#   docker run --rm -v "$PWD:/work" image-syncer -i images.yaml --dry-run
#   docker run --rm -v "$PWD:/work" --user "$(id -u):$(id -g)" \
#     -e SYNCER_TARGET_REPO_AUTH_KEY=/work/key.json image-syncer -i images.yaml --report report.json
#
# Files given by relative path are read from (and written to) /work, the working directory.
ARG BUN_VERSION=1.4.5

# Dependencies, exactly as locked, without dev dependencies (Bun runs the TypeScript sources directly).
FROM oven/bun:${BUN_VERSION}-debian AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-debian
RUN apt-get update \
  && apt-get install -y --no-install-recommends skopeo ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY src ./src
COPY plugins ./plugins
# The base image's non-root user; docker config.json is looked up under its home unless DOCKER_CONFIG says otherwise.
USER bun
WORKDIR /work
# The engine settings the CLI runs with (src/cli/Engine.ts): read when the process starts.
ENV BUN_JSC_useDFGJIT=0
ENTRYPOINT ["bun", "/app/src/cli/bin.ts"]
CMD ["--help"]
