// Opens tessera's HTML maps in Debian's Chromium (headless; WebGL through SwiftShader) and
// reports, per page, the requests that left the server's origin, the console errors, and the
// colours the map drew (sampled from its canvas once it is idle), what it drew of each tile
// layer (features and stand-ins), with a screenshot OUT_DIR/PREFIX-n.png.
// NODE_DIR=… node maps.mjs BASE_URL OUT_DIR PREFIX PATH...   -> JSON on stdout
// (playwright-core is installed under NODE_DIR by tests/run-all.sh, not beside this script.)
import { createRequire } from "node:module";
const { chromium } = createRequire(process.env.NODE_DIR + "/node_modules/")("playwright-core");

const [base, outDir, prefix, ...paths] = process.argv.slice(2);
const origin = new URL(base).origin;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
});
const results = [];
for (const [n, path] of paths.entries()) {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  const foreign = [];
  const errors = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("data:") && !u.startsWith("blob:") && new URL(u).origin !== origin) foreign.push(u);
  });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + path, { waitUntil: "load" });
  const drawn = await page.evaluate(() => new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: "the map was not idle within 30 s" }), 30000);
    const wait = () => {
      const map = window.tesseraMap;
      if (!map) return setTimeout(wait, 100);
      const sample = () => {
        // Read the canvas inside a render event, while the frame's buffer is still there.
        map.once("render", () => {
          const c = map.getCanvas();
          const t = document.createElement("canvas");
          t.width = c.width;
          t.height = c.height;
          const g = t.getContext("2d");
          g.drawImage(c, 0, 0);
          const d = g.getImageData(0, 0, t.width, t.height).data;
          const counts = {};
          for (let i = 0; i < d.length; i += 4) {
            const hex = "#" + [d[i], d[i + 1], d[i + 2]].map((v) => v.toString(16).padStart(2, "0")).join("");
            counts[hex] = (counts[hex] || 0) + 1;
          }
          clearTimeout(timer);
          resolve({ pixels: d.length / 4, counts });
        });
        map.triggerRepaint();
      };
      if (map.loaded() && map.areTilesLoaded()) sample(); else map.once("idle", sample);
    };
    wait();
  }));
  // What the map drew, by tile layer: features as themselves, and stand-ins.
  const rendered = await page.evaluate(() => {
    const out = {};
    for (const f of window.tesseraMap.queryRenderedFeatures()) {
      if (!f.sourceLayer) continue;
      const r = out[f.sourceLayer] || (out[f.sourceLayer] = { features: 0, standIns: 0 });
      if ("tessera:count" in f.properties) r.standIns += 1; else r.features += 1;
    }
    return out;
  });
  // The map and its legend, before a click opens a popup over them.
  const shot = (await page.$(".mapbox")) || page;
  await shot.screenshot({ path: `${outDir}/${prefix}-${n}.png` });
  // Click a feature the map drew (a vertex of it, inside the viewport; not a stand-in for
  // features too small to draw, which has no page) and read the popup.
  const at = await page.evaluate(() => {
    const map = window.tesseraMap;
    const ids = map.getStyle().layers
      .filter((l) => l.source && l.source !== "riferimento" && l.source !== "basemap")
      .map((l) => l.id);
    const box = map.getCanvas().getBoundingClientRect();
    for (const f of map.queryRenderedFeatures(undefined, { layers: ids })) {
      if ("tessera:count" in f.properties) continue;
      const g = f.geometry;
      const c = g.type === "Point" ? g.coordinates
        : g.type === "LineString" ? g.coordinates[Math.floor(g.coordinates.length / 2)]
        : g.type === "Polygon" ? g.coordinates[0][0] : null;
      if (!c) continue;
      const p = map.project(c);
      const x = box.left + p.x, y = box.top + p.y;
      if (x > box.left + 5 && y > box.top + 5 && x < Math.min(box.right, innerWidth) - 5 && y < Math.min(box.bottom, innerHeight) - 5) return { x, y };
    }
    return null;
  });
  let popup = null;
  if (at) {
    await page.mouse.click(at.x, at.y);
    popup = await page.waitForSelector(".maplibregl-popup", { timeout: 5000 })
      .then((el) => el.evaluate((e) => { const a = e.querySelector("a"); return a ? a.getAttribute("href") : ""; }))
      .catch(() => null);
  }
  // On a map with a layer switcher: untick every box, then tick insediativa × di diritto;
  // report the data layers shown each time.
  const switched = await page.evaluate(() => {
    const boxes = [...document.querySelectorAll("#legenda input[data-struttura]")];
    if (!boxes.length) return null;
    const map = window.tesseraMap;
    const shown = () => map.getStyle().layers
      .filter((l) => l.metadata && l.metadata["tessera:stato"] && map.getLayoutProperty(l.id, "visibility") !== "none")
      .map((l) => l.id);
    const all = shown();
    for (const b of boxes) if (b.checked) b.click();
    const none = shown();
    const one = boxes.find((b) => b.dataset.struttura === "insediativa" && b.dataset.stato === "di_diritto");
    if (one) one.click();
    return { all, none, insediativaDiritto: shown() };
  });
  results.push({ path, foreign, errors, popup, at, rendered, switched, ...drawn });
  await page.close();
}
await browser.close();
console.log(JSON.stringify(results));
