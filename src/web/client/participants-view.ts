import type { Participant } from './call-model';
import { describeQuality, type LinkQuality } from './quality';

/** What a participant row needs besides the participant. */
export interface RowContext {
  name: string;
  isSelf: boolean;
  isHost: boolean;
  sharing: boolean;
  /** Show host actions (this page may use host controls and the row is someone else). */
  hostActions: boolean;
  /** The participant's connection as measured from this page (null: not measured yet). */
  quality: LinkQuality | null;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function badge(text: string, kind: string): HTMLElement {
  return el('span', `badge badge-${kind}`, text);
}

/**
 * Lights a connection-quality indicator (three bars) and sets its data attributes (`data-quality`,
 * `data-loss`, `data-jitter-ms`, `data-rtt-ms`, `data-packets`: the figures it was graded from).
 * In place, so a tooltip being read stays open.
 */
export function paintQuality(node: HTMLElement, q: LinkQuality | null): void {
  node.dataset.quality = q?.level ?? 'unknown';
  const figures: [string, number | null | undefined, number][] = [
    ['loss', q?.lossPct, 2],
    ['jitterMs', q?.jitterMs, 1],
    ['rttMs', q?.rttMs, 1],
    ['packets', q?.packets, 0],
  ];
  for (const [name, value, digits] of figures) {
    if (typeof value === 'number') node.dataset[name] = value.toFixed(digits);
    else delete node.dataset[name];
  }
  const text = q ? describeQuality(q) : 'Connection: not measured yet';
  if (node.title !== text) {
    node.title = text;
    node.setAttribute('aria-label', text);
  }
}

function qualityIndicator(q: LinkQuality | null): HTMLElement {
  const node = el('span', 'quality');
  node.setAttribute('role', 'img');
  for (let i = 0; i < 3; i++) node.append(el('i', ''));
  paintQuality(node, q);
  return node;
}

function actionButton(label: string, action: string, p: Participant): HTMLButtonElement {
  const button = el('button', '', label);
  button.type = 'button';
  button.dataset.action = action;
  button.dataset.session = p.sessionId;
  button.dataset.user = p.userId;
  return button;
}

/**
 * One participant row. The data attributes (`data-session`, `data-muted`, `data-speaking`,
 * `data-hand`, `data-screen`, `data-host`) carry the state for styling and for tests.
 */
export function participantRow(p: Participant, ctx: RowContext): HTMLLIElement {
  const li = el('li', 'participant');
  li.dataset.session = p.sessionId;
  li.dataset.user = p.userId;
  li.dataset.muted = String(!p.unmuted);
  li.dataset.speaking = String(p.speaking);
  li.dataset.hand = String(p.raisedHand > 0);
  li.dataset.screen = String(ctx.sharing);
  li.dataset.host = String(ctx.isHost);

  li.append(el('span', 'avatar', (ctx.name.trim()[0] ?? '?').toUpperCase()));
  const who = el('span', 'who', ctx.name);
  if (ctx.isSelf) who.append(el('span', 'you', '(you)'));
  if (ctx.isHost) who.append(el('span', 'tag tag-host', 'host'));
  li.append(who);

  const status = el('span', 'status');
  if (p.reaction) status.append(el('span', 'reaction', p.reaction.literal));
  if (p.raisedHand > 0) status.append(badge('hand raised', 'hand'));
  if (ctx.sharing) status.append(badge('screen', 'screen'));
  if (p.speaking) status.append(badge('speaking', 'speaking'));
  status.append(p.unmuted ? badge('mic on', 'unmuted') : badge('muted', 'muted'));
  status.append(qualityIndicator(ctx.quality));
  li.append(status);

  if (ctx.hostActions) {
    const actions = el('span', 'host-actions');
    if (p.unmuted) actions.append(actionButton('Mute', 'mute', p));
    if (p.raisedHand > 0) actions.append(actionButton('Lower hand', 'lower-hand', p));
    if (ctx.sharing) actions.append(actionButton('Stop screen', 'screen-off', p));
    if (!ctx.isHost) actions.append(actionButton('Make host', 'make', p));
    actions.append(actionButton('Remove', 'remove', p));
    li.append(actions);
  }
  return li;
}
