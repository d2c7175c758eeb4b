import { BeaconError } from '../errors/catalog.ts';

/**
 * A channel URL taken apart the way Apprise reads them: `scheme://[user[:password]@]host[:port][/path][?query]`.
 * The WHATWG parser cannot be used: service tokens put a colon in the host (Telegram's
 * `123456:AAE…`) and a `#` in the path (Slack's `#alerts`, Matrix's `#room:server`), and both are
 * kept here as written. Parts are percent-decoded.
 */
export interface ChannelUrl {
  /** Lower-case, without `://`. */
  readonly scheme: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** As written (case kept: it is often a token). Empty when the URL has none. */
  readonly host: string;
  readonly port: number | undefined;
  /** The path's non-empty segments. */
  readonly segments: readonly string[];
  readonly params: URLSearchParams;
}

/** A channel URL or template that cannot be used; the message says why, never echoing a secret. */
export function channelInvalid(message: string): BeaconError {
  return new BeaconError('CHANNEL_INVALID', message);
}

const decode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw channelInvalid('the URL has a malformed %-escape');
  }
};

/** Takes a channel URL apart; throws CHANNEL_INVALID when it has no `scheme://`. */
export function parseChannelUrl(url: string): ChannelUrl {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url.trim());
  if (!match) throw channelInvalid('the URL must start with a service scheme such as slack:// or mailto://');
  const scheme = match[1]!.toLowerCase();
  let rest = match[2]!;
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
  }
  let host = hostport;
  let port: number | undefined;
  const portMatch = /^(\[[^\]]*\]|.*?):([0-9]{1,5})$/.exec(hostport);
  if (portMatch) {
    host = portMatch[1]!;
    port = Number(portMatch[2]);
    if (port < 1 || port > 65535) throw channelInvalid(`port ${port} is out of range`);
  }
  return {
    scheme,
    user: user === '' ? undefined : user,
    password: password === '' ? undefined : password,
    host: decode(host),
    port,
    segments: path
      .split('/')
      .filter((s) => s !== '')
      .map(decode),
    params: new URLSearchParams(query),
  };
}

/** `host[:port]` as an origin with the given protocol (brackets kept around IPv6). */
export function origin(secure: boolean, host: string, port: number | undefined): string {
  if (!host) throw channelInvalid('the URL names no host');
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/.test(host))
    throw channelInvalid(`"${host}" is not a host name`);
  return `${secure ? 'https' : 'http'}://${host}${port === undefined ? '' : `:${port}`}`;
}

/** A yes/no query parameter (`yes`, `true`, `1`, `no`…); `fallback` when absent. */
export function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === null || value === '') return fallback;
  if (/^(1|y|yes|true|on)$/i.test(value)) return true;
  if (/^(0|n|no|false|off)$/i.test(value)) return false;
  throw channelInvalid(`${name} must be yes or no`);
}
