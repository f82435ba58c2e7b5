// Tablet-first, checked on the real window: at 1024×768 and 1920×1080, in
// landscape and portrait, every main screen fits the width (no sideways
// scrolling), every control a finger can reach is at least 44×44 px, and a
// control reached with the keyboard shows where the focus is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AppSession, freshDataDir, waitFor } from "./webdriver.mjs";

const SIZES = [
  [1024, 768],
  [768, 1024],
  [1920, 1080],
  [1080, 1920],
];

// Runs in the page: what is wrong with the layout as shown now.
const AUDIT = `
  const problems = [];
  // The page, or the screen's own scrolling area, wider than the window.
  for (const box of [document.documentElement, document.querySelector("main")]) {
    if (box && box.scrollWidth > box.clientWidth + 1) {
      problems.push("scrolls sideways: " + box.scrollWidth + " px of content in " + box.clientWidth + " px (" +
        box.tagName.toLowerCase() + ")");
    }
  }
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && style.display !== "none"
      && !el.closest(".visually-hidden");
  };
  const controls = document.querySelectorAll(
    "button, a[href], select, textarea, input:not([type=hidden]), [role=button], [tabindex]:not([tabindex='-1'])");
  for (const el of controls) {
    if (!visible(el)) continue;
    // A checkbox or radio is touched through its label.
    const target = (el.type === "checkbox" || el.type === "radio") && el.closest("label") ? el.closest("label") : el;
    const r = target.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) {
      problems.push("small target " + Math.round(r.width) + "×" + Math.round(r.height) + ": <" +
        target.tagName.toLowerCase() + (target.dataset.testid ? " data-testid=" + target.dataset.testid : "") +
        "> " + (target.textContent || target.getAttribute("aria-label") || "").trim().slice(0, 40));
    }
  }
  return problems;
`;

// Runs in the page: focuses the first control and says whether the focus
// shows (an outline or a ring drawn by box-shadow).
const FOCUS = `
  const el = document.querySelector("main button, main input, main select");
  if (!el) return "no control";
  el.focus({ focusVisible: true });
  const style = getComputedStyle(el);
  const shows = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  return shows ? "ok" : "no visible focus on <" + el.tagName.toLowerCase() + "> " + (el.textContent || "").trim().slice(0, 30);
`;

test("every main screen fits tablets and desktops, with touch-size controls", async () => {
  const session = await AppSession.start({ dataDir: freshDataDir("layout") });
  try {
    await session.signIn();
    // A product in the cart, so that the cart shows the whole checkout.
    const input = await session.waitForElement('[data-testid="search-input"]');
    await session.type(input, "oak");
    await session.clickOn('[data-testid="search-result"]', 60_000);
    await session.clickOn('[data-testid="add-to-cart"]', 30_000);

    // Each screen: how to get there, and what shows it is there.
    const screens = [
      ["search", async () => {
        await session.clickOn('[data-testid="nav-search"]');
        await session.fill('[data-testid="search-input"]', "oak");
      }, '[data-testid="search-result"]'],
      ["product", () => session.clickOn('[data-testid="search-result"]'), '[data-testid="add-to-cart"]'],
      ["cart", () => session.clickOn('[data-testid="nav-cart"]'), '[data-testid="customer-name"]'],
      ["queue", () => session.clickOn('[data-testid="nav-queue"]'), '[data-testid="queue-refresh"]'],
      ["orders", () => session.clickOn('[data-testid="nav-orders"]'), '[data-testid="order-query"]'],
    ];
    // The audit itself finds a control too small and a page too wide.
    const planted = await session.call("POST", "/execute/sync", {
      script: `
        const tiny = document.createElement("button");
        tiny.textContent = "x";
        tiny.setAttribute("style", "min-height: 0; min-width: 0; height: 20px; width: 20px; padding: 0");
        const wide = document.createElement("div");
        wide.style.width = "5000px";
        wide.style.height = "1px";
        document.querySelector("main").append(tiny, wide);
        const problems = (() => { ${AUDIT} })();
        tiny.remove();
        wide.remove();
        return problems;`,
      args: [],
    });
    assert.ok(planted.some((p) => p.startsWith("small target 20×20")), planted.join("\n"));
    assert.ok(planted.some((p) => p.startsWith("scrolls sideways")), planted.join("\n"));

    const found = [];
    for (const [width, height] of SIZES) {
      await session.call("POST", "/window/rect", { width, height });
      await waitFor(`a ${width}×${height} window`, async () => {
        const inner = await session.call("POST", "/execute/sync", {
          script: "return [window.innerWidth, window.innerHeight];",
          args: [],
        });
        // The window's frame, if any, takes a little of it.
        return Math.abs(inner[0] - width) <= 16 && Math.abs(inner[1] - height) <= 64;
      });
      for (const [name, go, ready] of screens) {
        await go();
        await session.waitForElement(ready, 30_000);
        const problems = await session.call("POST", "/execute/sync", { script: AUDIT, args: [] });
        for (const p of problems) found.push(`${width}×${height} ${name}: ${p}`);
        const focus = await session.call("POST", "/execute/sync", { script: FOCUS, args: [] });
        if (focus !== "ok" && focus !== "no control") found.push(`${width}×${height} ${name}: ${focus}`);
      }
      if (width === 1024 && height === 768) await session.screenshot("tablet-1024x768");
      if (width === 768) await session.screenshot("tablet-portrait-768x1024");
      if (width === 1920) await session.screenshot("desktop-1920x1080");
    }
    assert.deepEqual(found, [], found.join("\n"));
  } catch (error) {
    await session.screenshot("failure-layout");
    throw error;
  } finally {
    await session.close();
  }
});
