// dist/cli/cvm-info.cjs (copied there by build/bundle-cli.mjs): runs `cvm info` from its CommonJS bundle
// (dist/cli/info.cjs) compiled with the V8 code cache the build made for it (by running the command once on a
// generated DICOM file: build/info-code-cache.mjs). Compiling the 220 KB bundle and the functions the command runs
// is about a tenth of a `cvm info`; with the cache V8 deserialises them instead. V8 itself compares only the
// source's length, so the cache is named after the bundle file's size and modification time as the build left them:
// a bundle changed since finds no cache (hashing it would load node:crypto and with it Node's streams, a cost of
// the same order as the compile). V8 refuses a cache made by another Node version or with other flags. Either way
// the bundle is compiled from its source, and the command is the same. Started by dist/cli/cvm (Linux, macOS) and
// dist/cli/cvm.mjs for `info`.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');

const bundle = path.join(__dirname, 'info.cjs');
const source = readFileSync(bundle, 'utf8');
const { size, mtimeMs } = statSync(bundle);
// Whole seconds: a copy that keeps the times (cp -p, tar, an installer) keeps at best milliseconds, as floats.
const cacheFile = path.join(__dirname, `info.cjs.${size}-${Math.floor(mtimeMs / 1000)}.v8-cache`);
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  /* not built for this bundle: compiled from the source */
}
// CommonJS's own wrapper (the public node:module would load the ESM loader as well).
const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
const script = new Script(wrapped, { filename: bundle, cachedData });
// The build's run: the cache taken as the command exits holds every function it compiled on the way.
if (process.env.CVM_WRITE_INFO_CODE_CACHE === '1')
  process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, require, bundleModule, bundle, __dirname);
