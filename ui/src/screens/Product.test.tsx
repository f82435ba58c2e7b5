import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { Availability } from "../generated/ipc";
import { I18nContext, makeI18n } from "../i18n";
import { lamp, lampDetail, mockCommands, offline, pending } from "../test-utils";
import { Product } from "./Product";

const atp: Availability = {
  channel: "stores",
  methods: [
    {
      method: "home_delivery",
      possible: false,
      reason: "no_address",
      requested: 1,
      quantity: 0,
      expected_date: null,
      ready_at: null,
      shipments: [],
    },
    {
      method: "express_click_and_collect",
      possible: true,
      reason: null,
      requested: 1,
      quantity: 2,
      expected_date: "2026-11-27",
      ready_at: "2026-11-27T09:30:00Z",
      shipments: [{ location: "ST-FR-001", location_name: "Aisle Paris Rivoli", units: 1, expected_date: "2026-11-27" }],
    },
  ],
};

afterEach(() => {
  cleanup();
  clearMocks();
});

const noop = () => undefined;

describe("Product screen", () => {
  it("is loading until the detail arrives", () => {
    mockCommands({ product_detail: pending });
    render(<Product sku={lamp.sku} onAdd={noop} onBack={noop} />);
    expect(screen.getByTestId("product-loading")).toBeTruthy();
  });

  it("shows stock here, nearby with distance, the network, and ATP with reasons", async () => {
    const asked: Record<string, unknown>[] = [];
    mockCommands({
      product_detail: () => lampDetail,
      product_atp: (args) => {
        asked.push(args);
        return atp;
      },
    });
    render(<Product sku={lamp.sku} onAdd={noop} onBack={noop} />);
    expect((await screen.findByTestId("stock-here")).textContent).toContain("2 available");
    expect(screen.getByTestId("stock-nearby").textContent).toContain("Aisle Paris Montparnasse");
    expect(screen.getByTestId("stock-nearby").textContent).toContain("2.1 km");
    expect(screen.getByTestId("stock-network").textContent).toContain("120 available at 9 locations");
    const home = await screen.findByTestId("atp-home_delivery");
    expect(home.textContent).toContain("Not possible");
    expect(home.textContent).toContain("enter the customer's postal code");
    expect(screen.getByTestId("atp-express_click_and_collect").textContent).toContain("Aisle Paris Rivoli");
    fireEvent.input(screen.getByTestId("atp-postal"), { target: { value: "75001" } });
    fireEvent.click(screen.getByTestId("atp-check"));
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked[1]).toEqual({
      sku: lamp.sku,
      quantity: 1,
      destination: { postal_code: "75001", country: "FR", pickup_store: null },
    });
  });

  it("speaks French and German", async () => {
    mockCommands({ product_detail: () => ({ ...lampDetail, nearby: [] }), product_atp: () => atp });
    render(
      <I18nContext.Provider value={makeI18n("fr")}>
        <Product sku={lamp.sku} onAdd={noop} onBack={noop} />
      </I18nContext.Provider>,
    );
    expect((await screen.findByTestId("nearby-empty")).textContent).toBe("Aucun autre magasin proche ne l'a.");
    expect((await screen.findByTestId("atp-home_delivery")).textContent).toContain("saisissez le code postal du client");
    cleanup();
    render(
      <I18nContext.Provider value={makeI18n("de")}>
        <Product sku={lamp.sku} onAdd={noop} onBack={noop} />
      </I18nContext.Provider>,
    );
    expect((await screen.findByTestId("atp-home_delivery")).textContent).toContain("Nicht möglich");
  });

  it("adds to the cart", async () => {
    const added: unknown[] = [];
    mockCommands({ product_detail: () => lampDetail, product_atp: () => atp });
    render(<Product sku={lamp.sku} onAdd={(p, q) => added.push([p.sku, q])} onBack={noop} />);
    fireEvent.click(await screen.findByTestId("add-to-cart"));
    expect(added).toEqual([[lamp.sku, 1]]);
  });

  it("says when the product does not exist", async () => {
    mockCommands({
      product_detail: () => {
        throw { code: "not_found", message: "no product SKU-X" };
      },
    });
    render(<Product sku="SKU-X" onAdd={noop} onBack={noop} />);
    expect((await screen.findByTestId("product-error")).textContent).toContain("Not found.");
  });

  it("says when offline", async () => {
    mockCommands({ product_detail: offline });
    render(<Product sku={lamp.sku} onAdd={noop} onBack={noop} />);
    expect((await screen.findByTestId("product-error")).dataset.code).toBe("backend_unavailable");
  });
});
