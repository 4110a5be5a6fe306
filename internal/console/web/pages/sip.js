import { h, api } from '../lib.js';

export const title = 'SIP';

// SIP trunks, server groups and the dial plan live in tandem's config file
// (they bind sockets and are read at start); this page shows them as the
// running process has them, with the live state of each destination.
export async function render(app) {
  const hl = await api('GET', '/api/health');
  app.append(h('h1', {}, 'SIP trunks, server groups and registrations'),
    h('p', { class: 'muted' }, 'These are set in the configuration file (trunks, server_groups, users, dial_plan) and take effect at restart; the router configuration pages apply at once.'),
    h('h2', {}, 'Trunks'),
    h('table', { id: 'trunks' }, h('tr', {}, h('th', {}, 'Trunk'), h('th', {}, 'Networks')),
      (hl.trunks || []).map(t => h('tr', {}, h('td', {}, t.name), h('td', {}, (t.networks || []).join(', '))))),
    h('h2', {}, 'Server groups'),
    h('table', {}, h('tr', {}, h('th', {}, 'Group'), h('th', {}, 'Destination'), h('th', {}, 'State')),
      (hl.server_groups || []).flatMap(g => g.Destinations.map(d => h('tr', {}, h('td', {}, g.Name), h('td', {}, `${d.Transport}:${d.Address}`), h('td', { class: d.Up ? 'up' : 'down' }, d.Up ? 'up' : 'down'))))),
    h('h2', {}, 'Registrations'),
    h('table', {}, h('tr', {}, h('th', {}, 'Extension'), h('th', {}, 'Contact'), h('th', {}, 'Expires')),
      (hl.registrations || []).map(r => h('tr', {}, h('td', {}, r.Extension), h('td', {}, r.Contact), h('td', {}, new Date(r.Expires).toLocaleTimeString())))));
}
