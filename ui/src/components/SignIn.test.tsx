import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { mockCommands, offline, pending } from "../test-utils";
import { SignInGate, StaffBadge } from "./SignIn";
import type { SignedInStaff, StaffList } from "../generated/ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

const ines = { id: "STAFF-ST-FR-001-A", name: "Inès Moreau", role: "store_associate", offline_ok: false } as const;
const camille = { id: "STAFF-ST-FR-001-M", name: "Camille Laurent", role: "store_manager", offline_ok: true } as const;
const list = (offlineList = false): StaffList => ({ members: [camille, ines], offline: offlineList });
const signed = (offlineSignIn = false): SignedInStaff => ({ member: ines, offline: offlineSignIn });

function gate(idleMs: number = 10 * 60 * 1000) {
  const langs: string[] = [];
  render(
    <SignInGate setLang={(l) => langs.push(l)} idleMs={idleMs}>
      <div data-testid="app-screens">
        <StaffBadge />
      </div>
    </SignInGate>,
  );
  return langs;
}

function typePin(pin: string) {
  for (const d of pin) fireEvent.click(screen.getByTestId(`pin-key-${d}`));
}

describe("Staff sign-in", () => {
  it("is loading while the staff list comes", async () => {
    mockCommands({ current_staff: () => null, staff_list: pending });
    gate();
    expect(await screen.findByTestId("signin-loading")).toBeTruthy();
    expect(screen.queryByTestId("app-screens")).toBeNull();
  });

  it("says when the store has no staff", async () => {
    mockCommands({ current_staff: () => null, staff_list: () => ({ members: [], offline: false }) });
    gate();
    expect((await screen.findByTestId("signin-empty")).textContent).toContain("No staff are registered");
  });

  it("says when the OMS server cannot be reached", async () => {
    mockCommands({ current_staff: () => null, staff_list: offline });
    gate();
    expect((await screen.findByTestId("signin-error")).dataset.code).toBe("backend_unavailable");
  });

  it("offline, lists the kept staff and only lets recent ones sign in", async () => {
    mockCommands({ current_staff: () => null, staff_list: () => list(true) });
    gate();
    expect(await screen.findByTestId("signin-offline")).toBeTruthy();
    const buttons = screen.getAllByTestId("staff-member") as HTMLButtonElement[];
    expect(buttons.map((b) => [b.dataset.id, b.disabled])).toEqual([
      [camille.id, false],
      [ines.id, true],
    ]);
  });

  it("signs in with the PIN pad; the member shows with a sign-out", async () => {
    const calls: unknown[] = [];
    mockCommands({
      current_staff: () => null,
      staff_list: () => list(),
      staff_sign_in: (args) => {
        calls.push(args);
        return { outcome: "signed_in", staff: signed() };
      },
      staff_sign_out: () => null,
    });
    gate();
    fireEvent.click((await screen.findAllByTestId("staff-member"))[1] as HTMLElement);
    expect(screen.getByTestId("pin-entry").textContent).toContain("PIN for Inès Moreau");
    typePin("4321");
    expect(screen.getByTestId("pin-dots").dataset.length).toBe("4");
    fireEvent.click(screen.getByTestId("pin-submit"));
    expect(await screen.findByTestId("app-screens")).toBeTruthy();
    expect(calls).toEqual([{ staffId: ines.id, pin: "4321" }]);
    expect(screen.getByTestId("staff-name").textContent).toBe("Signed in: Inès Moreau");
    expect(screen.getByTestId("staff-name").title).toBe("Signed in: Inès Moreau");
    fireEvent.click(screen.getByTestId("sign-out"));
    expect(await screen.findByTestId("signin")).toBeTruthy();
  });

  it("takes digits, Backspace and Enter from a keyboard", async () => {
    const pins: string[] = [];
    mockCommands({
      current_staff: () => null,
      staff_list: () => list(),
      staff_sign_in: (args) => {
        pins.push(String(args.pin));
        return { outcome: "wrong_pin", attempts_left: 3 };
      },
    });
    gate();
    fireEvent.click((await screen.findAllByTestId("staff-member"))[0] as HTMLElement);
    for (const key of ["1", "2", "9", "Backspace", "3", "4", "Enter"]) fireEvent.keyDown(document.body, { key });
    const refused = await screen.findByTestId("pin-refused");
    expect(pins).toEqual(["1234"]);
    expect(refused.dataset.code).toBe("wrong_pin");
    expect(refused.textContent).toBe("Wrong PIN. 3 attempt(s) left before a lock-out.");
    expect(screen.getByTestId("pin-dots").dataset.length).toBe("0");
  });

  it("offers the languages, and says how long a locked-out member must wait", async () => {
    mockCommands({
      current_staff: () => null,
      staff_list: () => list(),
      staff_sign_in: () => ({ outcome: "locked_out", minutes: 4 }),
    });
    const langs = gate();
    fireEvent.click(await screen.findByTestId("signin-lang-fr"));
    expect(langs).toEqual(["fr"]);
    fireEvent.click((await screen.findAllByTestId("staff-member"))[1] as HTMLElement);
    typePin("0000");
    fireEvent.click(screen.getByTestId("pin-submit"));
    const refused = await screen.findByTestId("pin-refused");
    expect(refused.dataset.code).toBe("locked_out");
    expect(refused.textContent).toBe("Too many wrong PINs. Try again in 4 minute(s) or ask a manager.");
  });

  it("refuses an offline sign-in for someone not recently signed in here", async () => {
    mockCommands({
      current_staff: () => null,
      staff_list: () => list(),
      staff_sign_in: () => ({ outcome: "offline_not_allowed" }),
    });
    gate();
    fireEvent.click((await screen.findAllByTestId("staff-member"))[1] as HTMLElement);
    typePin("4321");
    fireEvent.click(screen.getByTestId("pin-submit"));
    expect((await screen.findByTestId("pin-refused")).textContent).toContain("Inès Moreau has not signed in on this device");
  });

  it("keeps a member signed in across a reload, and signs out when idle", async () => {
    let signedOut = 0;
    mockCommands({
      current_staff: () => signed(true),
      staff_list: () => list(),
      staff_sign_out: () => {
        signedOut += 1;
        return null;
      },
    });
    gate(60);
    expect(await screen.findByTestId("app-screens")).toBeTruthy();
    expect(screen.getByTestId("staff-badge").textContent).toContain("offline sign-in");
    expect(await screen.findByTestId("signin", undefined, { timeout: 3000 })).toBeTruthy();
    await waitFor(() => expect(signedOut).toBe(1));
  });
});
