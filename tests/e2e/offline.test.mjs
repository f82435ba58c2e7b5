// Story (d): working through an outage of the OMS core.
//
// The app's sidecar is killed (the core is down): the app shows offline and
// keeps working from its cache — a carry-out sale and an endless-aisle order
// are queued in the outbox (pending 2). The app keeps the sidecar down while
// `sidecar.hold` exists in its data directory; once the file is removed it
// restarts the sidecar on the same database and port, and both actions are
// pushed exactly once (pending 0) and are in the core.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppSession, freshDataDir, isAlive, waitFor, waitForSidecarExit } from "./webdriver.mjs";

const STORE = "ST-FR-001";
const STORE_NAME = "Aisle Paris Rivoli";

describe("offline story", () => {
  let session;
  let api;

  before(async () => {
    session = await AppSession.start({ dataDir: freshDataDir("offline"), env: { AISLE_NO_OPEN: "1" } });
    await session.signIn();
    await session.waitForText('[data-testid="store-name"]', new RegExp(STORE_NAME), 90_000);
    api = session.sidecarApi();
  });

  after(async () => {
    if (!session) return;
    rmSync(join(session.dataDir, "sidecar.hold"), { force: true });
    const sidecar = session.sidecarPid();
    await session.close();
    if (sidecar) await waitForSidecarExit(sidecar);
  });

  async function status() {
    const bar = await session.find('[data-testid="sync-status"]');
    return {
      state: await session.call("GET", `/element/${bar}/attribute/data-state`),
      text: await session.textContent(bar),
    };
  }

  async function waitForStatus(what, probe, timeoutMs) {
    let last;
    await waitFor(
      what,
      async () => {
        last = await status().catch(() => undefined);
        return last && probe(last);
      },
      timeoutMs,
    ).catch((error) => {
      throw new Error(`${error.message}; status bar: ${JSON.stringify(last)}`);
    });
  }

  /** A SKU matching `wanted(available by location)`, among the first ones. */
  async function findSku(what, wanted) {
    for (let n = 1; n <= 400; n++) {
      const sku = `SKU-${String(n).padStart(6, "0")}`;
      const stock = await api.call("GET", `/v1/stock/${sku}`);
      const available = Object.fromEntries(stock.levels.map((l) => [l.location, l.available]));
      if (wanted(available)) return sku;
    }
    throw new Error(`no demo SKU ${what}`);
  }

  async function onHandHere(sku) {
    const stock = await api.call("GET", `/v1/stock/${sku}`);
    return stock.levels.find((l) => l.location === STORE)?.on_hand ?? 0;
  }

  /** Search (answered from the cache while offline) → product → cart. */
  async function addToCart(sku) {
    await session.clickOn('[data-testid="nav-search"]');
    await session.fill('[data-testid="search-input"]', sku);
    await session.clickOn(`[data-testid="search-result"][data-sku="${sku}"]`, 30_000);
    await session.clickOn('[data-testid="add-to-cart"]');
    await session.clickOn('[data-testid="nav-cart"]');
    await session.waitForElement('[data-testid="cart-line"]');
  }

  test("(d) a carry-out sale and an order taken offline are synced exactly once", async () => {
    try {
      // The first pull of the demo catalogue fills the cache.
      await waitForStatus("the first sync", (s) => s.state === "online" && !/Not synced yet/.test(s.text), 120_000);

      const sold = await findSku("on the shelf here", (a) => a[STORE] >= 2);
      const ordered = await findSku("in the Paris warehouse", (a) => a["WH-PARIS"] > 0);
      const before = await onHandHere(sold);

      // The core goes down (and stays down until the hold file goes).
      writeFileSync(join(session.dataDir, "sidecar.hold"), "");
      const pid = session.sidecarPid();
      process.kill(pid, "SIGKILL");
      await waitFor("the sidecar to die", () => !isAlive(pid), 10_000);
      await waitForStatus("offline in the status bar", (s) => s.state === "offline", 30_000);

      // Staff change over while offline: the associate signed in online on
      // this device, so she signs in again against the hash kept in memory;
      // the manager, who never signed in here, cannot.
      await session.clickOn('[data-testid="sign-out"]');
      await session.waitForElement('[data-testid="signin-offline"]', 30_000);
      const manager = await session.waitForElement('[data-testid="staff-member"][data-id$="-M"]');
      assert.equal(await session.call("GET", `/element/${manager}/enabled`), false);
      await session.signIn();
      await session.waitForText('[data-testid="staff-badge"]', /offline sign-in/);

      // A carry-out sale, offline.
      await addToCart(sold);
      await session.clickOn('[data-testid="sell-now"]');
      await session.waitForText('[data-testid="queued-reference"]', /^sale-\d+$/);
      await session.screenshot("offline-sale");
      await session.clickOn('[data-testid="new-sale"]');

      // An endless-aisle order, offline: queued, not lost.
      await addToCart(ordered);
      await session.fill('[data-testid="customer-name"]', "Noor Offline");
      await session.fill('[data-testid="customer-email"]', "noor.offline@example.com");
      await session.clickOn('[data-testid="delivery-home_delivery"]');
      await session.fill('[data-testid="checkout-postal"]', "75011");
      await session.clickOn('[data-testid="place-order"]');
      await session.waitForText('[data-testid="queued-reference"]', /^pending-\d+$/, 30_000);
      await session.waitForText('[data-testid="queued-confirmation"]', /will be sent when online/);

      await waitForStatus("2 pending while offline", (s) => s.state === "offline" && /2 pending/.test(s.text), 20_000);
      await session.screenshot("offline-pending");

      // The core comes back: the app restarts its sidecar on the same database.
      rmSync(join(session.dataDir, "sidecar.hold"));
      await waitFor("a new sidecar", () => {
        const now = session.sidecarPid();
        return now && now !== pid && isAlive(now);
      }, 60_000);
      await waitForStatus("synced (nothing pending)", (s) => s.state === "online" && !/pending/.test(s.text), 90_000);

      // Exactly once in the core.
      api = session.sidecarApi();
      assert.equal(await onHandHere(sold), before - 1, "the sale took one unit off the shelf, once");
      const orders = await api.call("GET", `/v1/orders?q=${encodeURIComponent("noor.offline@example.com")}`);
      const found = orders.items;
      assert.equal(found.length, 1, `one order for the offline customer: ${JSON.stringify(found)}`);
    } catch (error) {
      await session.screenshot("failure-offline").catch(() => undefined);
      throw error;
    }
  });
});
