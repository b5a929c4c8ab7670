#!/usr/bin/env bash
# The Sync step of action.yml: turns the INPUT_* variables into the CLI's flags (secrets through
# the environment only), runs one sync, and writes the outputs (report path, exit code, counts)
# to GITHUB_OUTPUT. The sync writes the step summary itself when GITHUB_STEP_SUMMARY is set.
set -uo pipefail
here="${ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"

args=(-i "${INPUT_IMAGES_FILE:-images.yaml}")
# true/false inputs: a flag when true; anything but true or false stops here (exit 2, as the CLI would)
switch() {
  case "$2" in
    true|TRUE|True|yes|1) args+=("$3") ;;
    false|FALSE|False|no|0|"") ;;
    *) echo "::error::$1 must be true or false (got $2)"; exit 2 ;;
  esac
}
switch dry-run "${INPUT_DRY_RUN:-false}" --dry-run
switch sign-recursive "${INPUT_SIGN_RECURSIVE:-false}" --sign-recursive
switch attest "${INPUT_ATTEST:-false}" --attest
[ -n "${INPUT_SIGNATURE_FORMAT:-}" ] && args+=(--signature-format "$INPUT_SIGNATURE_FORMAT")
[ -n "${INPUT_TARGET_REPO_AUTH_KEY:-}" ] && args+=(--target-repo-auth-key "$INPUT_TARGET_REPO_AUTH_KEY")
[ -n "${INPUT_SHARD:-}" ] && args+=(--shard "$INPUT_SHARD")
[ -n "${INPUT_SIGN_KEY:-}" ] && args+=(--sign-key "$INPUT_SIGN_KEY")
[ -n "${INPUT_CONCURRENCY:-}" ] && args+=(--concurrency "$INPUT_CONCURRENCY")
[ -n "${INPUT_TRANSPORT:-}" ] && args+=(--transport "$INPUT_TRANSPORT")
[ -n "${INPUT_JUNIT:-}" ] && args+=(--junit "$INPUT_JUNIT")
report="${INPUT_REPORT:-}"
[ -n "$report" ] || report="${RUNNER_TEMP:-/tmp}/image-syncer-report.json"
args+=(--report "$report")

# Secrets and lists go through the CLI's environment variables, never on the command line.
[ -n "${INPUT_ACCESS_TOKEN:-}" ] && export SYNCER_ACCESS_TOKEN="$INPUT_ACCESS_TOKEN"
[ -n "${INPUT_SIGN_KEY_PASSWORD:-}" ] && export SYNCER_SIGN_KEY_PASSWORD="$INPUT_SIGN_KEY_PASSWORD"
[ -n "${INPUT_TARGET_REPO_PREFIX:-}" ] && export SYNCER_TARGET_REPO_PREFIX="$INPUT_TARGET_REPO_PREFIX"

# The engine settings the CLI runs with (src/cli/Engine.ts), unless the workflow sets its own.
BUN_JSC_useDFGJIT="${BUN_JSC_useDFGJIT:-0}" bun "$here/src/cli/launch.ts" "${args[@]}"
code=$?

{
  echo "report=$report"
  echo "exit-code=$code"
  if [ -f "$report" ]; then
    bun -e 'const r = JSON.parse(await Bun.file(process.argv[1]).text()); for (const k of ["total", "synced", "present", "planned", "conflict", "failed"]) console.log(`${k}=${r.summary[k] ?? 0}`)' "$report"
  fi
} >> "${GITHUB_OUTPUT:-/dev/null}"
exit $code
