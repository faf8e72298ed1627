"""Stopping a workspace under a connected notebook kernel: the kernel lets go of Ray first
(a driver whose cluster vanishes exits about a minute later, taking the kernel with it),
keeps its variables and says so at its next cell. A real kernel (jupyter_client) on a real
local Ray workspace."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from workspace_helpers import remember

pytestmark = pytest.mark.ray

KERNEL_LIB = str(Path(__file__).resolve().parents[2] / "kernel_lib")


def execute(km: KernelManager, code: str) -> str:
    """Run `code` in the kernel; its stdout (and any error, which fails the test)."""
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        out: list[str] = []

        def collect(msg) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=300, output_hook=collect)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        client.stop_channels()


@pytest.fixture
def kernel(ws_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(ws_home)
    env["PYTHONPATH"] = os.pathsep.join([KERNEL_LIB, env.get("PYTHONPATH", "")])
    # named as the Jupyter server names a kernel's connection file: kernel-<kernel id>.json
    km = KernelManager(kernel_name="python3", connection_file=str(ws_home / f"kernel-{uuid.uuid4()}.json"))
    km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km.start_kernel(env=env, cwd=str(ws_home))
    yield km
    km.shutdown_kernel(now=True)


def test_stop_disconnects_a_connected_kernel_which_stays_alive(manager, kernel):
    manager.create("kept", cpus=1, workers=0)
    remember(manager, "kept")
    execute(kernel, "import lakelab, ray\nlakelab.workspace('kept').connect()\nx = 41")
    connected = manager.connected("kept")
    assert [c["pid"] for c in connected] == [kernel.provisioner.process.pid]
    assert connected[0]["kernel_id"] == Path(kernel.connection_file).stem.removeprefix("kernel-")

    manager.stop("kept")

    assert manager.connected("kept") == []
    assert kernel.is_alive()
    out = execute(kernel, "print(x + 1, ray.is_initialized())")
    lines = out.splitlines()
    assert lines[0].startswith("lakelab: workspace 'kept' was stopped; this kernel disconnected from it")
    assert lines[1] == "42 False"
    assert execute(kernel, "print('again')") == "again\n"  # the line is shown once
