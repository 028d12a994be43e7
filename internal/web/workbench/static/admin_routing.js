// Admin pages for routing (docs/routing.md): teams, each inbox's routing
// settings with a business-hours editor, and the routing rules. The server
// validates everything; its error messages are shown as they come.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { form, table } from './admin.js';

export const routingPages = { teams, routing, rules };

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 0]; // Monday first; keys are Go's time.Weekday
const DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const POLICIES = ['least_loaded', 'round_robin', 'manual'];
const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'];

function errorBox(id) { return h('p', { class: 'error', role: 'alert', id }); }

async function teams(app, el) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async () => {
    const [list, agents] = await Promise.all([api.get('/api/v1/teams'), api.get('/api/v1/agents')]);
    const err = errorBox('teams-error');
    const save = async (id, patch) => {
      err.textContent = '';
      try { await api.patch('/api/v1/teams/' + id, patch); app.toast(t('saved')); await load(); } catch (e) { err.textContent = e.message; }
    };
    replace(body, err,
      table('teams-table', [t('name'), t('members'), ''], list.data.map((tm) => {
        const name = h('input', { value: tm.name, 'aria-label': t('teamName'), class: 'team-name', maxlength: 100 });
        const members = h('fieldset', { class: 'members' }, h('legend', null, t('membersOf', { name: tm.name })),
          agents.data.filter((a) => a.active || tm.agent_ids.includes(a.id)).map((a) => h('label', { class: 'inline' },
            h('input', { type: 'checkbox', value: String(a.id), checked: tm.agent_ids.includes(a.id), dataset: { agent: String(a.id) } }), a.name)));
        return h('tr', { dataset: { id: String(tm.id) } },
          h('td', null, name, ' ', h('button', { type: 'button', class: 'rename', onclick: () => save(tm.id, { name: name.value }) }, t('rename'))),
          h('td', null, members, h('button', { type: 'button', class: 'save-members', onclick: () =>
            save(tm.id, { agent_ids: [...members.querySelectorAll('input:checked')].map((c) => Number(c.value)) }) }, t('saveMembers'))),
          h('td', null, h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!confirm(t('confirmDelete'))) return;
            try { await api.del('/api/v1/teams/' + tm.id); await load(); } catch (e) { err.textContent = e.message; }
          } }, t('delete'))));
      })),
      h('h2', null, t('newTeam')),
      form('team-form', [['name', t('teamName')]], t('create'), async (fd) => {
        await api.post('/api/v1/teams', { name: fd.get('name') });
        app.toast(t('saved'));
        await load();
      }));
  };
  await load();
}

// routing edits one inbox's routing settings (GET|PUT /inboxes/{id}/routing).
async function routing(app, el) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async (selected) => {
    const [inboxes, teamList] = await Promise.all([api.get('/api/v1/inboxes'), api.get('/api/v1/teams')]);
    const inbox = inboxes.data.find((i) => i.id === selected) || inboxes.data[0];
    if (!inbox) { replace(body, h('p', { class: 'muted' }, t('noInboxes'))); return; }
    const st = await api.get(`/api/v1/inboxes/${inbox.id}/routing`);
    replace(body,
      h('ul', { class: 'pills', id: 'routing-inboxes' }, inboxes.data.map((i) => h('li', null,
        h('button', { type: 'button', class: i === inbox ? 'active' : '', 'aria-pressed': String(i === inbox), onclick: () => load(i.id) }, i.name)))),
      routingEditor(app, inbox, st, teamList.data, () => load(inbox.id)));
  };
  await load();
}

function routingEditor(app, inbox, st, teams, reload) {
  const policy = h('select', { id: 'routing-policy' }, POLICIES.map((p) => h('option', { value: p, selected: st.policy === p }, t('policy_' + p))));
  const capacity = h('input', { id: 'routing-capacity', type: 'number', min: 1, max: 1000, value: String(st.default_capacity) });
  const sticky = h('input', { id: 'routing-sticky', type: 'checkbox', checked: st.sticky });
  const teamBoxes = h('fieldset', { id: 'routing-teams' }, h('legend', null, t('routingTeams')),
    teams.length ? teams.map((tm) => h('label', { class: 'inline' }, h('input', { type: 'checkbox', value: String(tm.id), checked: (st.team_ids || []).includes(tm.id) }), tm.name))
      : h('span', { class: 'muted' }, t('noTeams')));
  const autoResolve = h('input', { id: 'routing-auto-resolve', type: 'number', min: 0, step: 1, value: String(Math.round((st.auto_resolve_after || 0) / 60)) });
  const remind = h('input', { id: 'routing-remind', type: 'number', min: 0, step: 1, value: String(Math.round((st.remind_after || 0) / 60)) });
  const hours = hoursEditor(st.business_hours);
  const err = errorBox('routing-error');
  const submit = async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await app.api.put(`/api/v1/inboxes/${inbox.id}/routing`, {
        policy: policy.value, default_capacity: Number(capacity.value), sticky: sticky.checked,
        team_ids: [...teamBoxes.querySelectorAll('input:checked')].map((c) => Number(c.value)),
        business_hours: hours.value(),
        auto_resolve_after: Number(autoResolve.value) * 60, remind_after: Number(remind.value) * 60,
      });
      app.toast(t('saved'));
      reload();
    } catch (ex) { err.textContent = ex.message; err.scrollIntoView({ block: 'nearest' }); }
  };
  return h('form', { class: 'stack card wide', id: 'routing-form', onsubmit: submit },
    h('label', { for: 'routing-policy' }, t('policy')), policy,
    h('label', { for: 'routing-capacity' }, t('defaultCapacity')), capacity,
    h('label', { class: 'inline' }, sticky, t('sticky')),
    teamBoxes,
    h('h2', null, t('businessHours')), hours.el,
    h('label', { for: 'routing-auto-resolve' }, t('autoResolveAfter')), autoResolve,
    h('label', { for: 'routing-remind' }, t('remindAfter')), remind,
    err,
    h('button', { type: 'submit', class: 'primary', id: 'routing-submit' }, t('save')));
}

const hhmm = (min) => String(Math.floor(min / 60) % 24).padStart(2, '0') + ':' + String(min % 60).padStart(2, '0');
const minutes = (v) => { const [a, b] = String(v).split(':').map(Number); return a * 60 + b; };

// hoursEditor edits a Schedule: a time zone, intervals per weekday (an end
// before the start runs past midnight) and holiday dates. value() returns
// the schedule, or null when "always open" is ticked.
export function hoursEditor(sched) {
  const always = h('input', { id: 'hours-always', type: 'checkbox', checked: !sched });
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zone = h('input', { id: 'hours-zone', list: 'hours-zones', value: (sched && sched.time_zone) || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', autocomplete: 'off' });
  const zoneList = h('datalist', { id: 'hours-zones' }, zones.map((z) => h('option', { value: z })));
  const days = new Map();
  const interval = (day, iv) => {
    const start = h('input', { type: 'time', value: hhmm(iv.start), 'aria-label': t('intervalStart', { day: t('day_' + DAY[day]) }), class: 'iv-start', required: true });
    const end = h('input', { type: 'time', value: hhmm(iv.end), 'aria-label': t('intervalEnd', { day: t('day_' + DAY[day]) }), class: 'iv-end', required: true });
    const overnight = h('span', { class: 'muted overnight' });
    const mark = () => { overnight.textContent = end.value && start.value && minutes(end.value) !== 0 && minutes(end.value) <= minutes(start.value) ? t('overnight') : ''; };
    start.addEventListener('input', mark); end.addEventListener('input', mark); mark();
    const el = h('span', { class: 'interval' }, start, '–', end, overnight,
      h('button', { type: 'button', class: 'x', 'aria-label': t('removeInterval'), onclick: () => el.remove() }, '×'));
    return el;
  };
  const rows = WEEKDAYS.map((d) => {
    const list = h('span', { class: 'intervals', dataset: { day: String(d) } },
      ((sched && sched.weekly && sched.weekly[String(d)]) || []).map((iv) => interval(d, iv)));
    days.set(d, list);
    return h('div', { class: 'weekday', dataset: { day: String(d) } }, h('strong', null, t('day_' + DAY[d])),
      h('span', null, list, h('button', { type: 'button', class: 'add-interval', dataset: { day: String(d) },
        onclick: () => list.append(interval(d, { start: 540, end: 1080 })) }, t('addInterval'))));
  });
  const holidays = h('ul', { id: 'hours-holidays', class: 'holidays' });
  const holiday = (date) => {
    const input = h('input', { type: 'date', value: date, 'aria-label': t('holiday'), required: true });
    const li = h('li', null, input, h('button', { type: 'button', class: 'x', 'aria-label': t('removeHoliday'), onclick: () => li.remove() }, '×'));
    return li;
  };
  for (const d of (sched && sched.holidays) || []) holidays.append(holiday(d));
  const detail = h('div', { id: 'hours-detail' },
    h('label', { for: 'hours-zone' }, t('timeZone')), zone, zoneList,
    h('p', { class: 'muted' }, t('hoursHelp')),
    rows,
    h('h3', null, t('holidays')), holidays,
    h('button', { type: 'button', id: 'add-holiday', onclick: () => { const li = holiday(''); holidays.append(li); li.querySelector('input').focus(); } }, t('addHoliday')));
  const sync = () => { detail.hidden = always.checked; };
  always.addEventListener('change', sync);
  sync();
  return {
    el: h('div', { class: 'hours' }, h('label', { class: 'inline' }, always, t('alwaysOpen')), detail),
    value() {
      if (always.checked) return null;
      const weekly = {};
      for (const [d, list] of days) {
        const ivs = [...list.querySelectorAll('.interval')].map((el) => ({ start: minutes(el.querySelector('.iv-start').value), end: minutes(el.querySelector('.iv-end').value) }));
        if (ivs.length) weekly[String(d)] = ivs;
      }
      return { time_zone: zone.value.trim(), weekly, holidays: [...holidays.querySelectorAll('input')].map((i) => i.value).filter(Boolean) };
    },
  };
}

// rules lists the routing rules in the order they run and edits one.
async function rules(app, el) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async (editing) => {
    const [list, teamList, inboxes, labels] = await Promise.all([api.get('/api/v1/routing/rules'), api.get('/api/v1/teams'),
      api.get('/api/v1/inboxes'), api.get('/api/v1/labels').catch(() => ({ data: [] }))]);
    const ctx = { teams: teamList.data, inboxes: inboxes.data, labels: labels.data };
    const cur = list.data.find((r) => r.id === editing);
    const err = errorBox('rules-error');
    replace(body, err,
      table('rules-table', [t('position'), t('name'), t('ruleEvent'), t('ruleSummary'), t('enabled'), ''], list.data.map((r) => h('tr', { dataset: { id: String(r.id) } },
        h('td', null, String(r.position)), h('td', null, r.name), h('td', null, t('event_' + (r.rule.event || 'conversation_created'))),
        h('td', null, summary(r.rule, ctx)),
        h('td', null, h('input', { type: 'checkbox', checked: r.enabled, 'aria-label': t('enabledRule', { name: r.name }), onchange: async (e) => {
          try { await api.patch('/api/v1/routing/rules/' + r.id, { enabled: e.target.checked }); } catch (ex) { err.textContent = ex.message; e.target.checked = !e.target.checked; }
        } })),
        h('td', null, h('button', { type: 'button', onclick: () => load(r.id) }, t('edit')), ' ',
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!confirm(t('confirmDelete'))) return;
            try { await api.del('/api/v1/routing/rules/' + r.id); await load(); } catch (ex) { err.textContent = ex.message; }
          } }, t('delete')))))),
      h('h2', null, cur ? t('editRule') : t('newRule')),
      ruleEditor(app, cur, ctx, list.data.length, () => load()),
      cur ? h('button', { type: 'button', onclick: () => load() }, t('cancel')) : null);
  };
  await load();
}

function summary(rule, ctx) {
  const conds = (rule.conditions || []).map((c) => `${c.field} ${t('op_' + c.op)} "${c.value}"`).join(rule.match === 'any' ? ' ∨ ' : ' ∧ ');
  const acts = (rule.actions || []).map((a) => a.type === 'set_team' ? t('act_set_team') + ' ' + ((ctx.teams.find((x) => String(x.id) === a.value) || {}).name || a.value) : t('act_' + a.type) + ' ' + a.value).join(', ');
  return (conds || t('always')) + ' → ' + acts;
}

const FIELDS = ['page_url', 'message', 'inbox_id', 'contact.email', 'contact.name', 'contact.phone'];
const OPS = ['contains', 'equals', 'starts_with', 'regex'];
const ACTIONS = ['set_team', 'set_priority', 'add_label'];

function ruleEditor(app, cur, ctx, count, done) {
  const r = (cur && cur.rule) || { event: 'conversation_created', match: 'all', conditions: [], actions: [] };
  const name = h('input', { id: 'rule-name', value: cur ? cur.name : '', required: true, maxlength: 100 });
  const inbox = h('select', { id: 'rule-inbox' }, h('option', { value: '0' }, t('allInboxes')),
    ctx.inboxes.map((i) => h('option', { value: String(i.id), selected: cur && cur.inbox_id === i.id }, i.name)));
  const event = h('select', { id: 'rule-event' }, ['conversation_created', 'message_received'].map((e) => h('option', { value: e, selected: r.event === e }, t('event_' + e))));
  const match = h('select', { id: 'rule-match' }, ['all', 'any'].map((m) => h('option', { value: m, selected: (r.match || 'all') === m }, t('match_' + m))));
  const enabled = h('input', { id: 'rule-enabled', type: 'checkbox', checked: cur ? cur.enabled : true });
  const position = h('input', { id: 'rule-position', type: 'number', min: 0, value: String(cur ? cur.position : count + 1) });
  const fieldList = h('datalist', { id: 'rule-fields' }, FIELDS.map((f) => h('option', { value: f })));
  const conds = h('div', { id: 'rule-conditions' });
  const cond = (c) => {
    const field = h('input', { class: 'cond-field', list: 'rule-fields', value: c.field, 'aria-label': t('condField'), required: true });
    const op = h('select', { class: 'cond-op', 'aria-label': t('condOp') }, OPS.map((o) => h('option', { value: o, selected: c.op === o }, t('op_' + o))));
    const value = h('input', { class: 'cond-value', value: c.value, 'aria-label': t('condValue') });
    const row = h('div', { class: 'cond' }, field, op, value, h('button', { type: 'button', class: 'x', 'aria-label': t('removeCondition'), onclick: () => row.remove() }, '×'));
    return row;
  };
  for (const c of r.conditions || []) conds.append(cond(c));
  const acts = h('div', { id: 'rule-actions' });
  const act = (a) => {
    const type = h('select', { class: 'act-type', 'aria-label': t('actionType') }, ACTIONS.map((x) => h('option', { value: x, selected: a.type === x }, t('act_' + x))));
    const slot = h('span');
    const valueFor = (v) => {
      if (type.value === 'set_team') return h('select', { class: 'act-value', 'aria-label': t('actionValue') }, ctx.teams.map((tm) => h('option', { value: String(tm.id), selected: String(tm.id) === v }, tm.name)));
      if (type.value === 'set_priority') return h('select', { class: 'act-value', 'aria-label': t('actionValue') }, PRIORITIES.map((p) => h('option', { value: p, selected: p === v }, t('priority_' + p))));
      return h('input', { class: 'act-value', value: v, list: 'rule-labels', 'aria-label': t('actionValue') });
    };
    replace(slot, valueFor(a.value || ''));
    type.addEventListener('change', () => replace(slot, valueFor('')));
    const row = h('div', { class: 'act' }, type, slot, h('button', { type: 'button', class: 'x', 'aria-label': t('removeAction'), onclick: () => row.remove() }, '×'));
    return row;
  };
  for (const a of r.actions || []) acts.append(act(a));
  const err = errorBox('rule-error');
  return h('form', { class: 'stack card wide', id: 'rule-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const rule = {
      event: event.value, match: match.value,
      conditions: [...conds.querySelectorAll('.cond')].map((row) => ({ field: row.querySelector('.cond-field').value.trim(), op: row.querySelector('.cond-op').value, value: row.querySelector('.cond-value').value })),
      actions: [...acts.querySelectorAll('.act')].map((row) => ({ type: row.querySelector('.act-type').value, value: row.querySelector('.act-value').value })),
    };
    const req = { name: name.value, inbox_id: Number(inbox.value), enabled: enabled.checked, position: Number(position.value), rule };
    try {
      if (cur) await app.api.patch('/api/v1/routing/rules/' + cur.id, req); else await app.api.post('/api/v1/routing/rules', req);
      app.toast(t('saved'));
      done();
    } catch (ex) { err.textContent = ex.message; }
  } },
  h('label', { for: 'rule-name' }, t('name')), name,
  h('label', { for: 'rule-inbox' }, t('inboxFilter')), inbox,
  h('label', { for: 'rule-event' }, t('ruleEvent')), event,
  h('label', { for: 'rule-match' }, t('ruleMatch')), match,
  h('fieldset', null, h('legend', null, t('conditions')), fieldList, conds,
    h('button', { type: 'button', id: 'add-condition', onclick: () => { const row = cond({ field: 'page_url', op: 'contains', value: '' }); conds.append(row); row.querySelector('input').focus(); } }, t('addCondition'))),
  h('fieldset', null, h('legend', null, t('actions')), h('datalist', { id: 'rule-labels' }, ctx.labels.map((l) => h('option', { value: l.name }))), acts,
    h('button', { type: 'button', id: 'add-action', onclick: () => { const row = act({ type: 'add_label', value: '' }); acts.append(row); row.querySelector('select').focus(); } }, t('addAction'))),
  h('label', { class: 'inline' }, enabled, t('enabled')),
  h('label', { for: 'rule-position' }, t('position')), position,
  err,
  h('button', { type: 'submit', class: 'primary', id: 'rule-submit' }, cur ? t('save') : t('create')));
}
