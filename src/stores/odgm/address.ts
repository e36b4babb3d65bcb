/**
 * The address of an ODGM DataService: `host:port`, as the platform puts it
 * in `ODGM_SERVICE` (`<name>-odgm-svc:8080`), or `odgm://host:port` in a
 * store spec.
 */

/** The variable the platform sets in a function runtime's container. */
export const ODGM_SERVICE_VARIABLE = 'ODGM_SERVICE';

/**
 * Why `address` is not a `host:port` (`undefined` when it is): a host name,
 * an IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535;
 * no scheme, path, query or credentials.
 *
 * @example
 * addressProblem('counter-odgm-svc:8080'); // undefined
 * addressProblem('http://counter-odgm-svc:8080'); // 'give host:port without a scheme ...'
 */
export function addressProblem(address: string): string | undefined {
  if (address === '') return 'it is empty';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return 'give host:port without a scheme, e.g. counter-odgm-svc:8080';
  const port = /:(\d+)$/.exec(address)?.[1];
  if (port === undefined) return /[/?#]/.test(address) ? 'expected host:port with nothing after the port' : 'the port is missing, e.g. counter-odgm-svc:8080';
  if (Number(port) < 1 || Number(port) > 65_535) return `the port must be from 1 to 65535, got ${port}`;
  let parsed: URL;
  try {
    parsed = new URL(`odgm://${address}`);
  } catch {
    return 'expected host:port, e.g. counter-odgm-svc:8080';
  }
  if (parsed.hostname === '') return 'the host is missing';
  if (parsed.username !== '' || parsed.password !== '' || address.includes('@')) return 'it may not carry credentials';
  if (parsed.pathname !== '' || parsed.search !== '' || parsed.hash !== '') return 'expected host:port with nothing after the port';
  return undefined;
}
