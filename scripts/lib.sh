# Shared by the scripts: sourced, never run.

# psql on the server of DATABASE_URL, database `postgres`, with the password passed through
# PGPASSWORD rather than on the command line (where `ps` would show it).
pg_admin() {
  local auth=${DATABASE_URL#*://}
  auth=${auth%%@*}
  local url=${DATABASE_URL/"$auth@"/"${auth%%:*}@"}
  PGPASSWORD=${auth#*:} psql -q -v ON_ERROR_STOP=1 "${url%/*}/postgres" "$@"
}

# Drops and recreates a scratch database (e2e, bench) named $1.
pg_recreate_db() {
  pg_admin -v name="$1" <<'SQL' >/dev/null
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'name') \gexec
SELECT format('CREATE DATABASE %I', :'name') \gexec
SQL
}
