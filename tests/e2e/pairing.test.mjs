// Story: a store's new till is set up against the retailer's central OMS
// server. An admin creates a pairing code for the store; the associate opens
// Aisle for the first time (no configuration), sees the pairing screen,
// enters the server's address and the code, and lands on the search screen
// of that store, where a search finds a product. At the next start the app
// goes straight to the store: the pairing is kept (token in the OS keyring,
// here a private GNOME Keyring; URL and store in config.json, no token).
// When the server no longer knows the device (its data reset), the pairing
// screen comes back and says so, and the device pairs again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { APP, AppSession, ServerApi, freshDataDir, waitFor } from "./webdriver.mjs";

/** A real oms-server (the demo retailer, small) on a free loopback port,
 *  with a bootstrap admin token; it exits when this test's pipe closes. */
async function startServer(dir, listen = "127.0.0.1:0") {
  const token = randomBytes(32).toString("hex");
  const child = spawn(
    join(dirname(APP), "oms-server"),
    ["--listen", listen, "--database", join(dir, "oms.sqlite"), "--demo", "small", "--exit-on-stdin-eof"],
    { env: { ...process.env, OMS_BOOTSTRAP_ADMIN_TOKEN: token }, stdio: ["pipe", "pipe", "inherit"] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("oms-server did not start in 120 s")), 120_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n").find((l) => l.startsWith("OMS_SERVER_READY "));
      if (line) {
        clearTimeout(timer);
        resolve(line.split(" ")[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`oms-server exited (${code}) before it was ready`)));
  });
  child.stdout.resume();
  return { child, api: new ServerApi(url, token), url };
}

/** A screenshot once the window has painted what the DOM shows (WebKit
 *  paints a frame or two after a change; its screenshot shows the last
 *  painted frame). */
async function shot(session, name) {
  await session.call("POST", "/execute/async", {
    script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
    args: [],
  });
  await session.screenshot(name);
}

test("pairing a new device with a central OMS server, kept across a restart", async () => {
  const serverDir = freshDataDir("pairing-server", { firstStart: true });
  let server = await startServer(serverDir);
  const keyringHome = mkdtempSync(join(serverDir, "home-"));
  const dataDir = freshDataDir("pairing", { firstStart: true });
  let session;
  try {
    const locations = await server.api.call("GET", "/v1/locations");
    const store = locations.items.find((l) => l.kind === "store");
    assert.ok(store, "the demo network has a store");
    const code = await server.api.call("POST", "/v1/pairing-codes", { store: store.id, role: "store_manager" });

    session = await AppSession.start({ dataDir, keyringHome, env: { AISLE_NO_OPEN: "1" } });
    // First start: the pairing screen, not the app.
    await session.waitForElement('[data-testid="pairing"]', 60_000);
    assert.equal((await session.findAll('[data-testid="search-input"]')).length, 0);
    await shot(session, "pairing");

    // Plain http to another computer is refused, with the reason.
    await session.type(await session.find('[data-testid="pairing-url"]'), "http://oms.example.com");
    await session.type(await session.find('[data-testid="pairing-code"]'), code.code);
    await session.click(await session.find('[data-testid="pairing-submit"]'));
    const refused = await session.waitForElement('[data-testid="pairing-error"]');
    assert.match(await session.text(refused), /https/);

    const urlInput = await session.find('[data-testid="pairing-url"]');
    await session.call("POST", `/element/${urlInput}/clear`, {});
    await session.type(urlInput, server.url);
    await session.click(await session.find('[data-testid="pairing-submit"]'));

    // Paired: the store's staff sign in, then the search screen of that store.
    await session.signIn();
    await waitFor(
      "the store's name in the top bar",
      async () => (await session.text(await session.find('[data-testid="store-name"]'))) === store.name,
      60_000,
    );
    const input = await session.waitForElement('[data-testid="search-input"]');
    await session.type(input, "oak table lamp");
    await waitFor(
      "search results from the central server's catalogue",
      async () => (await session.findAll('[data-testid="search-result"]')).length > 0,
      60_000,
    );

    // What was kept: the URL and store, never the token.
    const config = JSON.parse(readFileSync(join(dataDir, "config.json"), "utf8"));
    assert.equal(config.server_url, server.url.replace(/\/$/, ""));
    assert.equal(config.store, store.id);
    assert.ok(!JSON.stringify(config).includes("token"));
    assert.ok(!existsSync(join(dataDir, "sidecar.pid")), "no sidecar in central mode");
    await session.close();
    session = undefined;

    // Next start: straight to the app (its staff sign-in), with the kept pairing.
    session = await AppSession.start({ dataDir, keyringHome, env: { AISLE_NO_OPEN: "1" } });
    await session.signIn();
    await waitFor(
      "the store's name after a restart",
      async () => (await session.text(await session.find('[data-testid="store-name"]'))) === store.name,
      60_000,
    );
    assert.equal((await session.findAll('[data-testid="pairing"]')).length, 0, "no pairing screen at the next start");
    await session.close();
    session = undefined;

    // The server is down when the till starts: the app says so (not the
    // pairing screen) and keeps trying; once the server is back (same
    // database, same address), the store's staff are there.
    const address = new URL(server.url).host;
    await stopServer(server);
    session = await AppSession.start({ dataDir, keyringHome, env: { AISLE_NO_OPEN: "1" } });
    await session.waitForElement('[data-testid="signin-error"]', 60_000);
    assert.equal((await session.findAll('[data-testid="staff-member"]')).length, 0);
    assert.equal((await session.findAll('[data-testid="pairing"]')).length, 0, "unreachable is not unpaired");
    server = await startServer(serverDir, address);
    await waitFor(
      "the store's staff once the server is back",
      async () => {
        if ((await session.findAll('[data-testid="staff-member"]')).length > 0) return true;
        const retry = await session.findAll('[data-testid="signin-error"] button');
        if (retry.length > 0) await session.click(retry[0]);
        return false;
      },
      90_000,
    );
    await session.signIn();
    await waitFor(
      "the store's name once the server is back",
      async () => (await session.text(await session.find('[data-testid="store-name"]'))) === store.name,
      60_000,
    );
    await session.close();
    session = undefined;

    // The server's data is reset (a new database on the same address): it
    // no longer knows this device's token.
    await stopServer(server);
    server = await startServer(freshDataDir("pairing-server-2", { firstStart: true }), address);
    session = await AppSession.start({ dataDir, keyringHome, env: { AISLE_NO_OPEN: "1" } });
    const reason = await session.waitForElement('[data-testid="pairing-reason"][data-reason="revoked"]', 60_000);
    assert.match(await session.text(reason), /no longer accepts this device/);
    await shot(session, "pairing-revoked");
    // Pair again with a new code: the address is kept.
    const again = await server.api.call("POST", "/v1/pairing-codes", { store: store.id, role: "store_associate" });
    await session.type(await session.find('[data-testid="pairing-code"]'), again.code);
    await session.click(await session.find('[data-testid="pairing-submit"]'));
    await session.signIn();
    await waitFor(
      "the store's name after pairing again",
      async () => (await session.text(await session.find('[data-testid="store-name"]'))) === store.name,
      60_000,
    );
  } catch (error) {
    await session?.screenshot("failure-pairing");
    throw error;
  } finally {
    await session?.close();
    await stopServer(server);
  }
});

async function stopServer(server) {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.stdin.end();
  server.child.kill("SIGTERM");
  await exited;
}
