// The mediarecorder server's page: publish the microphone and/or camera over
// WHIP, drive the recording API, show its events and the recordings.
// Every URL is relative, so the page works under a base path (-base-path).
'use strict';

const $ = (id) => document.getElementById(id);
const state = { pc: null, stream: null, session: null, rec: null, es: null, audioCtx: null, events: [], live: null, list: [] };

const tokenInput = $('token');
tokenInput.value = localStorage.getItem('mediarecorder.token') || '';
tokenInput.addEventListener('change', () => {
  localStorage.setItem('mediarecorder.token', tokenInput.value);
  refresh();
});

function authHeaders(h = {}) {
  if (tokenInput.value) h['Authorization'] = 'Bearer ' + tokenInput.value;
  return h;
}

// withToken adds the token to URLs that cannot carry headers (EventSource, <video src>).
function withToken(url) {
  return tokenInput.value ? url + '?access_token=' + encodeURIComponent(tokenInput.value) : url;
}

async function api(method, path, body) {
  const opts = { method, headers: authHeaders() };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = (data && data.error) || { name: 'Error', message: res.statusText };
    throw new Error(`${res.status} ${e.name}: ${e.message}`);
  }
  return data;
}

// showError puts an error where the user looks: the banner under the header.
function showError(message) {
  $('error-text').textContent = message;
  $('error').hidden = false;
  log('error: ' + message);
}

function clearError() {
  $('error').hidden = true;
  $('error-text').textContent = '';
}
$('error-close').onclick = clearError;

function log(line) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${line}`;
  $('log').appendChild(li);
  $('log').scrollTop = $('log').scrollHeight;
}

function fmtSize(n) {
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}

function fmtDuration(s) {
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

// fmtElapsed is the recording counter: m:ss, or h:mm:ss.
function fmtElapsed(s) {
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return (h ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
}

// The live panel: a marker, the elapsed time and the size of the running
// recording. The server's duration and size are polled every second; the
// counter runs on between polls.
function liveTick() {
  const rec = state.rec;
  const panel = $('rec-live');
  const overlay = $('preview-rec');
  if (!rec || rec.state === 'inactive' || !state.live) {
    panel.hidden = true;
    overlay.hidden = true;
    return;
  }
  panel.hidden = false;
  overlay.hidden = false;
  overlay.className = 'preview-rec ' + rec.state;
  panel.className = 'rec-live ' + rec.state;
  $('rec-marker').textContent = rec.state === 'paused' ? '❚❚ PAUSED' : '● REC';
  let d = state.live.duration;
  if (rec.state === 'recording') d += (performance.now() - state.live.at) / 1000;
  $('rec-elapsed').textContent = fmtElapsed(d);
  overlay.firstChild.textContent = rec.state === 'paused' ? '❚❚ PAUSED ' : '● REC ';
  $('preview-elapsed').textContent = fmtElapsed(d);
  $('rec-size').textContent = fmtSize(state.live.size);
}

async function livePoll() {
  const rec = state.rec;
  if (!rec || rec.state === 'inactive') return;
  try {
    const r = await api('GET', `api/recordings/${rec.id}`);
    if (state.rec && state.rec.id === r.id) {
      state.live = { duration: r.duration, size: r.size, at: performance.now() };
      if (r.state === 'inactive') state.rec.state = 'inactive';
    }
  } catch (e) { /* the next poll tries again */ }
}
setInterval(liveTick, 250);
setInterval(livePoll, 1000);

function updateButtons() {
  const publishing = !!state.session;
  const st = state.rec ? state.rec.state : 'inactive';
  $('btn-publish').disabled = publishing;
  $('btn-unpublish').disabled = !publishing;
  $('btn-record').disabled = !publishing || st !== 'inactive';
  $('btn-pause').disabled = st !== 'recording';
  $('btn-resume').disabled = st !== 'paused';
  $('btn-stop').disabled = st === 'inactive';
  $('rec-status').textContent = state.rec
    ? `${state.rec.name ? state.rec.name + ' · ' : ''}${state.rec.state} · ${state.rec.mimeType || ''}`
    : 'No recording.';
  liveTick();
}

// meter shows the microphone level with an AnalyserNode.
function meter(stream) {
  if (!stream.getAudioTracks().length) return;
  const ctx = new AudioContext();
  state.audioCtx = ctx;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const draw = () => {
    if (state.audioCtx !== ctx) return;
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    const db = 20 * Math.log10(rms || 1e-8);
    $('level').style.width = Math.max(0, Math.min(100, (db + 60) * 100 / 60)) + '%';
    requestAnimationFrame(draw);
  };
  ctx.resume().catch(() => {});
  draw();
}

function iceGathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') done();
    });
  });
}

async function publish(opts = { audio: $('mic').checked, video: $('cam').checked }) {
  if (!opts.audio && !opts.video) throw new Error('choose a microphone or a camera');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: !!opts.audio, video: !!opts.video });
  state.stream = stream;
  $('preview').srcObject = stream;
  meter(stream);
  let iceServers = [];
  try {
    iceServers = (await api('GET', 'api/config')).iceServers || [];
  } catch (e) {
    stream.getTracks().forEach((t) => t.stop());
    throw e;
  }
  const pc = new RTCPeerConnection({ iceServers });
  state.pc = pc;
  for (const track of stream.getTracks()) {
    pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  }
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc, 3000);
  const res = await fetch('whip', {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/sdp' }),
    body: pc.localDescription.sdp,
  });
  if (res.status !== 201) {
    const text = await res.text();
    unpublish();
    let msg = text;
    try { const e = JSON.parse(text).error; msg = `${e.name}: ${e.message}`; } catch (_) { /* not JSON */ }
    throw new Error(`publishing failed (${res.status}): ${msg}`);
  }
  const location = res.headers.get('Location');
  state.session = location.split('/').pop();
  state.location = location;
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  pc.addEventListener('connectionstatechange', () => {
    $('pub-status').textContent = `Session ${state.session}: ${pc.connectionState}`;
    if (pc.connectionState === 'failed' && state.pc === pc) {
      showError('The connection to the server failed (ICE). A firewall may block UDP; ask for a TURN server or -udp-port with ICE-TCP.');
    }
  });
  $('pub-status').textContent = `Session ${state.session}: ${pc.connectionState}`;
  log(`published session ${state.session}`);
  updateButtons();
  loadTypes(state.session).catch((e) => log('types: ' + e.message));
  return state.session;
}

// loadTypes fills the type menu with what the session's tracks can be
// recorded as (the server knows the codecs each container holds).
async function loadTypes(session) {
  const v = await api('GET', `api/sessions/${session}`);
  if (state.session !== session) return;
  const sel = $('mime');
  const keep = sel.value;
  sel.textContent = '';
  for (const t of v.mimeTypes) {
    const o = document.createElement('option');
    o.value = t;
    o.textContent = t || 'default';
    sel.appendChild(o);
  }
  sel.value = v.mimeTypes.includes(keep) ? keep : '';
  state.types = v.mimeTypes;
  return v.mimeTypes;
}

async function unpublish() {
  if (state.location) {
    fetch(state.location, { method: 'DELETE', headers: authHeaders() }).catch(() => {});
  }
  if (state.pc) state.pc.close();
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  if (state.audioCtx) state.audioCtx.close();
  Object.assign(state, { pc: null, stream: null, session: null, location: null, audioCtx: null });
  $('preview').srcObject = null;
  $('level').style.width = '0';
  $('pub-status').textContent = 'Not publishing.';
  if (state.rec && state.rec.state !== 'inactive') state.rec.state = 'inactive';
  $('mime').innerHTML = '<option value="">default</option>';
  updateButtons();
  setTimeout(refresh, 500);
}

function watch(id) {
  if (state.es) state.es.close();
  const es = new EventSource(withToken(`api/recordings/${id}/events`));
  state.es = es;
  for (const name of ['start', 'dataavailable', 'pause', 'resume', 'stop', 'error']) {
    es.addEventListener(name, (ev) => {
      state.events.push({ name, data: ev.data });
      log(`${name} ${ev.data && ev.data !== '{}' ? ev.data : ''}`);
      if (name === 'error') {
        try { const e = JSON.parse(ev.data); showError(`Recording failed: ${e.name}: ${e.message}`); } catch (_) { showError('Recording failed'); }
      }
      if (state.rec && state.rec.id === id) {
        if (name === 'pause') state.rec.state = 'paused';
        if (name === 'resume' || name === 'start') state.rec.state = 'recording';
        if (name === 'stop') {
          state.rec.state = 'inactive';
          es.close();
          refresh();
        }
        updateButtons();
      }
    });
  }
}

async function record(opts = {}) {
  const body = {
    session: state.session,
    name: opts.name ?? $('name').value.trim(),
    mimeType: opts.mimeType ?? $('mime').value,
    timeslice: opts.timeslice ?? Number($('timeslice').value || 0),
    audioBitsPerSecond: 0,
    videoBitsPerSecond: 0,
  };
  state.events = [];
  state.rec = await api('POST', 'api/recordings', body);
  state.live = { duration: state.rec.duration, size: state.rec.size, at: performance.now() };
  log(`recording ${state.rec.id} created`);
  watch(state.rec.id);
  updateButtons();
  refresh();
  return state.rec;
}

async function action(name) {
  if (!state.rec) throw new Error('no recording');
  state.rec = await api('POST', `api/recordings/${state.rec.id}/${name}`);
  state.live = { duration: state.rec.duration, size: state.rec.size, at: performance.now() };
  updateButtons();
  if (name === 'stop') refresh();
  return state.rec;
}

async function refresh() {
  let data;
  try {
    data = await api('GET', 'api/recordings');
  } catch (e) {
    showError('Cannot list the recordings: ' + e.message);
    return;
  }
  state.list = data.recordings;
  const list = $('list');
  list.textContent = '';
  $('list-empty').hidden = data.recordings.length > 0;
  for (const r of data.recordings) {
    const li = document.createElement('li');
    li.dataset.id = r.id;
    const src = withToken(`api/recordings/${r.id}/media`);
    if (r.state === 'inactive') {
      const player = document.createElement(r.mimeType.startsWith('audio/') ? 'audio' : 'video');
      player.controls = true;
      player.preload = 'metadata';
      player.src = src;
      li.appendChild(player);
    }
    const title = document.createElement('div');
    title.className = 'name';
    title.textContent = r.name || 'untitled';
    if (r.state !== 'inactive') {
      const live = document.createElement('span');
      live.className = 'live';
      live.textContent = r.state === 'paused' ? ' ❚❚ paused' : ' ● recording';
      title.appendChild(live);
    }
    li.appendChild(title);
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `${new Date(r.created).toLocaleString()} · ${fmtDuration(r.duration)} · ${fmtSize(r.size)} · ${r.mimeType}` +
      (r.recovered ? ' · recovered' : '') + (r.error ? ` · ${r.error.name}: ${r.error.message}` : '');
    li.appendChild(meta);
    const actions = document.createElement('div');
    actions.className = 'actions';
    const dl = document.createElement('a');
    dl.href = src;
    dl.download = (r.name || r.id).replace(/[\\/:*?"<>|]+/g, '_');
    dl.textContent = 'Download';
    const del = document.createElement('button');
    del.className = 'small danger';
    del.textContent = 'Delete';
    del.onclick = async () => {
      if (!confirm('Delete this recording?')) return;
      await api('DELETE', `api/recordings/${r.id}`).catch((e) => showError(e.message));
      refresh();
    };
    // Keep: exempt from retention (-retain-for, -retain-size).
    const keepLabel = document.createElement('label');
    keepLabel.className = 'keep';
    keepLabel.title = 'Exempt from automatic deletion';
    const keep = document.createElement('input');
    keep.type = 'checkbox';
    keep.checked = !!r.keep;
    keep.onchange = async () => {
      try {
        await api('PATCH', `api/recordings/${r.id}`, { keep: keep.checked });
      } catch (e) {
        keep.checked = !keep.checked;
        showError(e.message);
      }
    };
    keepLabel.append(keep, ' Keep');
    actions.append(dl, keepLabel, del);
    li.appendChild(actions);
    list.appendChild(li);
  }
}

function guard(fn) {
  return () => {
    clearError();
    return fn().catch((e) => showError(e.message));
  };
}

// While a recording runs, the list refreshes every 2 s, so that its
// duration and size grow.
setInterval(() => {
  if (state.list.some((r) => r.state !== 'inactive')) refresh();
}, 2000);

// Leaving the page while recording asks first.
window.addEventListener('beforeunload', (e) => {
  if (state.rec && state.rec.state !== 'inactive') {
    e.preventDefault();
    e.returnValue = '';
  }
});

$('btn-publish').onclick = guard(() => publish());
$('btn-unpublish').onclick = guard(async () => unpublish());
$('btn-record').onclick = guard(() => record());
$('btn-pause').onclick = guard(() => action('pause'));
$('btn-resume').onclick = guard(() => action('resume'));
$('btn-stop').onclick = guard(() => action('stop'));
$('btn-refresh').onclick = guard(refresh);
window.addEventListener('pagehide', () => { if (state.session) unpublish(); });

// window.app lets scripts (and the tests) drive the page.
window.app = {
  state, publish, unpublish, record, refresh, loadTypes, showError,
  pause: () => action('pause'),
  resume: () => action('resume'),
  stop: () => action('stop'),
};

updateButtons();
refresh();
