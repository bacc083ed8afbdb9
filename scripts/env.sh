#!/usr/bin/env bash
# Writes .env from .env.example when there is none, with a fresh SECRET_KEY and database
# password. An existing .env is left alone, except that an empty SECRET_KEY gets filled.
set -euo pipefail
cd "$(dirname "$0")/.."

random_b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
# URL-safe: the database password sits inside DATABASE_URL.
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if [ ! -f .env ]; then
  umask 077
  sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$(random_b64 32)|" \
      -e "s|slipway:CHANGE_ME@|slipway:$(random_hex 16)@|" \
      .env.example > .env
  echo "Wrote .env with a new SECRET_KEY and database password."
elif grep -q '^SECRET_KEY=$' .env; then
  sed -i "s|^SECRET_KEY=$|SECRET_KEY=$(random_b64 32)|" .env
  echo "Filled the empty SECRET_KEY in .env."
fi
