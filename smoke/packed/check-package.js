'use strict';
// What a consumer of the tarball gets: run by run.sh with the installed package's directory.
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = process.argv[2];
const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
let step = 0;
function check(condition, message) {
  if (!condition) {
    console.error(`not ok - ${message}`);
    process.exit(1);
  }
  step += 1;
  console.log(`ok ${step} - ${message}`);
}

check(
  fs.existsSync(path.join(pkgDir, 'LICENSE')),
  `LICENSE is in the package (${manifest.license})`,
);

// Every relative link of the README must resolve inside the package.
const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
  .map((match) => match[1])
  .filter((target) => !/^[a-z]+:/i.test(target));
const missing = links.filter((target) => !fs.existsSync(path.join(pkgDir, target)));
check(
  links.length > 0 && missing.length === 0,
  `README links resolve in the package (${links.length}; missing: ${missing.join(', ') || 'none'})`,
);

// Source maps must be usable without the TypeScript sources, which are not shipped.
const maps = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.js.map')) maps.push(full);
  }
};
walk(path.join(pkgDir, 'dist'));
const withoutSources = maps.filter((file) => {
  const map = JSON.parse(fs.readFileSync(file, 'utf8'));
  return (
    !Array.isArray(map.sourcesContent) ||
    map.sourcesContent.some((text) => typeof text !== 'string' || text.length === 0)
  );
});
check(
  maps.length > 0 && withoutSources.length === 0,
  `${maps.length} source maps carry their sources (sourcesContent)`,
);

// The exports map: the entry and package.json resolve, internals do not.
const requireFromApp = require('node:module').createRequire(
  path.join(pkgDir, '..', '..', 'package.json'),
);
check(
  typeof requireFromApp('nestjs-durin').DurinModule === 'function',
  "require('nestjs-durin') gives DurinModule",
);
check(
  requireFromApp('nestjs-durin/package.json').name === 'nestjs-durin',
  "'nestjs-durin/package.json' is exported",
);
const testing = requireFromApp('nestjs-durin/testing');
check(
  typeof testing.issueTestToken === 'function' && typeof testing.actingAs === 'function',
  "require('nestjs-durin/testing') gives issueTestToken and actingAs",
);
check(
  fs.existsSync(path.join(pkgDir, 'dist/lib/testing/index.d.ts')),
  "the types of 'nestjs-durin/testing' are in the package",
);
let internalCode;
try {
  requireFromApp('nestjs-durin/dist/lib/token.service');
} catch (error) {
  internalCode = error.code;
}
check(
  internalCode === 'ERR_PACKAGE_PATH_NOT_EXPORTED',
  `internal files are not importable (${internalCode})`,
);
