import { BlockList, isIP } from 'node:net';
import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from './common.js';
import { eventTypes, PING } from './events.js';

// Text PostgreSQL can store exactly as sent: no NUL character, no lone UTF-16 surrogate.
const storable = '[^\\u0000\\uD800-\\uDFFF]';

export const ALL_EVENTS = '*';
export const webhookEventChoices = [...eventTypes, ALL_EVENTS] as const;

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  pattern: '^[^\\s\\u0000]+$',
  description:
    'http or https, no credentials; the host must resolve to public addresses (loopback, link-local and private ones are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)',
  examples: ['https://example.com/hooks/seat-hold'],
});
const Events = Type.Array(Type.Enum(webhookEventChoices), {
  minItems: 1,
  maxItems: webhookEventChoices.length,
  uniqueItems: true,
  description: `Event types to receive, or ["${ALL_EVENTS}"] for all of them (pings are always sent)`,
});
const WebhookDescription = Type.String({ maxLength: 500, pattern: `^${storable}*$` });

export const NewWebhook = Type.Object(
  { url: Url, events: Events, description: Type.Optional(WebhookDescription) },
  { additionalProperties: false },
);
export type NewWebhook = Static<typeof NewWebhook>;

export const WebhookChanges = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    enabled: Type.Optional(
      Type.Boolean({ description: 'A disabled endpoint is sent nothing; its pending deliveries fail' }),
    ),
    description: Type.Optional(Type.Union([WebhookDescription, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type WebhookChanges = Static<typeof WebhookChanges>;

export const WebhookEndpoint = Type.Object({
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  created_at: DateTime(),
  updated_at: DateTime(),
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhook = Type.Object(
  {
    ...WebhookEndpoint.properties,
    secret: Type.String({
      description:
        'The signing secret (whsec_…), shown only in this answer: keep it to verify webhook-signature (Standard Webhooks)',
    }),
  },
  { description: 'The endpoint and its signing secret, shown once' },
);
export type CreatedWebhook = Static<typeof CreatedWebhook>;

export const deliveryStates = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof deliveryStates)[number];

export const WebhookAttempt = Type.Object({
  attempted_at: DateTime(),
  status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'null when no answer came' }),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the attempt failed (timeout, refused, non-2xx with the start of the body…); null on success',
  }),
});
export type WebhookAttempt = Static<typeof WebhookAttempt>;

export const WebhookDelivery = Type.Object({
  id: Uuid,
  event_id: { ...Uuid, description: 'The event id, sent as webhook-id' },
  event_type: Type.Enum([...eventTypes, PING]),
  state: Type.Enum(deliveryStates),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([DateTime(), Type.Null()], { description: 'While pending' }),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  created_at: DateTime(),
  delivered_at: Type.Union([DateTime(), Type.Null()]),
  failed_at: Type.Union([DateTime(), Type.Null()]),
  attempt_log: Type.Array(WebhookAttempt, { description: 'Every attempt, oldest first' }),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

// Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: this host,
// private networks, link-local, multicast and reserved or special-purpose ranges (IANA
// special-purpose registries). IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4
// address they carry.
const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, and IPv4-compatible (::a.b.c.d, deprecated)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['2001::', 32], // Teredo: tunnels to an address it hides
  ['2002::', 16], // 6to4: likewise
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address carries. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether a webhook may connect to this IP address (when private networks are not allowed). */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !refused.check(bare, 'ipv4');
  if (family === 6) {
    const ipv4 = embeddedIpv4(bare);
    if (ipv4 !== undefined) return !refused.check(ipv4, 'ipv4');
    return !refused.check(bare, 'ipv6');
  }
  return false;
}

/** Why a webhook URL is refused by its form alone (before its host is resolved), or undefined. */
export function urlFormProblem(text: string): { problem: string } | { url: URL } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must use http or https' };
  if (url.username !== '' || url.password !== '') return { problem: 'must not carry credentials' };
  if (url.hostname === '') return { problem: 'has no host' };
  return { url };
}

/** The host of a URL as node:net takes it: IPv6 literals without their brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}
