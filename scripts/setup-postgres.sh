#!/usr/bin/env bash
# Installs the PostgreSQL server from Debian (once) and generates the Prisma client offline.
# Safe to run again: skips what is already there. The server itself is started on demand by
# infra/postgres/server.ts (ensurePostgres) or `npx tsx infra/postgres/cli.ts start`.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_MAJOR=15
PG_BIN="${MAESTRO_POSTGRES_BIN:-/usr/lib/postgresql/${PG_MAJOR}/bin}"

# Debian starts its own cluster on :5432; Maestro runs its own under .maestro/postgres instead.
source scripts/lib/apt-install.sh
apt_install_once "${PG_BIN}/postgres" postgresql setup-postgres
[ -x "${PG_BIN}/initdb" ] || { echo "setup-postgres: ${PG_BIN}/initdb is missing: the Debian package postgresql-${PG_MAJOR} is not the server this script expects (set MAESTRO_POSTGRES_BIN)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "setup-postgres: there is no 'postgres' user although the server is installed" >&2
  exit 1
fi

# Prisma Client (engineType = "client": query compiler in WASM + the pg driver adapter, no downloads).
# `prisma generate` only checks that a schema engine binary exists: point it at any file. It reads
# the schema config, which fails without DATABASE_URL (and then falls back to downloading engines).
STAMP=node_modules/.prisma/client/.maestro-schema.sha256
WANT="$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ] || [ ! -f node_modules/.prisma/client/query_compiler_bg.wasm ]; then
  echo "setup-postgres: generating the Prisma client"
  DATABASE_URL="${DATABASE_URL:-postgresql://localhost/unused}" PRISMA_SCHEMA_ENGINE_BINARY=/bin/true PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1 \
    npx prisma generate --schema prisma/schema.prisma >/dev/null 2>&1 || {
      echo "setup-postgres: prisma generate failed:" >&2
      DATABASE_URL="${DATABASE_URL:-postgresql://localhost/unused}" PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npx prisma generate --schema prisma/schema.prisma >&2
      exit 1
    }
  echo "$WANT" > "$STAMP"
fi
echo "setup-postgres: ready (${PG_BIN}/postgres, Prisma client generated)"
