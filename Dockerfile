# Production image: build with cargo-leptos, run as a non-root user on a slim base.
# Build: docker build -t slipway . (needs the Docker Hub base images and the package registries)
# Named volumes mounted on /var/lib/slipway/* take the owner of these folders (uid 10001).

ARG RUST_VERSION=1.95
FROM node:20-bookworm-slim AS node

FROM rust:${RUST_VERSION}-bookworm AS build
ARG CARGO_LEPTOS_VERSION=0.3.10
# Node 20 for Tailwind and binaryen's wasm-opt (Debian's own binaryen breaks hydration).
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
RUN rustup target add wasm32-unknown-unknown \
 && cargo install --locked cargo-leptos --version ${CARGO_LEPTOS_VERSION}
WORKDIR /src
# wasm-bindgen-cli must match the lock file exactly.
COPY Cargo.toml Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version "$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)"
COPY package.json package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund
COPY . .
ENV SQLX_OFFLINE=true PATH=/src/node_modules/.bin:$PATH
RUN cargo leptos build --release \
 && strip target/release/slipway

FROM debian:bookworm-slim AS runtime
# git clones repositories; nginx-light validates virtual hosts (`nginx -t`); curl serves the
# container health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git nginx-light curl tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/slipway --uid 10001 slipway \
 && install -d -o slipway -g slipway /var/lib/slipway/data /var/lib/slipway/nginx-sites
WORKDIR /app
COPY --from=build /src/target/release/slipway /app/slipway
COPY --from=build /src/target/site /app/site
ENV APP_ENV=production \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:8000 \
    DATA_DIR=/var/lib/slipway/data \
    NGINX_SITES_DIR=/var/lib/slipway/nginx-sites \
    NGINX_BIN=/usr/sbin/nginx
USER slipway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD curl -fsS "http://127.0.0.1:${LEPTOS_SITE_ADDR##*:}/health" >/dev/null || exit 1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/app/slipway"]
