#!/usr/bin/env bash
# Smoke test of the package as npm publishes it: `npm pack` (which builds through `prepack`), then a
# fresh NestJS 11 app outside the repo installs the tarball, checks what the package contains,
# compiles under `strict` (library types included: skipLibCheck off) and boots: header login, a
# protected route, logout; then the `nestjs-durin/testing` entry: issueTestToken for a header and a
# cookie session (CSRF), actingAs as the guard of a database-less app. Nothing from the repo's
# node_modules is reachable from the app.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { printf '[smoke:packed] %s\n' "$*"; }
fail() {
  printf '[smoke:packed] FAIL: %s\n' "$*" >&2
  exit 1
}

stage="$(mktemp -d "${TMPDIR:-/tmp}/durin-smoke-packed.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
dir="$stage"
while [[ "$dir" != / ]]; do
  dir="$(dirname "$dir")"
  [[ ! -e "${dir%/}/node_modules" ]] || fail "${dir%/}/node_modules exists and would leak into the smoke run"
done

say "npm pack"
tarball="$(cd "$root" && npm pack --silent --pack-destination "$stage" | tail -n 1)"
[[ -f "$stage/$tarball" ]] || fail "npm pack produced no tarball"
say "packed $tarball ($(du -k "$stage/$tarball" | cut -f1) kB)"

cp -R "$here/app/." "$stage/app/" 2>/dev/null || { mkdir -p "$stage/app" && cp -R "$here/app/." "$stage/app/"; }
cd "$stage/app"
say "installing NestJS 11 and the tarball into a fresh app"
started=$SECONDS
npm install --no-audit --no-fund --loglevel=error
npm install --no-audit --no-fund --loglevel=error "$stage/$tarball"
say "install took $((SECONDS - started)) s"

say "checking the installed package"
node "$here/check-package.js" "$stage/app/node_modules/nestjs-durin"

say "the durin command from the package's bin"
npx --no-install durin --help | grep -q 'client:create' || fail "npx durin --help did not print the usage"
say "ok - npx durin --help"

say "compiling the app under strict (skipLibCheck off)"
npx --no-install tsc -p tsconfig.json

say "running the app"
env -u NODE_PATH -u NODE_OPTIONS node dist/main.js
