// Shared by the player pages: what play.mjs reads back through `window.harness`.
// A page sets `harness.player`, `harness.version`, `harness.playheadDate` (a function
// giving the playhead's PROGRAM-DATE-TIME as a Date, or null) and pushes to
// `harness.errors` / `harness.gapJumps` / `harness.stalls` from its player's events.
// A page may set `harness.levels`, a function giving the variants its player made,
// `harness.audio`, one giving its audio tracks, and push to `harness.metadata` the timed
// metadata its player fired.
'use strict';
(() => {
  const q = new URLSearchParams(location.search);
  const video = document.getElementById('v');
  const h = {
    src: q.get('src'),
    video,
    player: null,
    version: null,
    latencyNote: null,
    playheadDate: () => null,
    levels: null,
    audio: null,
    errors: [],
    gapJumps: [],
    stalls: [],
    metadata: [],
    events: {waiting: [], seeking: [], stalled: [], playing: [], ratechange: []},
    sizes: [],
  };
  const now = () => Date.now();
  for (const type of Object.keys(h.events)) {
    video.addEventListener(type, () => h.events[type].push([now(), video.currentTime]));
  }
  video.addEventListener('resize', () => h.sizes.push([now(), video.videoWidth, video.videoHeight]));
  video.addEventListener('error', () => h.errors.push({
    source: 'media', fatal: true, code: video.error && video.error.code,
    message: video.error && video.error.message,
  }));
  h.snapshot = () => {
    const pq = video.getVideoPlaybackQuality();
    let date = null;
    try {
      date = h.playheadDate();
    } catch (e) {
      date = null;
    }
    const wall = now();
    const buffered = [];
    for (let i = 0; i < video.buffered.length; i++) buffered.push([video.buffered.start(i), video.buffered.end(i)]);
    return {
      wall,
      currentTime: video.currentTime,
      total: pq.totalVideoFrames,
      dropped: pq.droppedVideoFrames,
      paused: video.paused,
      readyState: video.readyState,
      playbackRate: video.playbackRate,
      width: video.videoWidth,
      height: video.videoHeight,
      buffered,
      latencyMs: date && !isNaN(date.getTime()) ? wall - date.getTime() : null,
    };
  };
  h.play = () => video.play().catch(e => h.errors.push({source: 'play()', fatal: false, message: String(e)}));
  window.harness = h;
})();
