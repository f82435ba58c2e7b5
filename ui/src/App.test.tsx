import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { lamp, lampDetail, mockCommands, offline } from "./test-utils";

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
});

const info = () => ({
  store: { id: "ST-FR-001", name: "Aisle Paris Rivoli" },
  channel: "stores",
  backend: "embedded",
  stores: [{ id: "ST-FR-001", name: "Aisle Paris Rivoli" }],
});
/** Someone is signed in (the sign-in gate has its own tests). */
const signedIn = () => ({
  member: { id: "STAFF-ST-FR-001-A", name: "Inès Moreau", role: "store_associate", offline_ok: true },
  offline: false,
});
const online = () => ({ connectivity: "online", last_sync_at: "2026-11-26T22:00:00Z", pending: 0, refused: 0, last_error: null });

/** Types like a keyboard-wedge scanner: fast keys, then Enter. */
function wedge(code: string) {
  let t = 1000;
  for (const key of code) fireEvent.keyDown(document.body, { key, timeStamp: (t += 5) });
  fireEvent.keyDown(document.body, { key: "Enter", timeStamp: t + 5 });
}

describe("App shell", () => {
  it("shows the store and the sync status", async () => {
    mockCommands({ current_staff: signedIn, app_info: info, sync_status: online });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("store-name").textContent).toBe("Aisle Paris Rivoli"));
    await waitFor(() => expect(screen.getByTestId("sync-status").dataset.state).toBe("online"));
  });

  it("shows offline in the status bar", async () => {
    mockCommands({
      current_staff: signedIn,
      app_info: info,
      sync_status: () => ({ connectivity: "offline", last_sync_at: null, pending: 2, refused: 1, last_error: "unreachable" }),
    });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("sync-status").dataset.state).toBe("offline"));
    expect(screen.getByTestId("sync-status").textContent).toContain("2 pending");
    expect(screen.getByTestId("sync-status").textContent).toContain("1 refused");
  });

  it("lists refused actions with their reason, and shows the device's notice", async () => {
    mockCommands({
      current_staff: signedIn,
      app_info: info,
      sync_status: () => ({
        connectivity: "online",
        last_sync_at: null,
        pending: 0,
        refused: 1,
        last_error: null,
        notice: "No keyring: this device must pair again at next start.",
      }),
      refused_actions: () => [
        { mutation_id: 3, kind: "place_order", reason: "No location can serve SKU-000001.", created_at: "2026-11-27T00:00:00Z" },
      ],
    });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("sync-notice").textContent).toContain("No keyring"));
    fireEvent.click(screen.getByTestId("sync-refused"));
    expect((await screen.findByTestId("refused-list")).textContent).toContain("No location can serve SKU-000001.");
  });

  it("reports offline when the status command itself fails", async () => {
    mockCommands({ current_staff: signedIn, app_info: info, sync_status: offline });
    render(<App />);
    await waitFor(() => expect(screen.getByTestId("sync-status").dataset.state).toBe("offline"));
  });

  it("switches language", async () => {
    mockCommands({ current_staff: signedIn, app_info: info, sync_status: online });
    render(<App />);
    expect((await screen.findByTestId("nav-queue")).textContent).toBe("Store queue");
    fireEvent.change(screen.getByTestId("lang-select"), { target: { value: "de" } });
    expect(screen.getByTestId("nav-queue").textContent).toBe("Filial-Warteschlange");
    fireEvent.change(screen.getByTestId("lang-select"), { target: { value: "fr" } });
    expect(screen.getByTestId("nav-queue").textContent).toBe("File du magasin");
    expect(document.documentElement.lang).toBe("fr");
  });

  it("opens the product a scanner reads anywhere", async () => {
    mockCommands({
      current_staff: signedIn,
      app_info: info,
      sync_status: online,
      search_products: () => ({ items: [lamp], next_cursor: null }),
      product_detail: () => lampDetail,
      product_atp: () => ({ channel: "stores", methods: [] }),
    });
    render(<App />);
    fireEvent.click(await screen.findByTestId("nav-queue"));
    wedge("2000000000008");
    expect(await screen.findByTestId("product")).toBeTruthy();
  });

  it("opens the product typed into the scan field", async () => {
    mockCommands({
      current_staff: signedIn,
      app_info: info,
      sync_status: online,
      search_products: () => ({ items: [lamp], next_cursor: null }),
      product_detail: () => lampDetail,
      product_atp: () => ({ channel: "stores", methods: [] }),
      store_queue: () => ({ items: [], next_cursor: null }),
    });
    render(<App />);
    fireEvent.input(await screen.findByTestId("scan-input"), { target: { value: "2000000000008" } });
    fireEvent.submit(screen.getByTestId("scan-input"));
    expect(await screen.findByTestId("product")).toBeTruthy();
  });
});
