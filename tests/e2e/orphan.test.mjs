// The sidecar never outlives the app, even when the app is killed with
// SIGKILL (no exit handler runs): it exits when its stdin pipe closes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { APP, freshDataDir, isAlive, waitFor } from "./webdriver.mjs";

test("killing the app with SIGKILL leaves no oms-server behind", async () => {
  const dataDir = freshDataDir("orphan");
  const app = spawn(APP, [], {
    env: { ...process.env, AISLE_DATA_DIR: dataDir },
    stdio: ["ignore", "ignore", "inherit"],
  });
  let sidecar;
  try {
    const pidFile = join(dataDir, "sidecar.pid");
    sidecar = await waitFor(
      "the app to start its sidecar",
      () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8").trim()),
      60_000,
    );
    assert.ok(isAlive(sidecar), "sidecar running while the app runs");
  } finally {
    app.kill("SIGKILL");
  }
  await waitFor("the sidecar to exit after the app was killed", () => !isAlive(sidecar), 10_000);
});
