import { h, api, clear, poll, age } from '../lib.js';

export const title = 'Health';

export function render(app) {
  const box = h('div', { id: 'health' });
  app.append(h('h1', {}, 'Health'), box);
  poll(async () => {
    const hl = await api('GET', '/api/health');
    clear(box).append(
      h('div', { class: 'grid' },
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Active calls'), h('div', { class: 'state-big', id: 'active-calls' }, hl.active_calls)),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Gateway sessions'), h('div', { class: 'state-big' }, hl.gateway_sessions)),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Registered phones'), h('div', { class: 'state-big' }, (hl.registrations || []).length)),
        h('div', { class: 'card', id: 'version' }, h('div', { class: 'muted' }, 'Version'),
          h('div', {}, `tandem ${hl.version || 'dev'} · ${hl.go_version || ''}`),
          hl.revision ? h('div', { class: 'muted' }, 'revision ' + hl.revision.slice(0, 12)) : null,
          h('div', { class: 'muted' }, `router config v${hl.config_version || '—'} · up ${age(hl.started)}`))),
      h('h2', {}, 'Roles'),
      h('table', { id: 'roles' }, h('tr', {}, h('th', {}, 'Role'), h('th', {}, 'State'), h('th', {}, 'Address'), h('th', {}, 'Detail')),
        (hl.roles || []).map(r => h('tr', {}, h('td', {}, r.name), h('td', { class: r.up ? 'up' : 'down' }, r.up ? 'up' : 'off'), h('td', {}, r.addr || ''), h('td', {}, r.detail || '')))),
      h('h2', {}, 'Server groups (OPTIONS heartbeats)'),
      h('table', { id: 'server-groups' }, h('tr', {}, h('th', {}, 'Group'), h('th', {}, 'Destination'), h('th', {}, 'Priority / weight'), h('th', {}, 'State')),
        (hl.server_groups || []).flatMap(g => g.Destinations.map(d => h('tr', {},
          h('td', {}, g.Name + (g.Heartbeat ? '' : ' (no heartbeat)')), h('td', {}, `${d.Transport}:${d.Address}`), h('td', {}, `${d.Priority} / ${d.Weight}`),
          h('td', { class: d.Up ? 'up' : 'down' }, d.Up ? 'up' : 'down since ' + new Date(d.DownSince).toLocaleTimeString()))))),
      h('h2', {}, 'Registered phones'),
      h('table', { id: 'registrations' }, h('tr', {}, h('th', {}, 'Extension'), h('th', {}, 'Contact'), h('th', {}, 'From'), h('th', {}, 'Expires')),
        (hl.registrations || []).map(r => h('tr', {}, h('td', {}, r.Extension), h('td', {}, r.Contact), h('td', {}, `${r.Transport} ${r.Source}`), h('td', {}, new Date(r.Expires).toLocaleTimeString())))));
  }, 3000);
}
