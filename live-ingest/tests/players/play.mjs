#!/usr/bin/env node
// play.mjs PLAYER URL [SECONDS=10] [FPS=30]: plays a live HLS URL in headless Chromium
// (puppeteer-core driving /usr/bin/chromium) with PLAYER = shaka | videojs | hlsjs | native,
// or a live DASH MPD with PLAYER = dashjs,
// measures a window of SECONDS from the first advance of the playhead, and prints one JSON
// report on stdout: frames shown (totalVideoFrames - droppedVideoFrames) against frames sent
// in the window (FPS x its wall-clock seconds), gap jumps, stalls, errors, and the latency
// behind live (wall clock minus the playhead's PROGRAM-DATE-TIME). Exit 0 when a report was
// made (the Rust test judges it), 2 when none could be.
// Env: PLAYERS_DIR (where `npm ci` put node_modules; default /opt/peers/players),
//      CHROMIUM (default /usr/bin/chromium), PLAY_TIMEOUT (s, default SECONDS + 25),
//      PLAY_PAGE_QUERY (added to the page's query, e.g. `switchTo=1` or `audioTrack=1`
//      for hls.js).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [player, src, secondsArg, fpsArg] = process.argv.slice(2);
const pages = {shaka: 'shaka.html', videojs: 'videojs.html', hlsjs: 'hlsjs.html', native: 'native.html', dashjs: 'dashjs.html'};
if (!pages[player] || !src) {
  console.error('usage: play.mjs shaka|videojs|hlsjs|native|dashjs URL [SECONDS=10] [FPS=30]');
  process.exit(2);
}
const seconds = Number(secondsArg || 10);
const fps = Number(fpsArg || 30);
const timeout = Number(process.env.PLAY_TIMEOUT || seconds + 25) * 1000;
const playersDir = process.env.PLAYERS_DIR || '/opt/peers/players';
const require = createRequire(path.join(playersDir, 'package.json'));
const libs = {
  '/lib/hls.js': require.resolve('hls.js/dist/hls.min.js'),
  '/lib/shaka.js': require.resolve('shaka-player/dist/shaka-player.compiled.js'),
  '/lib/video.js': require.resolve('video.js/dist/video.min.js'),
  '/lib/dash.js': require.resolve('dashjs'), // its "require" export: the UMD build
};
const puppeteer = require('puppeteer-core');
const log = (...a) => console.error(`[play ${player}]`, ...a);

// The pages and the libraries from a loopback server of our own; the stream comes from
// the server under test (it sends CORS headers).
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = libs[url.pathname];
  if (!file && /^\/[a-z]+\.(html|js)$/.test(url.pathname)) file = path.join(here, url.pathname);
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  const type = file.endsWith('.html') ? 'text/html' : 'application/javascript';
  res.writeHead(200, {'Content-Type': type, 'Cache-Control': 'no-store'});
  fs.createReadStream(file).pipe(res);
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
// PLAY_PAGE_QUERY: more of the page's query (`switchTo=1` for hls.js).
const extra = process.env.PLAY_PAGE_QUERY ? `&${process.env.PLAY_PAGE_QUERY}` : '';
const page_url = `http://127.0.0.1:${server.address().port}/${pages[player]}?src=${encodeURIComponent(src)}${extra}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'players-chromium-'));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  pipe: true,
  ignoreDefaultArgs: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--mute-audio', '--disable-breakpad', '--disable-crash-reporter',
    '--autoplay-policy=no-user-gesture-required', '--remote-debugging-pipe',
    `--user-data-dir=${profile}`, 'about:blank',
  ],
});
const console_lines = [];
let report;
try {
  const page = await browser.newPage();
  page.on('console', m => console_lines.push(`${m.type()}: ${m.text()}`.slice(0, 400)));
  page.on('pageerror', e => console_lines.push(`pageerror: ${e.message}`.slice(0, 400)));
  // Which URL an error status came for (the console says only the status).
  page.on('response', r => { if (r.status() >= 400) console_lines.push(`http ${r.status()}: ${r.url()}`.slice(0, 400)); });
  await page.goto(page_url, {waitUntil: 'load', timeout: 15000});
  const started = Date.now();
  const snap = () => page.evaluate(() => window.harness.snapshot());
  // The window opens at the first advance of the playhead.
  let first = null;
  let previous = await snap();
  const samples = [];
  while (Date.now() - started < timeout) {
    await new Promise(r => setTimeout(r, 250));
    const s = await snap();
    if (!first && s.currentTime > previous.currentTime && !s.paused) first = previous.currentTime > 0 ? previous : s;
    previous = s;
    if (first) {
      samples.push(s);
      if (s.wall - first.wall >= seconds * 1000 && s.currentTime - first.currentTime >= seconds) break;
    }
    const fatal = await page.evaluate(() => window.harness.errors.some(e => e.fatal));
    if (fatal) break;
  }
  const last = previous;
  const h = await page.evaluate(() => {
    const h = window.harness;
    return {player: h.player, version: h.version, technology: h.technology ? h.technology() : null,
      nativeHls: h.nativeHls, latencyNote: h.latencyNote, errors: h.errors, gapJumps: h.gapJumps,
      stalls: h.stalls, events: h.events, sizes: h.sizes, videos: document.querySelectorAll('video').length,
      levels: h.levels ? h.levels() : null, metadata: h.metadata, audio: h.audio ? h.audio() : null};
  });
  const inWindow = list => (first ? list.filter(e => e[0] >= first.wall && e[0] <= last.wall) : []);
  const wallSeconds = first ? (last.wall - first.wall) / 1000 : 0;
  const shown = first ? (last.total - last.dropped) - (first.total - first.dropped) : 0;
  const sent = Math.round(fps * wallSeconds);
  // Frames shown in each second of the window, with the playhead at its start: where
  // a player loses frames (segment or part boundaries) shows here.
  function perSecond(from, list) {
    const out = [];
    let mark = from;
    for (const s of list) {
      if (s.wall - mark.wall >= 1000) {
        out.push([Math.round(mark.currentTime * 100) / 100, (s.total - s.dropped) - (mark.total - mark.dropped)]);
        mark = s;
      }
    }
    return out;
  }
  const latencies = samples.map(s => s.latencyMs).filter(l => l !== null);
  const ms = l => (l === undefined || l === null ? null : Math.round(l));
  report = {
    player: h.player, version: h.version, technology: h.technology, src, fps,
    startupMs: first ? first.wall - started : null,
    window: first ? {wallSeconds, mediaSeconds: last.currentTime - first.currentTime,
      from: first.currentTime, to: last.currentTime} : null,
    frames: {shown, sent, ratio: sent ? shown / sent : 0, dropped: first ? last.dropped - first.dropped : 0,
      totalAtEnd: last.total, perSecond: perSecond(first, samples)},
    gapJumps: inWindow(h.gapJumps), stalls: inWindow(h.stalls),
    waiting: inWindow(h.events.waiting).length, seeking: inWindow(h.events.seeking).length,
    allGapJumps: h.gapJumps.length, allStalls: h.stalls.length, allWaiting: h.events.waiting.length,
    allSeeking: h.events.seeking.length,
    latencyMs: {end: ms(latencies[latencies.length - 1]), min: ms(latencies.length ? Math.min(...latencies) : null),
      max: ms(latencies.length ? Math.max(...latencies) : null),
      mean: ms(latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null),
      samples: latencies.length, note: latencies.length ? null : (h.latencyNote || 'the player gave no PROGRAM-DATE-TIME')},
    errors: h.errors, fatal: h.errors.filter(e => e.fatal !== false),
    size: [last.width, last.height], playbackRateAtEnd: last.playbackRate, buffered: last.buffered,
    nativeHls: h.nativeHls, videoElements: h.videos, levels: h.levels, sizes: h.sizes, metadata: h.metadata,
    audio: h.audio,
    console: console_lines.slice(-20),
  };
} catch (e) {
  report = {player, src, error: String(e && e.stack || e), console: console_lines.slice(-20)};
} finally {
  await browser.close().catch(() => {});
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
console.log(JSON.stringify(report, null, 1));
const l = report.latencyMs || {};
log(`frames shown ${report.frames?.shown} / sent ${report.frames?.sent} in ${report.window?.wallSeconds?.toFixed(1)} s; ` +
  `gap jumps ${report.gapJumps?.length}, stalls ${report.stalls?.length}, waiting ${report.waiting}; ` +
  `latency end ${l.end} ms (min ${l.min}, mean ${l.mean}, max ${l.max})${l.note ? ` n/a: ${l.note}` : ''}`);
process.exit(report.error ? 2 : 0);
