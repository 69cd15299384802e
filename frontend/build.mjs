// Builds the page into ../src/roost/web/static/dist/, where roost serves it from.
//
//   node build.mjs            minified, content-hashed, precompressed (what ships)
//   node build.mjs --watch    rebuilds on every change, unminified, for development
//
// Output: index.html naming the hashed entry files, the JavaScript entry and its
// lazily loaded chunks (the charts and uPlot load only when the Charts tab opens),
// one stylesheet, and a .gz and .br beside each text file. Beside it, apart from the
// page's bundle, the API reference served at /api/docs: apidocs.html, its script and
// its stylesheet (a few KB, no dependencies). aiohttp's FileResponse
// sends the .br or .gz sibling to a client that accepts it, so the Pi never
// compresses anything at request time.

import { build, context } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, "..", "src", "roost", "web", "static", "dist");
const WATCH = process.argv.includes("--watch");
// The live client is served on its own at /static/roost-live.js for other pages;
// the page bundles the same file instead of fetching it separately.
const LIVE_CLIENT = join(HERE, "..", "src", "roost", "web", "static", "roost-live.js");
const COMPRESSIBLE = /\.(js|css|html|svg|json)$/;

const options = {
  entryPoints: { app: join(HERE, "src", "main.js") },
  bundle: true,
  format: "esm",
  splitting: true,
  outdir: OUT,
  entryNames: WATCH ? "[name]" : "[name]-[hash]",
  chunkNames: WATCH ? "[name]" : "[name]-[hash]",
  assetNames: "[name]-[hash]",
  // Browsers from 2022 on: every phone that still gets updates.
  target: ["chrome100", "firefox100", "safari15"],
  minify: !WATCH,
  sourcemap: WATCH ? "inline" : false,
  legalComments: "none",
  metafile: true,
  alias: { "roost-live": LIVE_CLIENT },
  logLevel: "warning",
};

function writeIndex(metafile) {
  // The entry's name carries its hash, so the template gets it from the metafile.
  const outputs = Object.entries(metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint && o.entryPoint.endsWith("main.js"));
  if (!entry) throw new Error("esbuild produced no entry for main.js");
  const [jsPath, info] = entry;
  const css = info.cssBundle;
  const template = readFileSync(join(HERE, "src", "index.html"), "utf8");
  // Preload what the entry imports at once, so that it is not fetched only after the entry is parsed.
  const preloads = info.imports
    .filter((i) => i.kind === "import-statement")
    .map((i) => `<link rel="modulepreload" href="/static/dist/${basename(i.path)}">`)
    .join("\n");
  const html = template
    .replace("%PRELOADS%", preloads)
    .replace("%APP_JS%", `/static/dist/${basename(jsPath)}`)
    .replace("%APP_CSS%", css ? `/static/dist/${basename(css)}` : "")
    .replace(/\n\s*\n/g, "\n");
  writeFileSync(join(OUT, "index.html"), html);
}

// The API reference: its own entry, not split with the page (they share no code).
const docsOptions = {
  entryPoints: { apidocs: join(HERE, "src", "apidocs.js") },
  bundle: true,
  format: "esm",
  outdir: OUT,
  entryNames: "[name]-[hash]",
  target: options.target,
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
};

async function buildDocs() {
  const result = await build(docsOptions);
  const [jsPath, info] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint);
  const html = readFileSync(join(HERE, "src", "apidocs.html"), "utf8")
    .replace("%DOCS_JS%", `/static/dist/${basename(jsPath)}`)
    .replace("%DOCS_CSS%", `/static/dist/${basename(info.cssBundle)}`);
  writeFileSync(join(OUT, "apidocs.html"), html);
}

function precompress() {
  let raw = 0;
  let gz = 0;
  let br = 0;
  for (const name of readdirSync(OUT)) {
    if (!COMPRESSIBLE.test(name)) continue;
    const data = readFileSync(join(OUT, name));
    const gzipped = gzipSync(data, { level: 9 });
    const brotli = brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    });
    writeFileSync(join(OUT, `${name}.gz`), gzipped);
    writeFileSync(join(OUT, `${name}.br`), brotli);
    raw += data.length;
    gz += gzipped.length;
    br += brotli.length;
  }
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`page: ${kb(raw)} built, ${kb(gz)} gzip, ${kb(br)} brotli -> ${OUT}`);
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

if (WATCH) {
  const ctx = await context({
    ...options,
    plugins: [
      {
        name: "index",
        setup(b) {
          b.onEnd((result) => {
            if (result.metafile) writeIndex(result.metafile);
            console.log(`page: rebuilt at ${new Date().toLocaleTimeString()}`);
          });
        },
      },
    ],
  });
  await buildDocs();
  await ctx.watch();
  console.log("page: watching frontend/src; run `make demo` in another shell and reload the page");
} else {
  const result = await build(options);
  writeIndex(result.metafile);
  await buildDocs();
  precompress();
}
