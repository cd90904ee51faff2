/** Connection files for fresh kernels: free TCP ports on localhost and a random HMAC key. */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { newKey } from "./protocol";

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** Asks the OS for `count` distinct free ports (all held open together so none repeats). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function newConnectionInfo(kernelName: string): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell!,
    iopub_port: iopub!,
    stdin_port: stdin!,
    control_port: control!,
    hb_port: hb!,
    key: newKey(),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
}

/** Writes the connection file readable only by this user (it holds the signing key). */
export function writeConnectionFile(dir: string, info: ConnectionInfo): string {
  const file = path.join(dir, `kernel-${process.pid}-${info.shell_port}.json`);
  fs.writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  return file;
}

export function address(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}
