/**
 * The Workspaces panel in jsdom against an in-memory server that answers with the REST
 * shapes of server/lakelab_server/handlers/workspaces.py (the browser test uses the real one).
 */
import { Widget } from '@lumino/widgets';

import { Requester } from '../src/api';
import { WorkspacesClient } from '../src/workspaces/api';
import { WorkspacePanel } from '../src/workspaces/panel';

/** jsdom has no fetch Response: the fields the request function reads are enough. */
function answer(body: unknown, status = 200): Response {
  return {
    ok: status < 400,
    status,
    statusText: status < 400 ? 'OK' : 'Bad Request',
    text: async () => JSON.stringify(body)
  } as unknown as Response;
}

/** Workspaces held in a map; POST validates names like the server does. */
class Server {
  calls: string[] = [];
  records = new Map<string, Record<string, unknown>>();
  connected = [{ pid: 7, kernel_id: 'k1', notebook: 'analysis.ipynb' }];
  get requester(): Requester {
    return async (path, init = {}) => {
      const method = init.method ?? 'GET';
      this.calls.push(`${method} ${path}`);
      const name = decodeURIComponent(path.split('/')[1] ?? '');
      if (path === 'workspaces' && method === 'GET') {
        return answer({ workspaces: [...this.records.values()], limits: { max_workers: 2, max_cpus_per_node: 1 } });
      }
      if (path === 'workspaces' && method === 'POST') {
        const b = JSON.parse(String(init.body));
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(b.name)) {
          return answer(
            { error: { code: 'invalid_input', message: `bad workspace name ${JSON.stringify(b.name)}` } },
            400
          );
        }
        const rec = {
          name: b.name,
          backend: 'local',
          state: 'running',
          workers: b.workers,
          cpus_per_node: b.cpus,
          uptime_s: 1,
          idle_s: 1,
          has_dashboard: true,
          message: null
        };
        this.records.set(b.name, rec);
        return answer(rec, 201);
      }
      if (path.endsWith('/scale')) {
        const workers = JSON.parse(String(init.body)).workers;
        if (typeof workers !== 'number' || workers > 2) {
          return answer(
            {
              error: { code: 'limit', message: `workers must be a number from 0 to 2, not ${JSON.stringify(workers)}` }
            },
            400
          );
        }
        this.records.set(name, { ...this.records.get(name), workers });
        return answer(this.records.get(name));
      }
      if (method === 'DELETE') {
        this.records.delete(name);
        return answer({ name, state: 'stopped', disconnected: this.connected });
      }
      if (method === 'GET' && this.records.has(name)) {
        return answer({
          ...this.records.get(name),
          cluster: { node_count: 1, cpus: 1, memory_bytes: 2 ** 30, running_tasks: 0 },
          connected: this.connected
        });
      }
      return answer({ error: { code: 'not_found', message: `no workspace ${name}` } }, 404);
    };
  }
}

function panelOn(server: Server, inserted: string[] = [], asked: string[] = [], accept = true): WorkspacePanel {
  return new WorkspacePanel({
    client: new WorkspacesClient(server.requester),
    dashboardUrl: name => `/base/lakelab/api/v1/workspaces/${name}/dashboard/`,
    insertConnect: name => (inserted.push(name), 'Untitled.ipynb'),
    confirm: async (title, body) => (asked.push(`${title} ${body}`), accept),
    intervalMs: 5
  });
}

const text = (p: WorkspacePanel, sel: string) => p.node.querySelector(sel)?.textContent ?? '';
const settle = () => new Promise(r => setTimeout(r, 0));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) {
    await settle();
  }
  expect(check()).toBe(true);
}

describe('WorkspacePanel', () => {
  afterEach(() => document.body.replaceChildren());

  it('does not poll while hidden and polls once shown', async () => {
    const server = new Server();
    const panel = panelOn(server);
    expect(panel.shouldPoll()).toBe(false);
    await panel.poll.tick;
    await panel.poll.tick;
    expect(server.calls).toEqual([]);
    Widget.attach(panel, document.body);
    expect(panel.shouldPoll()).toBe(true);
    await until(() => server.calls.includes('GET workspaces'));
    panel.hide();
    expect(panel.shouldPoll()).toBe(false);
    panel.dispose();
  });

  it('creates a workspace from the form and shows its card with live figures', async () => {
    const server = new Server();
    const panel = panelOn(server);
    Widget.attach(panel, document.body);
    (panel.node.querySelector('input[aria-label="workspace name"]') as HTMLInputElement).value = 'analysis';
    panel.node.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => text(panel, '.lakelab-ws-card[data-name="analysis"] .lakelab-ws-state') === 'running');
    expect(server.calls).toContain('POST workspaces');
    const card = panel.node.querySelector('.lakelab-ws-card[data-name="analysis"]')!;
    expect(card.querySelector('.lakelab-ws-fact-nodes dd')!.textContent).toBe('1');
    expect(card.querySelector('.lakelab-ws-fact-memory dd')!.textContent).toBe('1.0 GiB');
    expect(text(panel, '.lakelab-ws-limits')).toBe('Limits: 1 CPU per node, 2 workers');
    panel.dispose();
  });

  it("shows the server's message when the name is refused", async () => {
    const server = new Server();
    const panel = panelOn(server);
    Widget.attach(panel, document.body);
    (panel.node.querySelector('input[aria-label="workspace name"]') as HTMLInputElement).value = '9 bad';
    panel.node.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => text(panel, '.lakelab-ws-error') !== '');
    expect(text(panel, '.lakelab-ws-error')).toBe('bad workspace name "9 bad" (HTTP 400)');
    expect(panel.node.querySelector('.lakelab-ws-card')).toBeNull();
    panel.dispose();
  });

  it('inserts connect code; Stop asks first, naming the connected notebook, then the card goes', async () => {
    const server = new Server();
    server.records.set('w1', {
      name: 'w1',
      backend: 'local',
      state: 'running',
      workers: 0,
      cpus_per_node: 1,
      has_dashboard: true
    });
    const inserted: string[] = [];
    const asked: string[] = [];
    const panel = panelOn(server, inserted, asked);
    Widget.attach(panel, document.body);
    await until(() => text(panel, '.lakelab-ws-card[data-name="w1"] .lakelab-ws-state') === 'running');
    (panel.node.querySelector('.lakelab-ws-connect') as HTMLButtonElement).click();
    expect(inserted).toEqual(['w1']);
    expect(text(panel, '.lakelab-ws-info')).toContain('inserted into Untitled.ipynb');
    (panel.node.querySelector('.lakelab-ws-stop') as HTMLButtonElement).click();
    await until(() => panel.node.querySelector('.lakelab-ws-card') === null);
    expect(asked).toEqual([
      'Stop workspace w1? Connected: analysis.ipynb. Stopping disconnects it from Ray first; its kernel keeps running with its variables.'
    ]);
    expect(server.calls).toContain('DELETE workspaces/w1');
    // no card the server does not have: the panel and `%workspace list` agree
    expect(text(panel, '.lakelab-ws-empty')).toContain('No workspaces yet');
    expect(text(panel, '.lakelab-ws-info')).toBe('Stopped w1; disconnected analysis.ipynb (kernels still running).');
    panel.dispose();
  });

  it('leaves the workspace running when the stop is cancelled', async () => {
    const server = new Server();
    server.records.set('w3', { name: 'w3', backend: 'local', state: 'running', workers: 0, has_dashboard: true });
    const panel = panelOn(server, [], [], false);
    Widget.attach(panel, document.body);
    await until(() => text(panel, '.lakelab-ws-card[data-name="w3"] .lakelab-ws-state') === 'running');
    (panel.node.querySelector('.lakelab-ws-stop') as HTMLButtonElement).click();
    await until(() => server.calls.includes('GET workspaces/w3'));
    await settle();
    expect(server.calls).not.toContain('DELETE workspaces/w3');
    expect(server.records.has('w3')).toBe(true);
    panel.dispose();
  });

  it("scales a running workspace, shows a refused size with the server's message and refuses a fraction", async () => {
    const server = new Server();
    server.records.set('w2', {
      name: 'w2',
      backend: 'local',
      state: 'running',
      workers: 0,
      cpus_per_node: 1,
      has_dashboard: true
    });
    const panel = panelOn(server);
    Widget.attach(panel, document.body);
    await until(() => text(panel, '.lakelab-ws-card[data-name="w2"] .lakelab-ws-state') === 'running');
    const input = panel.node.querySelector('input[aria-label="workers of w2"]') as HTMLInputElement;
    input.value = '2';
    (panel.node.querySelector('.lakelab-ws-scale') as HTMLButtonElement).click();
    await until(() => server.records.get('w2')!.workers === 2);
    expect(server.calls).toContain('POST workspaces/w2/scale');
    const scale = panel.node.querySelector('.lakelab-ws-scale') as HTMLButtonElement;
    await until(() => !scale.disabled && input.value === '2');
    input.value = '5';
    (panel.node.querySelector('.lakelab-ws-scale') as HTMLButtonElement).click();
    await until(() => text(panel, '.lakelab-ws-error') !== '');
    expect(text(panel, '.lakelab-ws-error')).toBe('workers must be a number from 0 to 2, not 5 (HTTP 400)');
    await until(() => !scale.disabled);
    const posts = server.calls.length;
    input.value = '1.5';
    (panel.node.querySelector('.lakelab-ws-scale') as HTMLButtonElement).click();
    // the API takes whole numbers: the panel says so without asking the server
    expect(text(panel, '.lakelab-ws-error')).toBe('workers must be a whole number, not "1.5"');
    expect(server.calls.length).toBe(posts);
    panel.dispose();
  });
});
