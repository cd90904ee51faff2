/**
 * The jupyterhub_config.py of the classroom-server test: everything on 127.0.0.1, the dummy authenticator (any
 * password, only the listed learners), SimpleLocalProcessSpawner (one local jupyterhub-singleuser process per
 * learner, home folders under the test's folder, no system users needed), a service token for the test.
 *
 * A school's real server differs in three lines (a real authenticator, a spawner that runs each learner as their
 * own user or pod, the public address); the course-specific part is the same: see the README's
 * "Teaching on a shared server".
 */
import * as path from "path";

export interface HubConfigOptions {
  /** Folder of the hub's database, cookie secret and learners' homes. */
  dir: string;
  checkout: string;
  venvBin: string;
  proxyCommand: string;
  port: number;
  hubPort: number;
  proxyApiPort: number;
  learners: string[];
  serviceToken: string;
  /** Extra environment for each learner's server (the shared data cache...). */
  environment: Record<string, string>;
  asRoot: boolean;
}

/** A Python string literal (JSON strings are valid Python for the characters we use). */
const py = (s: string) => JSON.stringify(s);

/** Python that fills a learner's course folder on first start: the lesson notebooks, links to the library and packages. */
function prepareLearnerHook(checkout: string): string {
  return `
import os, shutil
from pathlib import Path

COURSE = Path(${py(checkout)})

def prepare_learner(spawner):
    """Each learner works on their own copies, in their own home; the library and packages stay shared."""
    folder = Path(spawner.home_dir) / "cnn-lessons"
    folder.mkdir(parents=True, exist_ok=True)
    for nb in sorted((COURSE / "notebooks").glob("*.ipynb")):
        if not (folder / nb.name).exists():
            shutil.copyfile(nb, folder / nb.name)
    # The notebooks import ./lib/... and npm packages; TypeScript resolves both from the notebook's folder.
    for shared in ("lib", "node_modules"):
        if not (folder / shared).exists():
            os.symlink(COURSE / shared, folder / shared)

c.Spawner.pre_spawn_hook = prepare_learner
`;
}

/** Where the Hub writes the proxy's process id. */
export function proxyPidFile(dir: string): string {
  return path.join(dir, "proxy.pid");
}

export function hubConfig(o: HubConfigOptions): string {
  const env = Object.entries(o.environment).map(([k, v]) => `    ${py(k)}: ${py(v)},`).join("\n");
  return `# Written by scripts/test-hub.ts for one test run.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = ${o.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = ${o.hubPort}
c.ConfigurableHTTPProxy.command = [${py(o.proxyCommand)}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${o.proxyApiPort}"
# The proxy runs in a session of its own (it may outlive the Hub): the check finds it by this file.
c.ConfigurableHTTPProxy.pid_file = ${py(proxyPidFile(o.dir))}
c.JupyterHub.db_url = "sqlite:///" + ${py(path.join(o.dir, "jupyterhub.sqlite"))}
c.JupyterHub.cookie_secret_file = ${py(path.join(o.dir, "jupyterhub_cookie_secret"))}
c.JupyterHub.pid_file = ${py(path.join(o.dir, "jupyterhub.pid"))}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(${JSON.stringify(o.learners)})

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = ${py(path.join(o.dir, "home", "{username}"))}
c.Spawner.cmd = [${py(path.join(o.venvBin, "jupyterhub-singleuser"))}]
c.Spawner.args = [${o.asRoot ? '"--allow-root"' : ""}]
c.Spawner.notebook_dir = "~/cnn-lessons"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {
${env}
}
${prepareLearnerHook(o.checkout)}
c.JupyterHub.services = [{"name": "course-check", "api_token": ${py(o.serviceToken)}}]
c.JupyterHub.load_roles = [{
    "name": "course-check",
    "scopes": ["admin:users", "admin:servers", "admin:server_state", "list:users", "read:users"],
    "services": ["course-check"],
}]
`;
}
