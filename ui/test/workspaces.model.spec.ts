/**
 * @jest-environment node
 */
import { WorkspaceStatus, connectCode } from '../src/workspaces/api';
import { actions, age, facts, formNumber, memory, stopQuestion, stoppedNote } from '../src/workspaces/model';

/** A record as GET /workspaces/{name} sends it (record plus live `cluster`). */
function body(extra: Partial<WorkspaceStatus> = {}): WorkspaceStatus {
  return {
    name: 'analysis',
    backend: 'local',
    state: 'running',
    owner: 'me',
    cpus_per_node: 1,
    workers: 1,
    address: '127.0.0.1:6379',
    created_at: 1,
    started_at: 2,
    uptime_s: 125,
    idle_s: 30,
    has_dashboard: true,
    message: null,
    cluster: { node_count: 2, cpus: 2, memory_bytes: 3 * 2 ** 30, object_store_bytes: 1, running_tasks: 4 },
    ...extra
  };
}

const value = (w: WorkspaceStatus, label: string) => facts(w).find(f => f.label === label)?.value;

describe('workspace formatting', () => {
  it('shows ages in the largest sensible unit and "-" when unknown', () => {
    expect(age(null)).toBe('-');
    expect(age(42.4)).toBe('42 s');
    expect(age(125)).toBe('2 min');
    expect(age(5400)).toBe('1.5 h');
    expect(age(2 * 86400)).toBe('2.0 d');
  });

  it('shows memory in MiB below one GiB and in GiB above', () => {
    expect(memory(null)).toBe('-');
    expect(memory(512 * 2 ** 20)).toBe('512 MiB');
    expect(memory(3.25 * 2 ** 30)).toBe('3.3 GiB');
  });

  it('shows the live nodes, CPUs, memory, tasks, uptime and idle time of a running workspace', () => {
    const w = body();
    expect(facts(w).map(f => f.label)).toEqual(['Nodes', 'CPUs', 'Memory', 'Tasks', 'Uptime', 'Idle']);
    expect(value(w, 'Nodes')).toBe('2');
    expect(value(w, 'CPUs')).toBe('2');
    expect(value(w, 'Memory')).toBe('3.0 GiB');
    expect(value(w, 'Tasks')).toBe('4');
    expect(value(w, 'Uptime')).toBe('2 min');
    expect(value(w, 'Idle')).toBe('30 s');
  });

  it('shows the requested size of a pending workspace and dashes for a stopped one', () => {
    const pending = body({ state: 'pending', cluster: null, workers: 2, cpus_per_node: 2 });
    expect(value(pending, 'Nodes')).toBe('3 requested');
    expect(value(pending, 'CPUs')).toBe('6 requested');
    const stopped = body({ state: 'stopped', uptime_s: null, idle_s: null, cluster: null });
    expect(facts(stopped).map(f => f.value)).toEqual(['-', '-', '-', '-', '-', '-']);
  });
});

describe('workspace actions', () => {
  it('offers every action on a running local workspace and none while it is busy except connect', () => {
    const w = body();
    expect(actions(w, false)).toEqual({ connect: true, dashboard: true, scale: true, stop: true, start: false });
    expect(actions(w, true)).toEqual({ connect: true, dashboard: false, scale: false, stop: false, start: false });
  });

  it('offers only start for a stopped or failed workspace', () => {
    for (const state of ['stopped', 'failed'] as const) {
      const w = body({ state, cluster: null });
      expect(actions(w, false)).toEqual({ connect: false, dashboard: false, scale: false, stop: false, start: true });
    }
  });

  it('never offers to scale or stop an attached cluster, which is not ours', () => {
    const w = body({ backend: 'attach' });
    expect(actions(w, false)).toMatchObject({ connect: true, scale: false, stop: false, start: false });
  });

  it('hides the dashboard button when the workspace has no dashboard', () => {
    expect(actions(body({ has_dashboard: false }), false).dashboard).toBe(false);
  });

  it('names the connected kernels in the stop question and the note after it', () => {
    expect(stopQuestion('w', []).body).toBe('Every Ray process of w ends. No notebook kernel is connected to it.');
    const two = [
      { pid: 1, kernel_id: 'abcdef0123', notebook: 'a.ipynb' },
      { pid: 2, kernel_id: null, notebook: null }
    ];
    expect(stopQuestion('w', two)).toEqual({
      title: 'Stop workspace w?',
      body:
        'Connected: a.ipynb, process 2. Stopping disconnects them from Ray first; ' +
        'their kernels keep running with their variables.'
    });
    expect(stoppedNote('w', [{ pid: 1, kernel_id: 'abcdef0123', notebook: null }])).toBe(
      'Stopped w; disconnected kernel abcdef01 (kernels still running).'
    );
    expect(stoppedNote('w', [])).toBe('Stopped w.');
  });
});

describe('workspace form and connect code', () => {
  it('reads whole numbers (any range: the server judges it), nothing from an empty field, null otherwise', () => {
    expect(formNumber(' 2 ')).toBe(2);
    expect(formNumber('-1')).toBe(-1);
    expect(formNumber('1.5')).toBeNull();
    expect(formNumber('two')).toBeNull();
    expect(formNumber(' ')).toBeUndefined();
  });

  it('inserts the documented two-line connect code with the name quoted for Python', () => {
    expect(connectCode('analysis')).toBe('import lakelab\nlakelab.workspace("analysis").connect()');
  });
});
