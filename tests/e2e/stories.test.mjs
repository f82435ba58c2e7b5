// Stories of the store associate, in the real window over the bundled OMS
// server with the demo retailer. One app session runs them in order (one
// demo seed); each story saves screenshots of its main screens.
//
// (a) Endless aisle: search → product → ATP → a new customer saved to the
//     register → home delivery served from another location → confirmation
//     → the receipt (PDF saved and opened, and by e-mail).
// (b) Click & collect: a web-fr order for pickup here appears in the queue →
//     picked with one item missing → the re-routed line is shown → the rest
//     is ready → handed over with the customer's code (a wrong one first).
// (c) A return with its refund; (c') a receipt's barcode scanned on the
//     Orders screen opens its order; a return without receipt, approved by
//     the store manager's PIN (a wrong one first), the unit back on hand.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AppSession, DEMO_PINS, freshDataDir, waitFor, waitForSidecarExit } from "./webdriver.mjs";

/** The store the app works for (the first store of the demo network). */
const STORE = "ST-FR-001";
const STORE_NAME = "Aisle Paris Rivoli";

describe("store associate stories", () => {
  let session;
  let api;

  before(async () => {
    session = await AppSession.start({ dataDir: freshDataDir("stories"), env: { AISLE_NO_OPEN: "1" } });
    // The first start seeds the demo database; then an associate signs in.
    await session.signIn({ screenshot: "sign-in" });
    await session.waitForText('[data-testid="store-name"]', new RegExp(STORE_NAME), 90_000);
    api = session.sidecarApi();
  });

  after(async () => {
    if (!session) return;
    const sidecar = session.sidecarPid();
    await session.close();
    if (sidecar) await waitForSidecarExit(sidecar);
  });

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

  async function shot(name) {
    await session.screenshot(name);
  }

  async function go(section) {
    await session.clickOn(`[data-testid="nav-${section}"]`);
  }

  test("(a) endless aisle: a home delivery served from another location", async () => {
    try {
      const sku = await findSku("out of stock here but in the Paris warehouse", (a) => !a[STORE] && a["WH-PARIS"] > 0);
      const product = await api.call("GET", `/v1/products/${sku}`);

      await go("search");
      await session.fill('[data-testid="search-input"]', product.name);
      await session.clickOn(`[data-testid="search-result"][data-sku="${sku}"]`, 30_000);
      await session.waitForText('[data-testid="stock-here"]', /0 available/);
      await session.waitForElement('[data-testid="atp-home_delivery"]');
      await shot("product");

      await session.fill('[data-testid="atp-postal"]', "75011");
      await session.clickOn('[data-testid="atp-check"]');
      await session.waitForText('[data-testid="atp-home_delivery"]', /Possible/);
      await session.scrollTo('[data-testid="atp-methods"]');
      await shot("atp");

      await session.clickOn('[data-testid="add-to-cart"]');
      await go("cart");
      // Find or create: nobody yet, so a new customer goes to the register.
      await session.fill('[data-testid="customer-search"]', "camille.martin@example.com");
      await session.waitForElement('[data-testid="customer-none"]', 30_000);
      await session.clickOn('[data-testid="customer-new"]');
      await session.fill('[data-testid="new-customer-name"]', "Camille Martin");
      await session.clickOn('[data-testid="customer-save"]');
      const chosen = await session.waitForElement('[data-testid="customer-chosen"]', 30_000);
      const customerId = await session.call("GET", `/element/${chosen}/attribute/data-customer-id`);
      assert.match(customerId, /^C-/);
      await session.clickOn('[data-testid="delivery-home_delivery"]');
      await session.fill('[data-testid="checkout-postal"]', "75011");
      await shot("checkout");
      await session.clickOn('[data-testid="place-order"]');

      const number = (await session.waitForText('[data-testid="order-number"]', /^O-/, 30_000)).trim();
      const where = await session.waitForText('[data-testid="confirmation-fulfilments"]', /./);
      assert.ok(!where.includes(STORE_NAME), `served from another location, not this store: ${where}`);
      await shot("confirmation");

      const order = await api.call("GET", `/v1/orders/${number}`);
      assert.equal(order.delivery, "home_delivery");
      assert.ok(order.fulfilments.every((f) => f.location !== STORE));
      assert.equal(order.customer.id, customerId, "the order is linked to the registered customer");

      // The receipt: a PDF saved in the data directory (the viewer is not
      // started under test), and the same receipt queued by e-mail.
      await session.clickOn('[data-testid="receipt-print"]');
      const printed = await session.waitForElement('[data-testid="receipt-printed"]', 30_000);
      const path = await session.call("GET", `/element/${printed}/attribute/data-path`);
      assert.ok(path.startsWith(session.dataDir), `saved in the app data directory: ${path}`);
      const pdf = readFileSync(path);
      assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
      assert.ok(pdf.includes(`(${number})`), "the receipt carries the order number");
      await session.clickOn('[data-testid="receipt-email"]');
      await session.waitForText('[data-testid="receipt-sent"]', /camille\.martin@example\.com/, 30_000);
      await session.scrollTo('[data-testid="receipt-actions"]');
      await shot("receipt");
      const messages = await api.call("GET", `/v1/orders/${number}/notifications`);
      assert.ok(
        messages.some((m) => m.kind === "receipt" && m.to_email === "camille.martin@example.com"),
        "the receipt is in the core's notification outbox",
      );
    } catch (error) {
      await shot("failure-endless-aisle");
      throw error;
    }
  });

  test("(b) click & collect: picked with one item missing, re-routed, handed over", async () => {
    try {
      // Only this store and other French stores hold it (no warehouse): the
      // web shop plans it on this store's shelf, and a missing unit can go
      // to another store.
      const sku = await findSku(
        "held here (≥ 2) and in other French stores but in no warehouse",
        (a) =>
          a[STORE] >= 2 &&
          Object.entries(a).some(([l, n]) => l.startsWith("ST-FR") && l !== STORE && n > 0) &&
          Object.entries(a).every(([l, n]) => l.startsWith("ST-") || n === 0),
      );
      const product = await api.call("GET", `/v1/products/${sku}`);
      const placed = await api.call(
        "POST",
        "/v1/orders",
        {
          channel: "web-fr",
          delivery: "click_and_collect",
          destination: { pickup_store: STORE },
          customer: { name: "Léa Dubois", email: "lea.dubois@example.com", language: "fr" },
          lines: [{ sku, quantity: 2 }],
          payment: "gateway",
        },
        { "idempotency-key": `e2e-${Date.now()}` },
      );
      const here = placed.fulfilments.find((f) => f.location === STORE);
      assert.ok(here?.handover, `planned on this store's shelf: ${JSON.stringify(placed.fulfilments)}`);

      await go("queue");
      await session.clickOn('[data-testid="queue-refresh"]');
      // Refresh replaces the list (a loading state, then new rows): a click
      // on a row found just before can land on the loading state and open
      // nothing. Click the order's row until its fulfilment opens.
      await waitFor(
        "the queue item to open",
        async () => {
          if ((await session.findAll('[data-testid="start-picking"]')).length > 0) return true;
          const rows = await session.findAll(`[data-testid="queue-item"][data-order="${placed.id}"]`);
          if (rows.length > 0) await session.click(rows[0]);
          return false;
        },
        30_000,
      );
      await shot("queue-item");
      await session.clickOn('[data-testid="start-picking"]');
      await session.waitForElement('[data-testid="fulfilment"][data-status="in_preparation"]');

      // One unit scanned (keyboard-wedge scanners type into the scan field
      // and press Enter), the second is not on the shelf.
      const scan = await session.fill('[data-testid="scan-input"]', product.barcodes[0]);
      await session.type(scan, "\uE007");
      await session.waitForText('[data-testid="pick-line"]', /1 of 2 picked/);
      await session.clickOn('[data-testid="pick-missing"]');
      await session.fill('[data-testid="found-quantity"]', "1");
      await shot("pick-list");
      await session.clickOn('[data-testid="report-missing"]');
      const rerouted = await session.waitForText('[data-testid="rerouted-fulfilment"]', /to .+ expected/, 30_000);
      assert.ok(!rerouted.includes(STORE_NAME), rerouted);
      await session.waitForElement('[data-testid="reroute-explanation"]');
      await session.scrollTo('[data-testid="reroute"]');
      await shot("missing-rerouted");

      await session.clickOn('[data-testid="mark-ready"]');
      await session.waitForElement('[data-testid="fulfilment"][data-status="ready_for_pickup"]');

      // The customer was sent a six-digit code; a wrong one hands nothing over.
      const code = await waitFor("the pickup code notification", async () => {
        const messages = await api.call("GET", `/v1/orders/${placed.id}/notifications`);
        for (const m of messages) {
          const found = m.body.match(/\b(\d{6})\b/);
          if (m.status === "ready_to_pick_up" && found) return found[1];
        }
        return undefined;
      });
      await session.fill('[data-testid="pickup-code"]', code === "000000" ? "111111" : "000000");
      await session.clickOn('[data-testid="hand-over"]');
      await session.waitForText('[data-testid="step-error"]', /does not match/);
      await session.fill('[data-testid="pickup-code"]', code);
      await shot("handover");
      await session.clickOn('[data-testid="hand-over"]');
      await session.waitForElement('[data-testid="fulfilment"][data-status="picked_up"]', 20_000);
      await shot("handed-over");

      const after = await api.call("GET", `/v1/fulfilments/${here.id}`);
      assert.equal(after.status, "picked_up");
      assert.equal(after.lines[0].quantity, 1);
    } catch (error) {
      await shot("failure-click-and-collect");
      throw error;
    }
  });

  test("(c) a return with its refund", async () => {
    try {
      // A collected order of this store (story b), found by the customer's e-mail.
      await go("orders");
      await session.fill('[data-testid="order-query"]', "lea.dubois@example.com");
      await session.clickOn('[data-testid="order-search"]');
      await session.clickOn('[data-testid="order-hit"]', 20_000);
      await session.waitForText('[data-testid="order-explanation"]', /ST-FR-003|Aisle|ST-FR/);
      await shot("order-explained");

      await session.fill('[data-testid="return-quantity"]', "1");
      await session.select('[data-testid="return-reason"]', "defective");
      await session.select('[data-testid="return-condition"]', "damaged");
      await session.clickOn('[data-testid="receive-return"]');
      const receipt = await session.waitForText('[data-testid="return-receipt"]', /refund €\d/, 20_000);
      assert.match(receipt, /quarantined/);
      await session.scrollTo('[data-testid="return-receipt"]');
      await shot("return");
    } catch (error) {
      await shot("failure-return");
      throw error;
    }
  });

  test("(c') a return without receipt, approved by the manager's PIN", async () => {
    try {
      const sku = "SKU-000042";
      const onHand = async () => {
        const stock = await api.call("GET", `/v1/stock/${sku}`);
        return stock.levels.find((l) => l.location === STORE)?.on_hand ?? 0;
      };
      const before = await onHand();
      // A receipt's barcode (the order number) scanned on the Orders screen
      // opens that order; the scan field takes what a scanner types.
      const [collected] = (await api.call("GET", `/v1/orders?q=${encodeURIComponent("lea.dubois@example.com")}`)).items;
      await go("orders");
      const scanField = await session.fill('[data-testid="scan-input"]', collected.id);
      await session.type(scanField, "\uE007");
      await session.waitForText('[data-testid="order-detail"]', new RegExp(collected.id), 20_000);
      // Not found: a return without receipt.
      await go("orders");
      await session.clickOn('[data-testid="no-receipt-open"]');
      await session.fill('[data-testid="no-receipt-query"]', sku);
      await session.clickOn('[data-testid="no-receipt-search"]');
      await session.clickOn(`[data-testid="no-receipt-hit"][data-sku="${sku}"]`, 20_000);
      await session.select('[data-testid="no-receipt-reason"]', "does_not_fit");
      await session.clickOn('[data-testid="refund-store_credit"]');
      await session.clickOn('[data-testid="no-receipt-approve"]');
      // A wrong PIN is refused by the core, which says what is left.
      for (const digit of "0000") await session.clickOn(`[data-testid="pin-key-${digit}"]`);
      await session.clickOn('[data-testid="pin-submit"]');
      await session.waitForText('[data-testid="pin-refused"]', /4 attempt\(s\) left/, 20_000);
      for (const digit of DEMO_PINS.manager) await session.clickOn(`[data-testid="pin-key-${digit}"]`);
      await session.clickOn('[data-testid="pin-submit"]');
      const receipt = await session.waitForText('[data-testid="no-receipt-receipt"]', /approved by/, 20_000);
      assert.match(receipt, /back in stock here/);
      await shot("return-no-receipt");
      await waitFor("the unit back on hand here", async () => (await onHand()) === before + 1, 20_000);
    } catch (error) {
      await shot("failure-return-no-receipt");
      throw error;
    }
  });
});
