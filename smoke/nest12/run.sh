#!/usr/bin/env bash
# Smoke test: the compiled library (dist/lib) under NestJS 12 + TypeORM 1.x, with plain `node`.
#
# The repo's own node_modules holds NestJS 11 / TypeORM 0.3, and Node looks for packages in every
# node_modules above the requiring file. Running from inside the repo would let anything missing
# here silently fall back to those versions (ESM imports inside Nest 12 included, which NODE_PATH
# does not even affect). So the app runs from a staging directory outside the repo: a hard-linked
# copy of this folder's node_modules plus a copy of dist/lib as node_modules/nestjs-durin.
# Nothing else is reachable from there, and main.js checks where every package came from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { printf '[smoke:nest12] %s\n' "$*"; }
fail() {
  printf '[smoke:nest12] FAIL: %s\n' "$*" >&2
  exit 1
}

# require() of ES modules (NestJS 12 ships ESM only) works without flags from Node 20.19 on.
node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) process.exit(1);
' || fail "Node $(node --version) is too old; NestJS 12 from CommonJS needs Node >= 20.19"

[[ -f "$root/dist/lib/index.js" ]] || fail "dist/lib/index.js is missing; run 'npm run build' first"

say "installing NestJS 12 / TypeORM 1.x into smoke/nest12/node_modules"
started=$SECONDS
(cd "$here" && npm install --no-audit --no-fund --loglevel=error)
say "install took $((SECONDS - started)) s"

stage="$(mktemp -d "${TMPDIR:-/tmp}/durin-smoke-nest12.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

# Guard the one way the staging directory could still see foreign packages.
dir="$stage"
while [[ "$dir" != / ]]; do
  dir="$(dirname "$dir")"
  [[ ! -e "${dir%/}/node_modules" ]] || fail "${dir%/}/node_modules exists and would leak into the smoke run"
done

# Hard links make the copy instant; fall back to a real copy across file systems (tmpfs /tmp).
cp -al "$here/node_modules" "$stage/node_modules" 2>/dev/null || {
  rm -rf "$stage/node_modules"
  cp -a "$here/node_modules" "$stage/node_modules"
}

# The library as a consumer gets it: dist/lib as the package root, with its real manifest data.
lib="$stage/node_modules/nestjs-durin"
rm -rf "$lib"
mkdir -p "$lib"
cp -R "$root/dist/lib/." "$lib/"
node -e '
  const fs = require("node:fs");
  const [source, target] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(source, "utf8"));
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    main: "index.js",
    types: "index.d.ts",
    dependencies: pkg.dependencies ?? {},
    peerDependencies: pkg.peerDependencies ?? {},
    peerDependenciesMeta: pkg.peerDependenciesMeta ?? {},
  };
  fs.writeFileSync(target, JSON.stringify(manifest, null, 2) + "\n");
' "$root/package.json" "$lib/package.json"

cp "$here/main.js" "$stage/main.js"

say "running the app from $stage"
cd "$stage"
env -u NODE_PATH -u NODE_OPTIONS node main.js "$root"
