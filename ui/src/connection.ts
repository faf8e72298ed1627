/** The REST transport inside JupyterLab: Jupyter's auth, XSRF and base URL handling. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_PREFIX, LakelabClient, Requester } from './api';

export function serverRequester(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): Requester {
  return (path, init = {}) =>
    ServerConnection.makeRequest(URLExt.join(settings.baseUrl, API_PREFIX, path), init, settings);
}

/** A client for the lakelab API of the Jupyter server this page came from. */
export function serverClient(settings?: ServerConnection.ISettings): LakelabClient {
  return new LakelabClient(serverRequester(settings));
}
