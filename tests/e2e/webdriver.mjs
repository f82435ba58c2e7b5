// A minimal W3C WebDriver client (classic protocol over HTTP) and the
// helpers every end-to-end test needs: start tauri-driver, open a session on
// the real Aisle window, find elements, wait, screenshot.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import net from "node:net";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** See `AppSession.screenshot`. */
const REPAINT_WHILE_SCREENSHOT = `
  let pixel = document.getElementById("e2e-repaint");
  if (!pixel) {
    pixel = document.createElement("div");
    pixel.id = "e2e-repaint";
    pixel.setAttribute("aria-hidden", "true");
    pixel.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
    document.body.appendChild(pixel);
  }
  clearInterval(window.__e2eRepaint);
  let ticks = 0;
  window.__e2eRepaint = setInterval(() => {
    pixel.style.background = ticks % 2 ? "transparent" : "rgba(0,0,0,0.01)";
    if (++ticks >= 60) { clearInterval(window.__e2eRepaint); pixel.style.background = "transparent"; }
  }, 50);`;

export const APP = required("AISLE_APP");
const TAURI_DRIVER = required("TAURI_DRIVER");
const TMP = process.env.AISLE_E2E_TMP ?? "/tmp/aisle-e2e";
const SCREENSHOTS = process.env.AISLE_SCREENSHOTS;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through \`cargo xtask test\``);
  return value;
}

/** A new app data directory. The stories use the built-in demo server, as
 *  if chosen on the pairing screen (`config.json`); `{ firstStart: true }`
 *  leaves it empty, so the app shows the pairing screen. */
/** The demo staff's PINs (README "Demo staff"). */
export const DEMO_PINS = { manager: "1234", associate: "4321" };

export function freshDataDir(name, { firstStart = false } = {}) {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, `${name}-`));
  if (!firstStart) writeFileSync(join(dir, "config.json"), JSON.stringify({ mode: "embedded" }));
  return dir;
}

/** The shell command that runs `argv` inside a private D-Bus session with an
 *  unlocked GNOME Keyring (a Secret Service), as the aisle-sync keyring test
 *  does: the keyring's files live in `$HOME`, so two sessions with the same
 *  HOME see the same keyring. */
function inKeyringSession(argv) {
  return [
    "dbus-run-session",
    [
      "--",
      "sh",
      "-c",
      'printf aisle-test | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null && exec "$0" "$@"',
      ...argv,
    ],
  ];
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
  /** `keyringHome`: run the app with an OS keyring (a private D-Bus session
   *  and GNOME Keyring whose files are in that directory). */
  static async start({ dataDir, env = {}, keyringHome }) {
    const port = await freePort();
    const nativePort = await freePort();
    const argv = [TAURI_DRIVER, "--port", String(port), "--native-port", String(nativePort)];
    const [command, args] = keyringHome ? inKeyringSession(argv) : [argv[0], argv.slice(1)];
    const keyringEnv = keyringHome ? { HOME: keyringHome, XDG_RUNTIME_DIR: keyringHome, GNOME_KEYRING_CONTROL: "" } : {};
    const driver = spawn(command, args, {
      env: { ...process.env, AISLE_DATA_DIR: dataDir, ...keyringEnv, ...env },
      stdio: ["ignore", "inherit", "inherit"],
      // Its own process group: closing stops the D-Bus session with it.
      detached: Boolean(keyringHome),
    });
    driver.group = Boolean(keyringHome);
    try {
      await waitForPort(port, 15_000);
      const base = `http://127.0.0.1:${port}`;
      // The app is launched by this request (the app bench times from here).
      const launchedAt = Date.now();
      const created = await request(base, "POST", "/session", {
        capabilities: {
          alwaysMatch: { browserName: "wry", "tauri:options": { application: APP } },
        },
      });
      const session = new AppSession(base, created.sessionId, driver, dataDir);
      session.launchedAt = launchedAt;
      return session;
    } catch (error) {
      try {
        if (driver.group) process.kill(-driver.pid, "SIGKILL");
        else driver.kill("SIGKILL");
      } catch {
        // Already gone.
      }
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

  /** Replaces an input's value, and waits until the page shows it. */
  async fill(css, text) {
    const element = await this.waitForElement(css);
    await this.call("POST", `/element/${element}/clear`, {});
    await this.type(element, text);
    await waitFor(`${css} to read ${text}`, async () => {
      const value = await this.call("GET", `/element/${element}/property/value`);
      return value === text;
    });
    return element;
  }

  /** Waits for an element and clicks it (retrying while it is not yet
   *  interactable, e.g. a button enabled by the next render). */
  async clickOn(css, timeoutMs) {
    return waitFor(
      `clickable ${css}`,
      async () => {
        const element = await this.find(css);
        const enabled = await this.call("GET", `/element/${element}/enabled`);
        if (!enabled) return false;
        await this.click(element);
        return element;
      },
      timeoutMs,
    );
  }

  /** Waits until the element's text matches `pattern`, and returns it. */
  async waitForText(css, pattern, timeoutMs) {
    return waitFor(
      `${css} to match ${pattern}`,
      async () => {
        const text = await this.textContent(await this.find(css));
        return pattern.test(text) ? text : false;
      },
      timeoutMs,
    );
  }

  /** Scrolls an element into view (before a screenshot). */
  async scrollTo(css) {
    await this.call("POST", "/execute/sync", {
      script: "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' });",
      args: [css],
    });
  }

  /** Signs a member of the demo store's staff in on the sign-in screen
   *  (the app shows it once its backend is ready): `associate` (PIN 4321)
   *  or `manager` (1234), by the PIN pad, then waits for the app's screens. */
  async signIn({ as = "associate", timeoutMs = 90_000, screenshot } = {}) {
    const suffix = as === "manager" ? "-M" : "-A";
    const pin = as === "manager" ? DEMO_PINS.manager : DEMO_PINS.associate;
    await this.clickOn(`[data-testid="staff-member"][data-id$="${suffix}"]`, timeoutMs);
    await this.waitForElement('[data-testid="pin-entry"]');
    for (const digit of pin) await this.clickOn(`[data-testid="pin-key-${digit}"]`);
    await this.waitForElement(`[data-testid="pin-dots"][data-length="${pin.length}"]`);
    if (screenshot) await this.screenshot(screenshot);
    await this.clickOn('[data-testid="pin-submit"]');
    await this.waitForElement('[data-testid="staff-badge"]', 30_000);
  }

  /** Chooses an option of a <select>. */
  async select(css, value) {
    await this.clickOn(`${css} option[value="${value}"]`);
  }

  /** The sidecar's URL and admin token, to set up data as another channel
   *  (a web shop) would: the app writes the URL beside its pid; the token is
   *  only in the child's environment, readable by the same user. */
  sidecarApi() {
    const pid = this.sidecarPid();
    if (!pid) throw new Error("the app has not started its sidecar");
    const url = readFileSync(join(this.dataDir, "sidecar.url"), "utf8").trim().replace(/\/$/, "");
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const token = environ.find((v) => v.startsWith("OMS_BOOTSTRAP_ADMIN_TOKEN="))?.split("=")[1];
    if (!token) throw new Error("no admin token in the sidecar's environment");
    return new ServerApi(url, token);
  }

  async click(element) {
    await this.call("POST", `/element/${element}/click`, {});
  }

  /** Saves a PNG of the window into docs/screenshots/ (README shows them). */
  async screenshot(name) {
    if (!SCREENSHOTS) return;
    // WebKitGTK answers a WebDriver screenshot after the view's *next*
    // presentation update. The app renders without accelerated compositing
    // (src-tauri/src/lib.rs), and then a page that does not change never
    // presents again: the request would wait forever. So while it is in
    // flight, one corner pixel of the page repaints every 50 ms (1 % black,
    // invisible in the PNG), and stops by itself after 3 s.
    await this.call("POST", "/execute/sync", { script: REPAINT_WHILE_SCREENSHOT, args: [] });
    const png = await this.call("GET", "/screenshot");
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, `${name}.png`), Buffer.from(png, "base64"));
  }

  /** Pid of the sidecar the app started (it records it in its data dir). */
  sidecarPid() {
    const file = join(this.dataDir, "sidecar.pid");
    return existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : undefined;
  }

  /** Pid of the app process (the sidecar's parent), while both run. */
  appPid() {
    const sidecar = this.sidecarPid();
    if (!sidecar) return undefined;
    try {
      const stat = readFileSync(`/proc/${sidecar}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${ppid}/cmdline`, "utf8").split("\0")[0];
      return cmd === APP ? ppid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Ends the session. WebKitWebDriver stops the app after answering the
   *  DELETE, so wait for the app to go before stopping the driver: stopping
   *  it at once could leave the app running, orphaned, still holding its
   *  sidecar's stdin pipe (and this test's output pipe). An app that outlives
   *  its session anyway is reported and killed. */
  async close() {
    const app = this.appPid();
    try {
      await request(this.base, "DELETE", `/session/${this.id}`);
      if (app) await waitFor("the app to exit with its session", () => !isAlive(app), 5_000).catch(() => undefined);
    } finally {
      const stop = (signal) => {
        try {
          if (this.driver.group) process.kill(-this.driver.pid, signal);
          else this.driver.kill(signal);
        } catch {
          // Already gone.
        }
      };
      stop("SIGTERM");
      await new Promise((resolve) => {
        if (this.driver.exitCode !== null) return resolve();
        this.driver.once("exit", resolve);
        setTimeout(() => { stop("SIGKILL"); resolve(); }, 5_000);
      });
      if (app && isAlive(app)) {
        console.warn(`# the app (pid ${app}) outlived its WebDriver session: killing it`);
        process.kill(app, "SIGKILL");
      }
    }
  }

}

/** A small client of the OMS server's HTTP API. */
export class ServerApi {
  constructor(url, token) {
    this.url = url;
    this.token = token;
  }

  async call(method, path, body, headers = {}) {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }
}

/** Processes holding the write end of `pid`'s standard input pipe (other
 *  than `pid` itself): whoever keeps the sidecar from seeing EOF. */
export function stdinHolders(pid) {
  let pipe;
  try {
    pipe = readlinkSync(`/proc/${pid}/fd/0`);
  } catch {
    return [];
  }
  if (!pipe.startsWith("pipe:")) return [];
  const holders = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === pipe) {
          const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
          holders.push(`${entry} (${cmd}) fd ${fd}`);
        }
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return holders;
}

/** Waits for the sidecar to exit after its app ended. The server first
 *  finishes its graceful shutdown (outbox workers get 5 s), so allow 20 s;
 *  on timeout, name the processes still holding its stdin pipe open. */
export async function waitForSidecarExit(pid, timeoutMs = 20_000) {
  try {
    await waitFor("the sidecar to exit with the app", () => !isAlive(pid), timeoutMs);
  } catch (error) {
    const holders = stdinHolders(pid);
    throw new Error(
      `${error.message}; its stdin pipe is still held open by: ${holders.length ? holders.join("; ") : "nobody (the server did not act on EOF)"}`,
    );
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
