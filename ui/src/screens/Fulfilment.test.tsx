import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import type { ComponentChildren } from "preact";
import { afterEach, describe, expect, it } from "vitest";
import type { StepOutcome } from "../generated/ipc";
import { ScanContext, type ScanHandler } from "../scan";
import { lamp, mockCommands, offline, pending, pickFulfilment } from "../test-utils";
import { Fulfilment } from "./Fulfilment";

afterEach(() => {
  cleanup();
  clearMocks();
});

/** Captures the screen's scan handler, to deliver scans in tests. */
function withScans(children: ComponentChildren) {
  const handlers: ScanHandler[] = [];
  const registry = {
    push: (h: ScanHandler) => {
      handlers.push(h);
      return () => undefined;
    },
  };
  const scan = (code: string) => handlers.some((h) => h(code));
  return { ui: <ScanContext.Provider value={registry}>{children}</ScanContext.Provider>, scan };
}

const noop = () => undefined;

describe("Fulfilment screen", () => {
  it("is loading, then shows errors and offline", async () => {
    mockCommands({ fulfilment_detail: pending });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    expect(screen.getByTestId("fulfilment-loading")).toBeTruthy();
    cleanup();
    mockCommands({ fulfilment_detail: offline });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    expect((await screen.findByTestId("fulfilment-error")).dataset.code).toBe("backend_unavailable");
  });

  it("confirms items by scanning their barcode, then marks ready", async () => {
    const steps: unknown[] = [];
    mockCommands({
      fulfilment_detail: () => pickFulfilment,
      fulfilment_step: (args) => {
        steps.push(args.step);
        return {
          fulfilment: { ...pickFulfilment, status: "ready_for_pickup" },
          order_status: "allocated",
          rerouted: [],
          unservable: [],
          explanation: [],
        } satisfies StepOutcome;
      },
    });
    const { ui, scan } = withScans(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    render(ui);
    await screen.findByTestId("pick-list");
    expect((screen.getByTestId("mark-ready") as HTMLButtonElement).disabled).toBe(true);
    expect(scan("2000000000008")).toBe(true);
    expect(scan("2000000000008")).toBe(true);
    await waitFor(() => expect(screen.getByTestId("pick-line").dataset.done).toBe("true"));
    fireEvent.click(screen.getByTestId("mark-ready"));
    await waitFor(() => expect(screen.getByTestId("fulfilment").dataset.status).toBe("ready_for_pickup"));
    expect(steps).toEqual([{ type: "mark_ready" }]);
    expect(screen.getByTestId("pickup-code")).toBeTruthy();
  });

  it("reports a missing item and shows where it went", async () => {
    const steps: unknown[] = [];
    mockCommands({
      fulfilment_detail: () => pickFulfilment,
      fulfilment_step: (args) => {
        steps.push(args.step);
        return {
          fulfilment: { ...pickFulfilment, lines: [{ ...pickFulfilment.lines[0]!, quantity: 1 }] },
          order_status: "allocated",
          rerouted: [
            {
              id: "O-ABCD2345-2",
              location: "ST-FR-002",
              location_name: "Aisle Paris Montparnasse",
              delivery: "express_click_and_collect",
              handover: false,
              status: "awaiting_preparation",
              expected_date: "2026-11-28",
              lines: [{ ...pickFulfilment.lines[0]!, quantity: 1 }],
            },
          ],
          unservable: [],
          explanation: ["1 unit of SKU-000001 now comes from Aisle Paris Montparnasse."],
        } satisfies StepOutcome;
      },
    });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    fireEvent.click((await screen.findAllByTestId("pick-confirm"))[0] as HTMLElement);
    fireEvent.click(screen.getByTestId("pick-missing"));
    fireEvent.input(screen.getByTestId("found-quantity"), { target: { value: "1" } });
    fireEvent.click(screen.getByTestId("report-missing"));
    expect((await screen.findByTestId("rerouted-fulfilment")).textContent).toContain("Aisle Paris Montparnasse");
    expect(screen.getByTestId("reroute-explanation").textContent).toContain("now comes from");
    expect(steps).toEqual([{ type: "report_missing", lines: [{ line: 1, found: 1 }] }]);
    // The one unit found is picked: the rest can be made ready.
    expect((screen.getByTestId("mark-ready") as HTMLButtonElement).disabled).toBe(false);
  });

  it("refuses a wrong pickup code", async () => {
    mockCommands({
      fulfilment_detail: () => ({ ...pickFulfilment, status: "ready_for_pickup" }),
      fulfilment_step: () => {
        throw { code: "pickup_code_mismatch", message: "the pickup code does not match" };
      },
    });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    fireEvent.input(await screen.findByTestId("pickup-code"), { target: { value: "000000" } });
    fireEvent.click(screen.getByTestId("hand-over"));
    expect((await screen.findByTestId("step-error")).textContent).toContain("does not match");
  });

  it("opens the label of a packed parcel, then hands it to the carrier", async () => {
    const steps: unknown[] = [];
    const packed = { ...pickFulfilment, handover: false, delivery: "home_delivery" as const, status: "ready_to_ship" as const, tracking: "AIS123" };
    mockCommands({
      fulfilment_detail: () => packed,
      open_label: (args) => ({ path: `/data/labels/${String(args.id)}.pdf`, opened: true }),
      fulfilment_step: (args) => {
        steps.push(args.step);
        return { fulfilment: { ...packed, status: "shipped" }, order_status: "completed", rerouted: [], unservable: [], explanation: [] };
      },
    });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    fireEvent.click(await screen.findByTestId("open-label"));
    expect((await screen.findByTestId("label-path")).textContent).toContain("/data/labels/O-ABCD2345-1.pdf");
    fireEvent.click(screen.getByTestId("ship"));
    expect((await screen.findByTestId("fulfilment-done")).textContent).toContain("Shipped");
    expect(steps).toEqual([{ type: "ship" }]);
  });

  it("receives a parcel shipped to this store, which then waits for its customer", async () => {
    const steps: unknown[] = [];
    const parcel = {
      ...pickFulfilment,
      location: "WH-FR-1",
      location_name: "Warehouse Lyon",
      handover: false,
      delivery: "click_and_collect" as const,
      ship_to: "ST-FR-001",
      ship_to_name: "Aisle Paris Rivoli",
      status: "in_transit_to_store" as const,
      tracking: "AIS123",
    };
    mockCommands({
      fulfilment_detail: () => parcel,
      fulfilment_step: (args) => {
        steps.push(args.step);
        return { fulfilment: { ...parcel, status: "ready_for_pickup" }, order_status: "allocated", rerouted: [], unservable: [], explanation: [] };
      },
    });
    render(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    expect((await screen.findByTestId("ship-to")).textContent).toBe(
      "Click & collect: prepared at Warehouse Lyon, collected at Aisle Paris Rivoli.",
    );
    fireEvent.click(screen.getByTestId("receive-at-store"));
    await waitFor(() => expect(screen.getByTestId("fulfilment").dataset.status).toBe("ready_for_pickup"));
    expect(steps).toEqual([{ type: "receive_at_store" }]);
    expect(screen.getByTestId("pickup-code")).toBeTruthy();
  });

  it("ignores scans of other products", async () => {
    mockCommands({ fulfilment_detail: () => pickFulfilment });
    const { ui, scan } = withScans(<Fulfilment id="O-ABCD2345-1" onBack={noop} />);
    render(ui);
    await screen.findByTestId("pick-list");
    scan("9999999999999");
    expect(await screen.findByText("9999999999999 is not on this pick list.")).toBeTruthy();
    expect(screen.getByTestId("pick-line").textContent).toContain(`0 of 2 picked`);
    expect(lamp.sku).toBe(pickFulfilment.lines[0]?.sku);
  });
});
