import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { mockCommands, pending } from "../test-utils";
import { NOT_PAIRED_EVENT } from "../ipc";
import { Pairing, serverUrlProblem } from "./Pairing";
import type { PairingState } from "../generated/ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

const firstStart: PairingState = { phase: "needs_pairing", reason: null, message: null, server_url: null, mode: "embedded" };
const info = { store: { id: "ST-FR-001", name: "Aisle Paris Rivoli" }, channel: "stores", backend: "central", stores: [] };

function gate() {
  return render(
    <Pairing>
      <p data-testid="the-app">app</p>
    </Pairing>,
  );
}

function fill(url: string, code: string) {
  fireEvent.input(screen.getByTestId("pairing-url"), { target: { value: url } });
  fireEvent.input(screen.getByTestId("pairing-code"), { target: { value: code } });
  fireEvent.click(screen.getByTestId("pairing-submit"));
}

describe("Pairing gate", () => {
  it("is checking, then opens the app of a paired device", async () => {
    mockCommands({ pairing_state: pending });
    gate();
    expect(screen.getByTestId("pairing-checking")).toBeTruthy();
    cleanup();
    mockCommands({ pairing_state: () => ({ ...firstStart, phase: "ready", mode: "central", server_url: "https://oms.example.com" }) });
    gate();
    expect(await screen.findByTestId("the-app")).toBeTruthy();
  });

  it("asks on first start (idle), and pairs with a central server", async () => {
    let sent: Record<string, unknown> | undefined;
    mockCommands({
      pairing_state: () => firstStart,
      pair_device: (args) => {
        sent = args.pairing as Record<string, unknown>;
        return info;
      },
    });
    gate();
    expect(await screen.findByTestId("pairing")).toBeTruthy();
    expect(screen.queryByTestId("the-app")).toBeNull();
    expect((screen.getByTestId("pairing-label") as HTMLInputElement).value).toBe("Aisle till");
    fill(" https://oms.example.com ", "ABCD-2345");
    expect(await screen.findByTestId("the-app")).toBeTruthy();
    expect(sent).toEqual({ server_url: "https://oms.example.com", code: "ABCD-2345", device_label: "Aisle till" });
  });

  it("shows that it is pairing while the server answers", async () => {
    mockCommands({ pairing_state: () => firstStart, pair_device: pending });
    gate();
    await screen.findByTestId("pairing");
    fill("https://oms.example.com", "ABCD-2345");
    expect(await screen.findByTestId("pairing-busy")).toBeTruthy();
    expect((screen.getByTestId("pairing-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("pairing-submit").textContent).toBe("Pairing…");
  });

  it("says when the code is wrong", async () => {
    mockCommands({
      pairing_state: () => firstStart,
      pair_device: () => {
        throw { code: "forbidden", message: "This pairing code is wrong, used or expired" };
      },
    });
    gate();
    await screen.findByTestId("pairing");
    fill("https://oms.example.com", "WRONG");
    const error = await screen.findByTestId("pairing-error");
    expect(error.dataset.key).toBe("pair.wrongCode");
    expect(screen.queryByTestId("the-app")).toBeNull();
  });

  it("says when the server cannot be reached", async () => {
    mockCommands({
      pairing_state: () => firstStart,
      pair_device: () => {
        throw { code: "backend_unavailable", message: "Cannot reach the OMS server at https://oms.example.com: connection refused" };
      },
    });
    gate();
    await screen.findByTestId("pairing");
    fill("https://oms.example.com", "ABCD-2345");
    const error = await screen.findByTestId("pairing-error");
    expect(error.dataset.key).toBe("pair.unreachable");
    expect(error.textContent).toContain("connection refused");
  });

  it("explains that a central server needs a keyring", async () => {
    mockCommands({
      pairing_state: () => firstStart,
      pair_device: () => {
        throw { code: "no_keyring", message: "no OS keyring is available" };
      },
    });
    gate();
    await screen.findByTestId("pairing");
    fill("https://oms.example.com", "ABCD-2345");
    const error = await screen.findByTestId("pairing-error");
    expect(error.dataset.key).toBe("pair.noKeyring");
    expect(error.textContent).toContain("keyring");
  });

  it("refuses plain http to another computer before sending anything, and says why", async () => {
    mockCommands({ pairing_state: () => firstStart });
    gate();
    await screen.findByTestId("pairing");
    fill("http://oms.example.com", "ABCD-2345");
    const error = await screen.findByTestId("pairing-error");
    expect(error.dataset.key).toBe("pair.urlHttps");
    expect(error.textContent).toContain("https://");
    expect(serverUrlProblem("http://127.0.0.1:8080")).toBeUndefined();
    expect(serverUrlProblem("http://localhost:8080")).toBeUndefined();
    expect(serverUrlProblem("https://oms.example.com")).toBeUndefined();
    expect(serverUrlProblem("oms.example.com")).toBe("pair.urlInvalid");
    expect(serverUrlProblem("")).toBe("pair.urlEmpty");
    expect(serverUrlProblem("https://oms.example.com/?token=x")).toBe("pair.urlInvalid");
  });

  it("shows why pairing is needed again and keeps the server address", async () => {
    mockCommands({
      pairing_state: () => ({
        phase: "needs_pairing",
        reason: "revoked",
        message: "This device's pairing is no longer valid",
        server_url: "https://oms.example.com",
        mode: "central",
      }),
    });
    gate();
    const reason = await screen.findByTestId("pairing-reason");
    expect(reason.dataset.reason).toBe("revoked");
    expect(reason.textContent).toBe("The server no longer accepts this device (its pairing was revoked, or the server's data was reset). Ask a manager for a new pairing code and pair again.");
    expect((screen.getByTestId("pairing-url") as HTMLInputElement).value).toBe("https://oms.example.com");
  });

  it("uses the built-in demo server", async () => {
    let chosen = false;
    mockCommands({
      pairing_state: () => firstStart,
      use_embedded_server: () => {
        chosen = true;
        return null;
      },
    });
    gate();
    fireEvent.click(await screen.findByTestId("pairing-embedded"));
    expect(await screen.findByTestId("the-app")).toBeTruthy();
    expect(chosen).toBe(true);
  });

  it("comes back when the server no longer accepts a central device", async () => {
    mockCommands({ pairing_state: () => ({ phase: "ready", reason: null, message: null, server_url: "https://oms.example.com", mode: "central" }) });
    gate();
    await screen.findByTestId("the-app");
    window.dispatchEvent(new CustomEvent(NOT_PAIRED_EVENT, { detail: { code: "not_paired", message: "revoked" } }));
    expect(await screen.findByTestId("pairing-revoked")).toBeTruthy();
    expect(screen.queryByTestId("the-app")).toBeNull();
  });

  it("is in French when the app is", async () => {
    localStorage.setItem("aisle.lang", "fr");
    try {
      mockCommands({ pairing_state: () => firstStart });
      gate();
      expect((await screen.findByTestId("pairing-submit")).textContent).toBe("Appairer cet appareil");
    } finally {
      localStorage.removeItem("aisle.lang");
    }
  });
});
