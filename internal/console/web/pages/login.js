import { h, api, session } from '../lib.js';

export const title = 'Sign in';

export function render(app) {
  const err = h('p', { class: 'error', id: 'login-error' });
  const user = h('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
  const pw = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const ext = h('input', { id: 'extension', name: 'extension', inputmode: 'numeric', placeholder: 'agents: your phone' });
  const form = h('form', { class: 'card login', id: 'login' },
    h('h1', {}, 'Sign in to tandem'),
    h('label', { for: 'user' }, 'User or agent id'), user,
    h('label', { for: 'password' }, 'Password'), pw,
    h('label', { for: 'extension' }, 'Extension (agents, optional)'), ext,
    h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit', id: 'signin' }, 'Sign in')), err);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const me = await api('POST', '/api/login', { user: user.value, password: pw.value, extension: ext.value }, { noRedirect: true });
      Object.assign(session, me);
      const next = new URLSearchParams(location.search).get('next');
      location.href = next && next.startsWith('/') && !next.startsWith('//') ? next : me.home;
    } catch (e) {
      err.textContent = e.message;
    }
  });
  app.append(form);
  user.focus();
}
