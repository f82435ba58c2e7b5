// Story: an associate opens Aisle (embedded default: the bundled OMS server
// with the demo retailer), types a search, and sees the matching products.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AppSession, freshDataDir, isAlive, waitFor, waitForSidecarExit } from "./webdriver.mjs";

test("searching the demo catalogue from the real window", async () => {
  const session = await AppSession.start({ dataDir: freshDataDir("search") });
  let sidecar;
  try {
    // The first start seeds the demo database; then an associate signs in.
    await session.signIn();
    const input = await session.waitForElement('[data-testid="search-input"]');
    await session.type(input, "oak table lamp");

    // Results appear while typing (debounced); wait for those of the whole
    // query. The first start seeds the demo database, so allow it time.
    await waitFor(
      "results for the whole query",
      async () => {
        const items = await session.findAll('[data-testid="search-result"]');
        if (items.length === 0) return false;
        for (const item of items) {
          const text = (await session.textContent(item)).toLowerCase();
          if (!(text.includes("oak") && text.includes("table lamp"))) return false;
        }
        return true;
      },
      60_000,
    );
    const status = await session.text(await session.find('[data-testid="search-status"]'));
    assert.match(status, /\d+ products/);
    await session.screenshot("search");

    // A SKU finds exactly that product.
    await session.call("POST", `/element/${input}/clear`, {});
    await session.type(input, "SKU-000042");
    await waitFor("the single SKU result", async () => {
      const items = await session.findAll('[data-testid="search-result"]');
      if (items.length !== 1) return undefined;
      return (await session.textContent(items[0])).includes("SKU-000042");
    });

    sidecar = session.sidecarPid();
    assert.ok(sidecar && isAlive(sidecar), "the app started its sidecar");
  } catch (error) {
    await session.screenshot("failure-search");
    throw error;
  } finally {
    await session.close();
  }
  // Ending the WebDriver session kills the app; its sidecar must follow.
  await waitForSidecarExit(sidecar);
});
