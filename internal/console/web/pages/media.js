// Prompts: upload (checked by the server with the gateway's WAV reader),
// play, delete. They are served at /media/<name> for the VoiceXML gateway.
import { h, api, clear, toast } from '../lib.js';

export const title = 'Media';

export async function render(app) {
  const rows = h('tbody', { id: 'media-list' });
  const file = h('input', { type: 'file', id: 'media-file', accept: '.wav,audio/wav' });
  const err = h('p', { class: 'error', id: 'media-error' });
  const load = async () => {
    const list = await api('GET', '/api/media');
    clear(rows);
    for (const m of list) rows.append(h('tr', { 'data-name': m.name },
      h('td', {}, m.name), h('td', {}, m.error ? h('span', { class: 'error' }, m.error) : m.format),
      h('td', {}, (m.duration_ms / 1000).toFixed(1) + ' s'), h('td', {}, Math.round(m.size / 1024) + ' KB'),
      h('td', {}, h('audio', { controls: true, preload: 'none', src: '/media/' + encodeURIComponent(m.name) })),
      h('td', {}, h('button', { class: 'danger', onclick: async () => { await api('DELETE', '/api/media/' + encodeURIComponent(m.name)); load(); } }, 'Delete'))));
  };
  const upload = async () => {
    err.textContent = '';
    if (!file.files.length) { err.textContent = 'Choose a WAV file first.'; return; }
    const fd = new FormData();
    fd.append('file', file.files[0]);
    try {
      const m = await api('POST', '/api/media', fd);
      toast(`${m.name} uploaded (${m.format})`);
      file.value = '';
      await load();
    } catch (e) { err.textContent = e.message; }
  };
  app.append(h('h1', {}, 'Media'),
    h('div', { class: 'card' }, h('div', { class: 'row' }, file, h('button', { class: 'primary', id: 'media-upload', onclick: upload }, 'Upload')),
      h('p', { class: 'muted' }, 'WAV: µ-law, A-law or PCM, any rate (played at 8 kHz). The IVR finds prompts at /media/<name> when ivr.media_base points here.'), err),
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Format', 'Length', 'Size', 'Play', ''].map(x => h('th', {}, x)))), rows));
  await load();
}
