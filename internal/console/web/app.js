// The console's shell: who is signed in, the navigation their role allows,
// and the page module for the path. The server has already checked that
// the role may open this path; every API call is checked again.
import { h, api, session, clear, toast } from './lib.js';

const navs = {
  admin: [['/health', 'Health'], ['/live', 'Live'], ['/wallboard', 'Wallboard'], ['/reports', 'Reports'],
    ['/config/agents', 'Agents'], ['/config/skill-groups', 'Skill groups'], ['/config/precision-queues', 'Precision queues'],
    ['/config/dialed-numbers', 'Dialed numbers'], ['/config/scripts', 'Scripts'], ['/config/media', 'Media'], ['/config/sip', 'SIP']],
  supervisor: [['/live', 'Live'], ['/wallboard', 'Wallboard'], ['/team', 'Team'], ['/reports', 'Reports'], ['/health', 'Health']],
  agent: [['/desktop', 'Desktop']],
};

const modules = {
  '/login': './pages/login.js', '/health': './pages/health.js', '/live': './pages/live.js', '/wallboard': './pages/wallboard.js',
  '/reports': './pages/reports.js', '/team': './pages/team.js', '/desktop': './pages/desktop.js',
  '/config/agents': './pages/sections.js', '/config/skill-groups': './pages/sections.js', '/config/precision-queues': './pages/sections.js',
  '/config/dialed-numbers': './pages/sections.js', '/config/scripts': './pages/scripts.js', '/config/media': './pages/media.js',
  '/config/sip': './pages/sip.js',
};

async function main() {
  const path = location.pathname;
  const app = document.getElementById('app');
  if (path !== '/login') {
    const me = await api('GET', '/api/me');
    Object.assign(session, me);
    const nav = document.getElementById('nav');
    for (const [href, label] of navs[me.role] || []) nav.append(h('a', { href, class: href === path ? 'here' : '' }, label));
    document.getElementById('who').append(
      h('span', { id: 'whoami' }, `${me.user} (${me.role})`),
      h('button', { id: 'logout', onclick: async () => { await api('POST', '/api/logout'); location.href = '/login'; } }, 'Sign out'));
  }
  const mod = await import(modules[path] || './pages/login.js');
  clear(app);
  document.title = 'tandem — ' + (mod.title || path.slice(1));
  await mod.render(app, path);
}

main().catch(e => { console.error(e); toast(e.message, true); });
