/** The `port` and `host` options every listening transport (HTTP, gRPC) takes, checked the same way. */
import { describeValue } from '../describe.js';
import { ConfigurationError } from '../errors.js';

/** The port to listen on: the option, else `HTTP_PORT` (as the Oparaca platform injects it), else 8080. */
export function checkPort(port: unknown): number {
  if (port === undefined) {
    const raw = process.env.HTTP_PORT;
    if (raw === undefined || raw === '') return 8080;
    const fromEnv = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || fromEnv > 65535) throw new ConfigurationError('port (HTTP_PORT)', `expected a port number, got ${JSON.stringify(raw)}`);
    return fromEnv;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigurationError('port', `expected an integer from 0 to 65535, got ${describeValue(port)}`);
  }
  return port;
}

/** The interface to listen on: only this machine unless told otherwise. */
export function checkHost(host: unknown): string {
  if (host === undefined) return '127.0.0.1';
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) throw new ConfigurationError('host', 'expected a host name or address');
  return host;
}
