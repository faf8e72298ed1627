/** The version handshake: the frontend asks `info` first and says plainly when the
 * server extension is missing, cannot open the lakehouse, or is another version. */
import { ApiError, FRONTEND_VERSION, LakelabClient, ServerInfo } from './api';

export type Handshake =
  | { state: 'ok'; info: ServerInfo }
  | { state: 'missing'; message: string }
  | { state: 'mismatch'; info: ServerInfo; message: string }
  | { state: 'error'; message: string };

/** major.minor must agree: patch releases of either side stay compatible. */
export function compatible(a: string, b: string): boolean {
  const mm = (v: string) => v.split(/[.+-]/).slice(0, 2).join('.');
  return mm(a) === mm(b);
}

/** Ask `info` first, and say plainly when the server part is missing or differs. */
export async function handshake(client: LakelabClient): Promise<Handshake> {
  try {
    const info = await client.info();
    if (!info || typeof info.server_version !== 'string') {
      // something answered JSON at our route, but it is not lakelab's server extension
      throw new ApiError(0, 'bad_response', 'the server info has no server_version', 'info');
    }
    if (info.status !== 'ok') {
      return {
        state: 'error',
        message: `The lakelab server extension cannot open the lakehouse: ${info.problem ?? info.status}`
      };
    }
    if (!compatible(info.server_version, FRONTEND_VERSION)) {
      return {
        state: 'mismatch',
        info,
        message:
          `The lakelab server extension is version ${info.server_version} but this JupyterLab ` +
          `extension is ${FRONTEND_VERSION}. Reinstall lakelab (pip install -U lakelab) ` +
          'and restart JupyterLab.'
      };
    }
    return { state: 'ok', info };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.code === 'bad_response')) {
      return {
        state: 'missing',
        message:
          'The lakelab server extension is not running in this Jupyter server, so the ' +
          'lakehouse cannot be browsed. Check `jupyter server extension list` shows ' +
          'lakelab_server enabled, then restart JupyterLab.'
      };
    }
    return { state: 'error', message: e instanceof ApiError ? e.display : String(e) };
  }
}

/** The catalog's name and the default engine, from the public configuration in `info`
 * (openapi.yaml leaves `config` an open object, so each is checked here). */
export function configSummary(info: ServerInfo): { catalog: string | null; engine: string | null } {
  const config = info.config ?? {};
  const catalog = config.catalog;
  const name = catalog && typeof catalog === 'object' ? (catalog as Record<string, unknown>).name : null;
  return {
    catalog: typeof name === 'string' ? name : null,
    engine: typeof config.engine === 'string' ? config.engine : null
  };
}
