#!/usr/bin/env node
'use strict';
// The drw command line. The TypeScript sources build to dist/ (npm run build).
const path = require('node:path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'cli', 'drw.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]cli[\\/]drw/.test(String(e.message))) {
    process.stderr.write('drw: not built yet: run `npm run build` in ' + path.join(__dirname, '..') + '\n');
    process.exit(1);
  }
  throw e;
}
cli.run();
