#!/usr/bin/env bash
# Checks the container image's recipe without Docker: replays the Dockerfile's
# steps on this host in a clean temporary directory and checks that the result
# starts, answers its health probes and stops cleanly on SIGTERM.
#
#   1. copy the tree as the build context would hold it (git ls-files, .gitignore honoured);
#   2. build stage: its `npm ci …` and `npm run …` steps, in that copy;
#   3. runtime stage: a second directory filled by its COPY lines (--from=build
#      from the build directory), its `npm ci …` step (production dependencies only)
#      and its ENV (paths under /app mapped to the directory);
#   4. start its CMD there as the image does (as `nobody` when run as root, since the
#      image runs as a non-root user), with a clean environment and a fresh DATA_DIR;
#   5. probe /healthz with the image's own HEALTHCHECK script until it answers 200,
#      then /readyz;
#   6. SIGTERM, and require exit code 0 with no process left behind;
#   7. remove everything it made.
#
# Every step has a time limit, so it always ends by itself. Exit 0 when all passed.
# Environment:
#   VERIFY_DATABASE_URL   run against this Postgres (migrations included) instead of embedded PGlite
#   VERIFY_START_TIMEOUT  seconds to wait for /healthz and /readyz (default 120)
#   VERIFY_STOP_TIMEOUT   seconds to wait for the exit after SIGTERM (default 30)
#   VERIFY_KEEP=1         keep the temporary directory for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DOCKERFILE="$ROOT/Dockerfile"
START_TIMEOUT="${VERIFY_START_TIMEOUT:-120}"
STOP_TIMEOUT="${VERIFY_STOP_TIMEOUT:-30}"
NPM_TIMEOUT=900

say() { printf 'verify: %s\n' "$*"; }
fail() { printf 'verify: FAILED: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/recap-verify.XXXXXX")"
CONTEXT="$WORK/context"   # the build stage's /app
RUNTIME="$WORK/runtime"   # the runtime stage's /app
LOG="$WORK/service.log"
SERVICE_PID=""

cleanup() {
  local status=$?
  if [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    kill -KILL -- "-$SERVICE_PID" 2>/dev/null || kill -KILL "$SERVICE_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$LOG" ]; then
    echo "---- last lines of the service log ----" >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  if [ "${VERIFY_KEEP:-}" = "1" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$DOCKERFILE" ] || fail "no Dockerfile at $DOCKERFILE"

# The instructions of one stage (FROM … AS <name>), continuation lines joined, comments dropped.
stage() {
  awk -v want="$1" '
    /^[[:space:]]*#/ { next }
    { line = line $0 }
    /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); next }
    {
      if (toupper(line) ~ /^FROM /) { n = split(line, w, /[[:space:]]+/); cur = (n >= 4 && toupper(w[n-1]) == "AS") ? w[n] : "" }
      else if (cur == want && line ~ /[^[:space:]]/) print line
      line = ""
    }' "$DOCKERFILE"
}

# The npm commands of a RUN line that build or install (npm ci, npm run, npm install);
# everything else (apt-get, chown, npm cache clean) concerns the image only.
npm_steps() {
  local run="${1#RUN }" part
  local IFS=$'\n'
  for part in $(printf '%s\n' "$run" | sed 's/&&/\n/g'); do
    part="$(echo "$part" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
    case "$part" in
      "npm ci"*|"npm run "*|"npm install"*) echo "$part" ;;
    esac
  done
}

run_npm() {
  local dir="$1" step="$2"
  say "($(basename "$dir")) $step"
  local extra=""
  # The host's npm cache stands in for the registry where it can.
  case "$step" in "npm ci"*|"npm install"*) extra="--prefer-offline" ;; esac
  # shellcheck disable=SC2086
  (cd "$dir" && timeout "$NPM_TIMEOUT" $step $extra >"$WORK/npm.log" 2>&1) \
    || { tail -n 30 "$WORK/npm.log" >&2; fail "$step failed in $(basename "$dir")"; }
}

has_build_script() {
  node -e 'process.exit(require(process.argv[1]).scripts?.build ? 0 : 1)' "$1/package.json"
}

# ---------------------------------------------------------------- 1. context
say "copying the tracked tree to $CONTEXT"
mkdir -p "$CONTEXT" "$RUNTIME"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard --deduplicate \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf -) | tar -xf - -C "$CONTEXT"

# ---------------------------------------------------------------- 2. build stage
FALLBACK=""
if ! has_build_script "$CONTEXT"; then
  FALLBACK=1
  say "package.json has no \"build\" script on this branch: building nothing, and starting the"
  say "TypeScript sources with tsx instead of the image's CMD (the rest is checked as the image does it)"
fi
while IFS= read -r line; do
  case "$line" in
    RUN*)
      while IFS= read -r step; do
        [ -z "$step" ] && continue
        if [ -n "$FALLBACK" ] && [ "$step" = "npm run build" ]; then continue; fi
        run_npm "$CONTEXT" "$step"
      done < <(npm_steps "$line")
      ;;
  esac
done < <(stage build)

# ---------------------------------------------------------------- 3. runtime stage
declare -a SERVICE_ENV=()
CMD_JSON=""
RUNTIME_USER=""
while IFS= read -r line; do
  case "$line" in
    COPY*)
      read -r -a words <<<"${line#COPY }"
      from="$CONTEXT"
      if [[ "${words[0]}" == --from=* ]]; then
        [ "${words[0]}" = "--from=build" ] || fail "unsupported COPY source ${words[0]}"
        from="$CONTEXT"; words=("${words[@]:1}")
      fi
      dest="${words[${#words[@]}-1]}"
      for src in "${words[@]:0:${#words[@]}-1}"; do
        rel="${src#/app/}"
        if [ -n "$FALLBACK" ] && [ "$rel" = "dist" ]; then continue; fi
        [ -e "$from/$rel" ] || fail "COPY $src: $rel does not exist after the build stage"
        target="$RUNTIME/${dest#./}"
        if [[ "$dest" == */ ]]; then mkdir -p "$target"; cp -R "$from/$rel" "$target"
        else mkdir -p "$(dirname "$target")"; cp -R "$from/$rel" "$target"; fi
      done
      ;;
    RUN*)
      while IFS= read -r step; do
        [ -n "$step" ] && run_npm "$RUNTIME" "$step"
      done < <(npm_steps "$line")
      ;;
    ENV*)
      for pair in ${line#ENV }; do SERVICE_ENV+=("${pair//\/app/$RUNTIME}"); done
      ;;
    USER*) RUNTIME_USER="${line#USER }" ;;
    CMD*) CMD_JSON="${line#CMD }" ;;
  esac
done < <(stage runtime)
[ -n "$CMD_JSON" ] || fail "the runtime stage has no CMD"
mapfile -d '' -t CMD < <(node -e '
  const cmd = JSON.parse(process.argv[1]);
  if (!Array.isArray(cmd) || cmd.some((a) => typeof a !== "string")) process.exit(1);
  process.stdout.write(cmd.map((a) => a + "\0").join(""));' "$CMD_JSON") || fail "CMD must be a JSON array (exec form): $CMD_JSON"
if [ -n "$FALLBACK" ]; then
  for dir in src migrations plugins; do cp -R "$CONTEXT/$dir" "$RUNTIME/"; done
  cp "$CONTEXT/tsconfig.json" "$RUNTIME/"
  CMD=(node --import tsx src/main.ts)
fi
[ -d "$RUNTIME/node_modules" ] || fail "the runtime stage installed no node_modules"
if [ -d "$RUNTIME/node_modules/typescript" ] || [ -d "$RUNTIME/node_modules/vitest" ]; then
  fail "the runtime stage holds development dependencies (typescript or vitest)"
fi
say "runtime directory: $(du -sm "$RUNTIME" | cut -f1) MB (node_modules $(du -sm "$RUNTIME/node_modules" | cut -f1) MB); build directory: $(du -sm "$CONTEXT" | cut -f1) MB"

# The packaged CLI (package.json "bin") must work with production dependencies alone.
RECAP_BIN="$(node -e 'const b = require(process.argv[1]).bin; console.log((typeof b === "string" ? b : b?.recap) ?? "")' "$RUNTIME/package.json")"
if [ -n "$RECAP_BIN" ] && [ -z "$FALLBACK" ]; then
  (cd "$RUNTIME" && env -i PATH="$PATH" HOME="$WORK" timeout 60 node "$RECAP_BIN" --help >"$WORK/cli.log" 2>&1) \
    || { cat "$WORK/cli.log" >&2; fail "recap --help (node $RECAP_BIN) failed in the runtime directory"; }
  say "recap --help works from the runtime directory (node $RECAP_BIN)"
fi

# ---------------------------------------------------------------- 4. start
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
mkdir -p "$WORK/data" "$WORK/home"
AS_USER=()
if [ "$(id -u)" = "0" ]; then
  # The image runs as USER ${RUNTIME_USER:-?}; here an unprivileged user stands in for it.
  chmod 755 "$WORK"
  chown -R nobody "$WORK/data" "$WORK/home"
  AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  say "starting as nobody (the image runs as USER ${RUNTIME_USER:-root})"
fi
SERVICE_ENV+=("PATH=$PATH" "HOME=$WORK/home" "HTTP_HOST=127.0.0.1" "HTTP_PORT=$PORT" "DATA_DIR=$WORK/data" "LOG_FORMAT=json")
if [ -n "${VERIFY_DATABASE_URL:-}" ]; then SERVICE_ENV+=("DATABASE_URL=$VERIFY_DATABASE_URL"); fi
# Never the URL itself: it may hold a password.
say "starting: ${CMD[*]} (port $PORT, database: $([ -n "${VERIFY_DATABASE_URL:-}" ] && echo Postgres || echo 'embedded PGlite'))"
started=$(now_ms)
# Its own session and process group: nothing it leaves behind can hide among this script's processes.
(cd "$RUNTIME" && exec setsid env -i "${SERVICE_ENV[@]}" "${AS_USER[@]}" "${CMD[@]}") >"$LOG" 2>&1 &
SERVICE_PID=$!

# ---------------------------------------------------------------- 5. probe
probe() { (cd "$RUNTIME" && env -i PATH="$PATH" HTTP_HOST=127.0.0.1 HTTP_PORT="$PORT" node deploy/healthcheck.mjs "$1" 2>/dev/null); }
wait_for() {
  local path="$1" deadline=$(( $(date +%s) + START_TIMEOUT ))
  until probe "$path"; do
    kill -0 "$SERVICE_PID" 2>/dev/null || { wait "$SERVICE_PID" && code=0 || code=$?; fail "the service exited (code $code) before $path answered 200"; }
    [ "$(date +%s)" -lt "$deadline" ] || fail "$path did not answer 200 within ${START_TIMEOUT}s"
    sleep 0.2
  done
}
wait_for /healthz
healthy=$(now_ms)
say "/healthz answered 200 after $((healthy - started)) ms"
# HTTP listens only after the migrations: their share of that time sizes start-up probes.
node -e '
  const [log, started] = [process.argv[1], Number(process.argv[2])];
  for (const line of require("fs").readFileSync(log, "utf8").split("\n")) {
    let entry; try { entry = JSON.parse(line); } catch { continue; }
    if (entry.msg === "database migrated") {
      console.log(`verify: ${entry.migrations.length} migrations applied, done ${new Date(entry.time).getTime() - started} ms after the start`);
    }
  }' "$LOG" "$started" || true
wait_for /readyz
say "/readyz answered 200 after $(( $(now_ms) - started )) ms"
rss_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$SERVICE_PID/status" 2>/dev/null || echo 0)
say "idle RSS of the service process: $((rss_kb / 1024)) MB"

# ---------------------------------------------------------------- 6. stop
say "sending SIGTERM to $SERVICE_PID"
stop_sent=$(now_ms)
kill -TERM "$SERVICE_PID"
code=""
for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do
  if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
    wait "$SERVICE_PID" && code=0 || code=$?
    break
  fi
  sleep 0.1
done
[ -n "$code" ] || fail "still running ${STOP_TIMEOUT}s after SIGTERM"
say "exited with code $code $(( $(now_ms) - stop_sent )) ms after SIGTERM"
# Zombies do not count: their parent is gone and init reaps them (tini does in the image).
left_behind() { ps -e -o pid=,pgid=,stat=,args= | awk -v g="$SERVICE_PID" '$2 == g && $3 !~ /^Z/'; }
sleep 0.5
if [ -n "$(left_behind)" ]; then
  left_behind >&2
  fail "processes of the service are still running after it exited"
fi
SERVICE_PID=""
[ "$code" = "0" ] || fail "exit code $code after SIGTERM; expected 0"
grep -q '"stopped"' "$LOG" || fail "the log has no \"stopped\" line: the service did not drain"
say "passed"
