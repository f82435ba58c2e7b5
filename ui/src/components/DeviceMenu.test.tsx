import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { mockCommands, pending } from "../test-utils";
import { DeviceMenu } from "./DeviceMenu";

afterEach(() => {
  cleanup();
  clearMocks();
});

const central = { phase: "ready", reason: null, message: null, server_url: "https://oms.example.com", mode: "central" };

describe("This device", () => {
  it("shows the server, and forgets the device after a confirmation that counts what would be lost", async () => {
    let forgot = 0;
    mockCommands({
      pairing_state: () => central,
      forget_device: () => {
        forgot += 1;
        return pending();
      },
    });
    render(<DeviceMenu pending={2} />);
    expect(screen.queryByTestId("device-panel")).toBeNull();
    fireEvent.click(screen.getByTestId("device-menu"));
    expect((await screen.findByText("Server https://oms.example.com")).dataset.testid).toBe("device-server");
    fireEvent.click(screen.getByTestId("device-forget"));
    expect(screen.getByTestId("device-forget-pending").textContent).toBe("2 actions are not sent yet and will be lost.");
    expect(forgot).toBe(0);
    fireEvent.click(screen.getByTestId("device-forget-yes"));
    await new Promise((r) => setTimeout(r, 10));
    expect(forgot).toBe(1);
    expect((screen.getByTestId("device-forget-yes") as HTMLButtonElement).disabled).toBe(true);
  });

  it("says the built-in server, and shows why forgetting failed", async () => {
    mockCommands({
      pairing_state: () => ({ phase: "ready", reason: null, message: null, server_url: null, mode: "embedded" }),
      forget_device: () => {
        throw { code: "internal", message: "cannot delete cache.sqlite" };
      },
    });
    render(<DeviceMenu pending={0} />);
    fireEvent.click(screen.getByTestId("device-menu"));
    expect((await screen.findByTestId("device-server")).textContent).toBe("Built-in demo server");
    fireEvent.click(screen.getByTestId("device-forget"));
    expect(screen.queryByTestId("device-forget-pending")).toBeNull();
    fireEvent.click(screen.getByTestId("device-forget-yes"));
    expect((await screen.findByTestId("device-error")).textContent).toContain("cannot delete");
  });
});
