#!/usr/bin/env node
// seek.mjs FILE.mp4 SEEK_SECONDS: serves FILE over loopback HTTP (with Range, as a web
// server or CDN would) to headless Chromium (puppeteer-core driving /usr/bin/chromium)
// showing a plain `<video src>` page; waits for the playhead to advance 1 s, sets
// currentTime = SEEK_SECONDS, waits for `seeked` and for the playhead to advance 0.5 s
// past it, and prints one JSON report on stdout (the Rust test judges it). Exit 0 when a
// report was made, 2 when none could be.
// Env: PLAYERS_DIR (puppeteer-core from live-ingest/tests/players/install.sh; default
// /opt/peers/players), CHROMIUM (default /usr/bin/chromium), SEEK_TIMEOUT (s, default 40).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

const [file, seekArg] = process.argv.slice(2);
if (!file || seekArg === undefined) {
  console.error('usage: seek.mjs FILE.mp4 SEEK_SECONDS');
  process.exit(2);
}
const target = Number(seekArg);
const timeout = Number(process.env.SEEK_TIMEOUT || 40) * 1000;
const playersDir = process.env.PLAYERS_DIR || '/opt/peers/players';
const puppeteer = createRequire(path.join(playersDir, 'package.json'))('puppeteer-core');

const PAGE = `<!doctype html><html><body>
<video id="v" src="/video.mp4" muted autoplay playsinline width="640"></video>
<script>
const v = document.getElementById('v');
window.log = {events: [], errors: [], ranges: 0};
for (const type of ['loadedmetadata', 'playing', 'waiting', 'seeking', 'seeked', 'ended', 'stalled']) {
  v.addEventListener(type, () => window.log.events.push([type, v.currentTime]));
}
v.addEventListener('error', () => window.log.errors.push(v.error && (v.error.code + ': ' + v.error.message)));
window.state = () => ({currentTime: v.currentTime, duration: v.duration, paused: v.paused,
  seeking: v.seeking, readyState: v.readyState, width: v.videoWidth, height: v.videoHeight,
  frames: v.getVideoPlaybackQuality().totalVideoFrames});
</script></body></html>`;

// Range requests answered as a static file server does (206 with Content-Range).
const size = fs.statSync(file).size;
const requests = [];
const server = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, {'Content-Type': 'text/html'}).end(PAGE);
    return;
  }
  if (req.url !== '/video.mp4') {
    res.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
  let [start, end] = [0, size - 1];
  if (range) {
    if (range[1] === '') start = Math.max(0, size - Number(range[2]));
    else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
    }
  }
  requests.push(range ? `${start}-${end}` : 'whole');
  if (start > end || start >= size) {
    res.writeHead(416, {'Content-Range': `bytes */${size}`}).end();
    return;
  }
  const headers = {'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1};
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  fs.createReadStream(file, {start, end}).on('error', () => res.destroy()).pipe(res);
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'flv2mp4-chromium-'));
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
const sleep = ms => new Promise(r => setTimeout(r, ms));
let report;
try {
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', m => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
  await page.goto(`http://127.0.0.1:${server.address().port}/`, {waitUntil: 'load', timeout: 15000});
  const state = () => page.evaluate(() => window.state());
  const started = Date.now();
  const until = async (what, test) => {
    while (Date.now() - started < timeout) {
      const s = await state();
      if (test(s)) return s;
      const errors = await page.evaluate(() => window.log.errors);
      if (errors.length) throw new Error(`media error while waiting for ${what}: ${errors}`);
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await state())}`);
  };
  const playing = await until('1 s of playback', s => s.currentTime >= 1 && !s.paused);
  const seekAt = Date.now();
  await page.evaluate(t => { document.getElementById('v').currentTime = t; }, target);
  const seeked = await until('the seek', s => !s.seeking && s.currentTime >= target - 0.001);
  const seekMs = Date.now() - seekAt;
  const after = await until('playback after the seek', s => s.currentTime >= target + 0.5 && !s.paused);
  const log = await page.evaluate(() => window.log);
  report = {file, size, target, playing, seeked, after, seekMs, events: log.events, errors: log.errors,
    requests: requests.length, rangeRequests: requests.filter(r => r !== 'whole').slice(0, 20),
    console: consoleLines.slice(-10)};
} catch (e) {
  report = {file, error: String(e && e.stack || e), requests};
} finally {
  await browser.close().catch(() => {});
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
console.log(JSON.stringify(report, null, 1));
process.exit(report.error ? 2 : 0);
