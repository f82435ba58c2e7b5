// A minimal W3C WebDriver client (classic protocol over HTTP) and the
// helpers every end-to-end test needs: start tauri-driver, open a session on
// the real Aisle window, find elements, wait, screenshot.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import net from "node:net";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export const APP = required("AISLE_APP");
const TAURI_DRIVER = required("TAURI_DRIVER");
const TMP = process.env.AISLE_E2E_TMP ?? "/tmp/aisle-e2e";
const SCREENSHOTS = process.env.AISLE_SCREENSHOTS;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through \`cargo xtask test\``);
  return value;
}

export function freshDataDir(name) {
  mkdirSync(TMP, { recursive: true });
  return mkdtempSync(join(TMP, `${name}-`));
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or the timeout passes. */
export async function waitFor(what, probe, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** Whether a process is alive (a zombie counts as dead: it no longer runs). */
export function isAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** A WebDriver session on a freshly started Aisle app. */
export class AppSession {
  static async start({ dataDir, env = {} }) {
    const port = await freePort();
    const nativePort = await freePort();
    const driver = spawn(TAURI_DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
      env: { ...process.env, AISLE_DATA_DIR: dataDir, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    try {
      await waitForPort(port, 15_000);
      const base = `http://127.0.0.1:${port}`;
      const created = await request(base, "POST", "/session", {
        capabilities: {
          alwaysMatch: { browserName: "wry", "tauri:options": { application: APP } },
        },
      });
      return new AppSession(base, created.sessionId, driver, dataDir);
    } catch (error) {
      driver.kill("SIGKILL");
      throw error;
    }
  }

  constructor(base, id, driver, dataDir) {
    this.base = base;
    this.id = id;
    this.driver = driver;
    this.dataDir = dataDir;
  }

  call(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async find(css) {
    const found = await this.call("POST", "/element", { using: "css selector", value: css });
    return found[ELEMENT];
  }

  async findAll(css) {
    const found = await this.call("POST", "/elements", { using: "css selector", value: css });
    return found.map((e) => e[ELEMENT]);
  }

  /** Waits until an element matching `css` exists, and returns it. */
  waitForElement(css, timeoutMs) {
    return waitFor(`element ${css}`, () => this.find(css), timeoutMs);
  }

  async text(element) {
    return this.call("GET", `/element/${element}/text`);
  }

  /** All the text inside an element (WebKit's visible-text algorithm skips
   *  ellipsised spans, so assertions use the DOM's textContent). */
  async textContent(element) {
    return this.call("GET", `/element/${element}/property/textContent`);
  }

  async type(element, text) {
    await this.call("POST", `/element/${element}/value`, { text });
  }

  async click(element) {
    await this.call("POST", `/element/${element}/click`, {});
  }

  /** Saves a PNG of the window into docs/screenshots/ (README shows them). */
  async screenshot(name) {
    if (!SCREENSHOTS) return;
    const png = await this.call("GET", "/screenshot");
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, `${name}.png`), Buffer.from(png, "base64"));
  }

  /** Pid of the sidecar the app started (it records it in its data dir). */
  sidecarPid() {
    const file = join(this.dataDir, "sidecar.pid");
    return existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : undefined;
  }

  async close() {
    try {
      await request(this.base, "DELETE", `/session/${this.id}`);
    } finally {
      this.driver.kill("SIGTERM");
      await new Promise((resolve) => {
        if (this.driver.exitCode !== null) return resolve();
        this.driver.once("exit", resolve);
        setTimeout(() => { this.driver.kill("SIGKILL"); resolve(); }, 5_000);
      });
    }
  }
}

async function request(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A wedged driver must fail the test, not hang the suite.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  if (!response.ok) {
    const error = json.value ?? {};
    throw new Error(`${method} ${path}: ${error.error ?? response.status}: ${error.message ?? text.slice(0, 300)}`);
  }
  return json.value;
}
