#!/usr/bin/env bash
# Proves, without Docker, that the runtime stage of Dockerfile.production works: build, lay out in a temporary
# directory exactly what that stage copies, install production dependencies there with that stage's own `npm ci`
# command, apply the migrations from there into a fresh database (as the migration Job does), start the service from
# there with NODE_ENV=production, wait for /health/startup and /health/readiness, send SIGTERM and expect exit 0.
# The COPY list and the npm command are read from the Dockerfile itself, so the two cannot drift apart.
#
# When run as root, the migration and the service run as an unprivileged user (nobody) over root-owned files with an
# unwritable HOME, as in the image (USER 1000, readOnlyRootFilesystem); in any case the laid-out tree is made
# read-only first. Needs: node, npm, a PostgreSQL server (DATABASE_URL's server, else 127.0.0.1:5432 as postgres) on
# which it may create and drop a database, and Redis (REDIS_URL, else redis://127.0.0.1:6379).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DOCKERFILE=Dockerfile.production

log() { echo "runtime-layout-check: $*"; }
die() {
  echo "runtime-layout-check: FAIL: $*" >&2
  exit 1
}
trap 'echo "runtime-layout-check: FAIL: line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

work=$(mktemp -d "${TMPDIR:-/tmp}/mingus-runtime-layout.XXXXXX")
app="$work/app"
build="$work/build"
server_pid=""
database=""
admin_url=""

# Runs a small ES module with the repository's own dependencies (pg), from the repository root.
repo_node() { (cd "$ROOT" && node --input-type=module "$@"); }

pg_admin() { # <server url> <SQL>
  repo_node - "$1" "$2" <<'EOF'
import pg from 'pg';
const [url, sql] = process.argv.slice(2);
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
await client.connect();
try {
  await client.query(sql);
} finally {
  await client.end();
}
EOF
}

cleanup() {
  local code=$?
  trap - ERR
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [[ -n $database ]]; then
    pg_admin "$admin_url" "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" ||
      echo "runtime-layout-check: could not drop database $database" >&2
  fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
  if ((code == 0)); then log "PASS"; else echo "runtime-layout-check: FAILED (exit $code)" >&2; fi
  exit "$code"
}
trap cleanup EXIT

# ---- 1. The runtime stage, read from the Dockerfile --------------------------------------------------------------
[[ -f $DOCKERFILE ]] || die "$DOCKERFILE not found"
# One instruction per line: continuation lines joined, comment lines dropped.
mapfile -t instructions < <(awk '
  /^[[:space:]]*#/ { next }
  {
    line = $0
    if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", line); pending = pending line " "; next }
    line = pending line
    pending = ""
    if (line !~ /^[[:space:]]*$/) print line
  }' "$DOCKERFILE")
last_from=-1
for i in "${!instructions[@]}"; do
  [[ ${instructions[$i]} =~ ^[[:space:]]*FROM[[:space:]] ]] && last_from=$i
done
((last_from > 0)) || die "$DOCKERFILE has no second FROM: expected a multi-stage build"
runtime=("${instructions[@]:last_from+1}")

# ---- 2. Build, as the build stage does -----------------------------------------------------------------------------
log "building into $build/dist"
npx --no-install prisma generate >/dev/null
npm run build --silent -- --outDir "$build/dist" --tsBuildInfoFile "$build/tsbuildinfo"
[[ -f $build/dist/main.js ]] || die "the build produced no dist/main.js"

# ---- 3. Replay the runtime stage's COPY and npm instructions -------------------------------------------------------
copy_one() { # <source> <destination>
  local src=$1 dest=$2
  if [[ -d $src ]]; then
    mkdir -p "$dest"
    cp -R "$src/." "$dest/"
  elif [[ -f $src ]]; then
    if [[ $dest == */ ]]; then mkdir -p "$dest" && cp "$src" "$dest"; else mkdir -p "$(dirname "$dest")" && cp "$src" "$dest"; fi
  else
    die "COPY source $src does not exist"
  fi
}

npm_ci_pattern='(npm[[:space:]]+ci[^&;|]*)' # the npm ci command, up to the next && ; or |
workdir=""
image_env=() # the runtime stage's ENV, applied to everything run from the layout
npm_command=""
copies=0
mkdir -p "$app"
for instruction in "${runtime[@]}"; do
  read -r keyword rest <<<"$instruction"
  case ${keyword^^} in
  WORKDIR)
    workdir=$rest
    ;;
  ENV)
    read -ra words <<<"$rest"
    for word in "${words[@]}"; do
      [[ $word == ?*=* ]] || die "ENV in the runtime stage must use the KEY=value form: $instruction"
      image_env+=("$word")
    done
    ;;
  COPY)
    [[ $rest != \[* ]] || die "COPY in JSON form is not supported by this check: $instruction"
    [[ -n $workdir ]] || die "COPY before WORKDIR in the runtime stage: $instruction"
    read -ra words <<<"$rest"
    from=""
    args=()
    for word in "${words[@]}"; do
      case $word in
      --from=*) from=${word#--from=} ;;
      --chown=* | --chmod=* | --link) ;;
      --*) die "unsupported COPY flag $word in: $instruction" ;;
      *) args+=("$word") ;;
      esac
    done
    ((${#args[@]} >= 2)) || die "COPY needs a source and a destination: $instruction"
    dest=${args[-1]}
    sources=("${args[@]:0:${#args[@]}-1}")
    ((${#sources[@]} == 1)) || [[ $dest == */ ]] || die "several sources need a directory destination: $instruction"
    case $dest in
    /*) dest_path="$app/${dest#"$workdir"/}" ;;
    *) dest_path="$app/${dest#./}" ;;
    esac
    [[ $dest == */ && $dest_path != */ ]] && dest_path="$dest_path/"
    for src in "${sources[@]}"; do
      if [[ -n $from ]]; then
        [[ $from == build && $src == "$workdir"/* ]] || die "unsupported COPY --from source: $instruction"
        copy_one "$build/${src#"$workdir"/}" "$dest_path"
      else
        copy_one "$ROOT/$src" "$dest_path"
      fi
    done
    copies=$((copies + 1))
    ;;
  RUN)
    if [[ $rest =~ $npm_ci_pattern ]]; then
      npm_command=${BASH_REMATCH[1]}
      npm_command=${npm_command%"${npm_command##*[![:space:]]}"} # without trailing blanks
      [[ $npm_command == *--omit=dev* ]] || die "the runtime stage's npm ci lacks --omit=dev: $npm_command"
      log "in $app: $npm_command"
      read -ra npm_words <<<"$npm_command"
      (cd "$app" && env "${image_env[@]}" "${npm_words[@]}")
    else
      log "skipping (system setup, not the application layout): $rest"
    fi
    ;;
  esac
done
[[ $workdir == /* ]] || die "the runtime stage sets no absolute WORKDIR"
[[ " ${image_env[*]} " == *" NODE_ENV=production "* ]] || die "the runtime stage does not set NODE_ENV=production"
[[ -n $npm_command ]] || die "the runtime stage runs no npm ci"
((copies > 0)) || die "the runtime stage copies nothing"
[[ -f $app/dist/main.js && -d $app/prisma/migrations && -d $app/node_modules ]] ||
  die "the layout lacks dist/main.js, prisma/migrations or node_modules"
log "layout: $(cd "$app" && find . -maxdepth 1 -mindepth 1 | sort | tr '\n' ' ')"

# ---- 4. Run as the image does: unprivileged, read-only files, unwritable HOME -------------------------------------
chmod -R a+rX,a-w "$app"
chmod 755 "$work"
node_dir=$(dirname "$(command -v node)")
run_as=()
if [[ $(id -u) == 0 ]]; then
  if command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$node_dir/node" -e '' 2>/dev/null; then
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    log "running the migration and the service as uid 65534 over root-owned files"
  else
    log "NOTE: cannot drop root here (no setpriv, or node is not reachable by nobody): running as root"
  fi
fi
marker="$work/started"
touch "$marker"
sleep 1 # file times have one-second resolution on some filesystems

in_layout() { # runs a command in the layout with exactly the given environment (plus PATH and HOME)
  (cd "$app" && "${run_as[@]}" env -i PATH="$node_dir:/usr/bin:/bin" HOME=/nonexistent "${image_env[@]}" "$@")
}

# ---- 5. A fresh database, migrated from the layout ----------------------------------------------------------------
pg_server=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
admin_url=$(repo_node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.href)' "$pg_server")
database="mingus_runtime_layout_$$_$(date +%s)"
database_url=$(repo_node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$admin_url" "$database")
log "creating database $database"
pg_admin "$admin_url" "CREATE DATABASE \"$database\"" || {
  database=""
  die "could not create a database on $(repo_node -e 'console.log(new URL(process.argv[1]).host)' "$admin_url")"
}
log "npx --no-install prisma migrate deploy (from the layout)"
in_layout DATABASE_URL="$database_url" npx --no-install prisma migrate deploy

# ---- 6. Start the service from the layout in production mode ------------------------------------------------------
port=$(repo_node -e 'import net from "node:net"; const s = net.createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
random_secret() { node -e 'console.log(require("node:crypto").randomBytes(48).toString("base64url"))'; }
health_token=$(random_secret)
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
server_log="$work/server.log"
log "starting node dist/main.js on 127.0.0.1:$port"
(cd "$app" && exec "${run_as[@]}" env -i PATH="$node_dir:/usr/bin:/bin" HOME=/nonexistent "${image_env[@]}" \
  NODE_ENV=production HOST=127.0.0.1 PORT="$port" DATABASE_URL="$database_url" DATABASE_LOCAL_CONNECTION=true REDIS_URL="$redis_url" \
  CORS_ORIGINS=https://app.example.com APP_URL=https://app.example.com HEALTH_TOKEN="$health_token" SHUTDOWN_TIMEOUT_MS=10000 \
  JWT_SECRET="$(random_secret)" CSRF_SECRET="$(random_secret)" EMAIL_HASH_KEY="$(random_secret)" \
  FIELD_ENCRYPTION_KEYS="k1:$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64"))')" FIELD_ENCRYPTION_KEY_ID=k1 \
  SMTP_URL=smtp://127.0.0.1:2525 MAIL_FROM=no-reply@example.com VAPID_SUBJECT=mailto:ops@example.com \
  VAPID_PRIVATE_KEY="$(node -e 'console.log(require("node:crypto").generateKeyPairSync("ec",{namedCurve:"P-256"}).privateKey.export({format:"jwk"}).d)')" \
  node dist/main.js) >"$server_log" 2>&1 &
server_pid=$!

status_of() { # <path> [bearer token] → HTTP status, 0 when nothing answers
  node -e '
    const [url, token] = process.argv.slice(1);
    fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(3000) })
      .then((r) => console.log(r.status), () => console.log(0));' "http://127.0.0.1:$port$1" "${2:-}"
}
server_failed() {
  echo "---- service output ----" >&2
  cat "$server_log" >&2 || true
  die "$1"
}
wait_for() { # <path> <status> <seconds>
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    kill -0 "$server_pid" 2>/dev/null || server_failed "the service exited while waiting for $1"
    [[ $(status_of "$1") == "$2" ]] && return 0
    sleep 0.5
  done
  server_failed "$1 never answered $2 within $3 s"
}
wait_for /health/startup 200 90
log "/health/startup answered 200"
wait_for /health/readiness 200 30
log "/health/readiness answered 200"
[[ $(status_of /health/detailed "$health_token") == 200 ]] || server_failed "/health/detailed refused the HEALTH_TOKEN"
[[ $(status_of /health/detailed wrong-token) == 401 ]] || server_failed "/health/detailed accepted a wrong token"
[[ $(status_of /openapi.json) == 200 ]] || server_failed "/openapi.json did not answer 200"
[[ $(status_of /docs/) == 200 ]] || server_failed "/docs/ did not answer 200 (Swagger UI assets from production node_modules)"

# ---- 7. SIGTERM: drain and exit 0 ---------------------------------------------------------------------------------
log "sending SIGTERM"
kill -TERM "$server_pid"
exit_code=0
wait "$server_pid" || exit_code=$?
server_pid=""
((exit_code == 0)) || server_failed "the service exited $exit_code after SIGTERM (expected 0)"
grep -q '"shutdown complete"' "$server_log" || server_failed "no 'shutdown complete' line after SIGTERM"
log "the service drained and exited 0"

# ---- 8. Nothing written at run time (readOnlyRootFilesystem holds) ------------------------------------------------
written=$(find "$app" -newer "$marker" -print -quit)
[[ -z $written ]] || die "the runtime wrote into its own tree ($written): readOnlyRootFilesystem would break it"
if ((${#run_as[@]} > 0)); then
  written=$(find "${TMPDIR:-/tmp}" -xdev -user 65534 -newer "$marker" -print -quit 2>/dev/null || true)
  [[ -z $written ]] || die "the runtime wrote $written: readOnlyRootFilesystem would break it"
fi
