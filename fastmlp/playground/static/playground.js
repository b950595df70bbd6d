// fastmlp's live Playground: the page. Plain JavaScript, no library: the
// network trains in Python (fastmlp) behind /api/*, this draws it.
"use strict";

const DEFAULTS = {
  activation: "tanh", regularization: "none", batchSize: 10, dataset: "circle",
  regDataset: "reg-plane", learningRate: 0.03, regularizationRate: 0, noise: 0,
  networkShape: [4, 2], seed: "0.12345", showTestData: false, discretize: false,
  percTrainData: 50, x: true, y: true, xTimesY: false, xSquared: false,
  ySquared: false, sinX: false, sinY: false, problem: "classification",
};
const INPUTS = [["x", "X1"], ["y", "X2"], ["xSquared", "X1²"], ["ySquared", "X2²"],
  ["xTimesY", "X1X2"], ["sinX", "sin(X1)"], ["sinY", "sin(X2)"]];
const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DATASETS = ["circle", "xor", "gauss", "spiral"];
const REG_DATASETS = ["reg-plane", "reg-gauss"];
const MAX_LAYERS = 6, MAX_NEURONS = 8;
const NODE = 30, BIAS = 5;

// The Playground's colours: [-1, 1] in 31 shades from orange through grey to
// blue, drawn at alpha 160/255.
const SHADES = (() => {
  const stops = [[0xf5, 0x93, 0x22], [0xe8, 0xea, 0xeb], [0x08, 0x77, 0xbd]];
  const out = [];
  for (let i = 0; i <= 30; i++) {
    const a = i / 30, k = a < 0.5 ? 0 : 1, t = a < 0.5 ? a * 2 : (a - 0.5) * 2;
    out.push(stops[k].map((c, j) => Math.round(c + (stops[k + 1][j] - c) * t)));
  }
  return out;
})();
function shade(v) {
  if (!(v > -1)) v = -1;
  if (v > 1) v = 1;
  return SHADES[Math.min(30, Math.floor((v + 1) / 2 * 31))];
}
function css(v) { const c = shade(v); return `rgb(${c[0]},${c[1]},${c[2]})`; }

let state = Object.assign({}, DEFAULTS);
let snap = null, points = { train: [], test: [] };
let playing = false, inFlight = false, speed = 1;
// redraws: answers drawn while playing (the browser test reads it).
let frames = [], redraws = 0, $ = (id) => document.getElementById(id);

// -- the state in the URL hash, in the Playground's own format --------------
function readHash() {
  const s = Object.assign({}, DEFAULTS);
  for (const pair of location.hash.slice(1).split("&")) {
    const [k, v] = pair.split("=");
    if (!(k in DEFAULTS) || v === undefined) continue;
    if (k === "networkShape") s[k] = v.trim() === "" ? [] : v.split(",").map(Number);
    else if (typeof DEFAULTS[k] === "boolean") s[k] = v !== "false";
    else if (typeof DEFAULTS[k] === "number") { if (v.trim() !== "") s[k] = +v; }
    else if (v.trim() !== "") s[k] = v;
  }
  return s;
}
function writeHash() {
  const parts = Object.keys(DEFAULTS).map((k) =>
    `${k}=${Array.isArray(state[k]) ? state[k].join(",") : state[k]}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}

// -- the API -----------------------------------------------------------------
async function call(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}) });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  $("error").textContent = "";
  return j;
}
function show(error) { $("error").textContent = error.message || String(error); }
function accept(s) {
  snap = s;
  if (s.train) points = { train: s.train, test: s.test };
  if (s.state) { state = Object.assign(state, s.state); }
  draw();
}
async function send(changes) {
  Object.assign(state, changes);
  writeHash();
  try { accept(await call("/api/state", state)); syncControls(); } catch (e) { show(e); }
}

// -- controls ----------------------------------------------------------------
function options(id, values) {
  $(id).innerHTML = values.map((v) => `<option value="${v}">${v}</option>`).join("");
}
function syncControls() {
  $("learningRate").value = String(state.learningRate);
  $("regularizationRate").value = String(state.regularizationRate);
  for (const id of ["activation", "regularization", "problem"]) $(id).value = state[id];
  for (const id of ["percTrainData", "noise", "batchSize"]) {
    $(id).value = state[id]; $(id + "Value").textContent = state[id];
  }
  $("showTestData").checked = state.showTestData;
  $("discretize").checked = state.discretize;
  const names = state.problem === "regression" ? REG_DATASETS : DATASETS;
  const current = state.problem === "regression" ? state.regDataset : state.dataset;
  $("datasets").innerHTML = names.map((n) =>
    `<button data-name="${n}" class="${n === current ? "selected" : ""}">${n}</button>`).join("");
  $("shape").textContent = `${state.networkShape.length} hidden layer(s)`;
  layerButtons();
}
function layerButtons() {
  const box = $("layerButtons"); box.innerHTML = "";
  state.networkShape.forEach((n, l) => {
    const span = document.createElement("span");
    span.style.left = (layerX(l + 1) - 22) + "px";
    span.innerHTML = `<button data-l="${l}" data-d="1">+</button><button data-l="${l}" data-d="-1">&minus;</button> ${n}`;
    box.appendChild(span);
  });
}
function setup() {
  options("learningRate", RATES); options("regularizationRate", REG_RATES);
  $("learningRate").onchange = (e) => send({ learningRate: +e.target.value });
  $("regularizationRate").onchange = (e) => send({ regularizationRate: +e.target.value });
  for (const id of ["activation", "regularization", "problem"])
    $(id).onchange = (e) => send({ [id]: e.target.value });
  for (const id of ["percTrainData", "noise", "batchSize"])
    $(id).onchange = (e) => send({ [id]: +e.target.value });
  $("showTestData").onchange = (e) => send({ showTestData: e.target.checked });
  $("discretize").onchange = (e) => send({ discretize: e.target.checked });
  $("speed").onchange = (e) => { speed = +e.target.value; };
  $("datasets").onclick = (e) => {
    const n = e.target.dataset && e.target.dataset.name; if (!n) return;
    send(state.problem === "regression" ? { regDataset: n } : { dataset: n });
  };
  $("layerButtons").onclick = (e) => {
    const d = e.target.dataset; if (!d || d.l === undefined) return;
    const shape = state.networkShape.slice(), l = +d.l;
    shape[l] = Math.max(1, Math.min(MAX_NEURONS, shape[l] + +d.d));
    send({ networkShape: shape });
  };
  $("addLayer").onclick = () => { if (state.networkShape.length < MAX_LAYERS)
    send({ networkShape: state.networkShape.concat([2]) }); };
  $("removeLayer").onclick = () => send({ networkShape: state.networkShape.slice(0, -1) });
  $("network").onclick = (e) => {  // click an input to switch it on or off
    const r = $("network").getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    INPUTS.forEach(([key], i) => {
      if (Math.abs(x - layerX(0)) < NODE / 2 && Math.abs(y - nodeY(i)) < NODE / 2)
        send({ [key]: !state[key] });
    });
  };
  $("play").onclick = () => { playing = !playing; $("play").classList.toggle("playing", playing);
    $("play").innerHTML = playing ? "&#10074;&#10074;" : "&#9654;"; if (playing) loop(); };
  $("step").onclick = async () => { try { accept(await call("/api/step", { epochs: 1 })); } catch (e) { show(e); } };
  $("reset").onclick = async () => { try { accept(await call("/api/reset")); } catch (e) { show(e); } };
  $("regenerate").onclick = async () => { try { accept(await call("/api/regenerate")); writeHash(); } catch (e) { show(e); } };
  window.addEventListener("hashchange", () => { const s = readHash(); if (JSON.stringify(s) !== JSON.stringify(state)) { state = s; send({}); } });
}

// -- training loop: one request in flight, one redraw per answer ---------------
async function loop() {
  while (playing) {
    if (!inFlight) {
      inFlight = true;
      try { accept(await call("/api/step", { epochs: speed })); } catch (e) { show(e); playing = false; }
      inFlight = false;
      const now = performance.now(); frames.push(now); redraws++;
      while (frames.length && now - frames[0] > 1000) frames.shift();
      $("fps").textContent = frames.length;
    }
    await new Promise((r) => requestAnimationFrame(r));
  }
}

// -- drawing -------------------------------------------------------------------
function layerX(l) {
  const n = state.networkShape.length + 2, w = $("network").width - 120;
  return 60 + l * w / (n - 1);
}
function nodeY(i) { return 30 + i * (NODE + 25) + NODE / 2; }
function paint(canvas, ctx, grid, x, y, size, discretize) {
  const n = grid.length, img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    let v = grid[r][c]; if (discretize) v = v >= 0 ? 1 : -1;
    const s = shade(v), p = 4 * (r * n + c);
    img.data[p] = s[0]; img.data[p + 1] = s[1]; img.data[p + 2] = s[2]; img.data[p + 3] = 160;
  }
  const tmp = document.createElement("canvas"); tmp.width = n; tmp.height = n;
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, x, y, size, size);
}
function draw() {
  if (!snap) return;
  $("epoch").textContent = String(snap.epoch).padStart(6, "0");
  $("lossTrain").textContent = snap.loss_train.toFixed(3);
  $("lossTest").textContent = snap.loss_test.toFixed(3);
  const cv = $("network"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  // node centres: inputs (all seven, the active ones used), hidden, output
  const active = INPUTS.map(([k], i) => [k, i]).filter(([k]) => state[k]).map(([, i]) => i);
  const centres = [active.map((i) => [layerX(0), nodeY(i)])];
  const widths = state.networkShape.concat([1]);
  widths.forEach((n, l) => centres.push(Array.from({ length: n }, (_, j) => [layerX(l + 1), nodeY(j)])));
  centres[centres.length - 1] = [[layerX(widths.length), nodeY(0)]];
  // links: width on the Playground's absolute scale |w| in [0, 5] -> [1, 10] px
  snap.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((w, j) => {
    const [x0, y0] = centres[l][i], [x1, y1] = centres[l + 1][j];
    ctx.strokeStyle = css(w); ctx.lineWidth = 1 + 9 * Math.min(Math.abs(w), 5) / 5;
    ctx.beginPath(); ctx.moveTo(x0 + NODE / 2, y0);
    ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1 - NODE / 2, y1); ctx.stroke();
  })));
  // inputs
  ctx.font = "11px Helvetica"; ctx.textAlign = "right";
  INPUTS.forEach(([k, label], i) => {
    const x = layerX(0) - NODE / 2, y = nodeY(i) - NODE / 2;
    ctx.fillStyle = "#333"; ctx.fillText(label, x - 4, y + NODE / 2 + 4);
    const at = active.indexOf(i);
    if (at >= 0) paint(cv, ctx, snap.inputs[at], x, y, NODE, false);
    ctx.strokeStyle = at >= 0 ? "#333" : "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(x, y, NODE, NODE);
  });
  // neurons, their biases (small squares) and heatmaps
  snap.nodes.forEach((layer, l) => layer.forEach((grid, j) => {
    const [cx, cy] = centres[l + 1][j], x = cx - NODE / 2, y = cy - NODE / 2;
    paint(cv, ctx, grid, x, y, NODE, state.discretize);
    ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.strokeRect(x, y, NODE, NODE);
    ctx.fillStyle = css(snap.biases[l][j]);
    ctx.fillRect(x - BIAS - 2, y + NODE - BIAS + 3, BIAS, BIAS);
  }));
  // the output heatmap and the points
  const hm = $("heatmap"), hx = hm.getContext("2d");
  hx.clearRect(0, 0, hm.width, hm.height);
  paint(hm, hx, snap.output, 0, 0, hm.width, state.discretize);
  const px = (v) => (v + 6) / 12 * hm.width, py = (v) => (6 - v) / 12 * hm.height;
  const dot = (p, test) => {
    hx.beginPath(); hx.arc(px(p[0]), py(p[1]), 3, 0, 2 * Math.PI);
    hx.fillStyle = css(p[2]); hx.fill();
    hx.strokeStyle = test ? "#000" : "#fff"; hx.lineWidth = 1; hx.stroke();
  };
  points.train.forEach((p) => dot(p, false));
  if (state.showTestData) points.test.forEach((p) => dot(p, true));
}

// -- start: compile ahead, then the state from the URL -------------------------
async function start() {
  setup();
  state = readHash();
  syncControls();
  for (;;) {
    const s = await (await fetch("/api/status")).json();
    $("status").textContent = s.ready ? `fastmlp: ${s.message}` : `fastmlp: ${s.message} (the page works meanwhile; the first change may wait)`;
    if (s.ready) break;
    if (!snap) await send({});
    await new Promise((r) => setTimeout(r, 500));
  }
  await send({});
}
start();
