import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { clearMocks } from "@tauri-apps/api/mocks";
import { useState } from "preact/hooks";
import { afterEach, describe, expect, it } from "vitest";
import type { CustomerHit, NewCustomerInput } from "../generated/ipc";
import { mockCommands, offline, pending } from "../test-utils";
import { CustomerPicker } from "./CustomerPicker";

afterEach(() => {
  cleanup();
  clearMocks();
});

const ana: CustomerHit = { id: "C-7KQ2MX9A", name: "Ana Martin", email: "ana@example.com", phone: "+33612345678", language: "fr" };

function Harness({ picked }: { picked?: (c: CustomerHit | null) => void }) {
  const [chosen, setChosen] = useState<CustomerHit | null>(null);
  return (
    <CustomerPicker
      chosen={chosen}
      defaultLang="en"
      onPick={(c) => {
        setChosen(c);
        picked?.(c);
      }}
    />
  );
}

function type(text: string) {
  fireEvent.input(screen.getByTestId("customer-search"), { target: { value: text } });
}

describe("Customer picker", () => {
  it("searches only from two characters, and shows it is searching", async () => {
    const asked: string[] = [];
    mockCommands({
      search_customers: (args) => {
        asked.push(args.query as string);
        return pending();
      },
    });
    render(<Harness />);
    type("a");
    expect(screen.queryByTestId("customer-searching")).toBeNull();
    type("an");
    expect(await screen.findByTestId("customer-searching")).toBeTruthy();
    await new Promise((r) => setTimeout(r, 300));
    expect(asked).toEqual(["an"]);
  });

  it("lists the customers found and picks one", async () => {
    let picked: CustomerHit | null = null;
    mockCommands({ search_customers: () => [ana] });
    render(<Harness picked={(c) => (picked = c)} />);
    type("mart");
    const hit = await screen.findByTestId("customer-hit");
    expect(hit.textContent).toContain("Ana Martin");
    expect(hit.textContent).toContain("ana@example.com");
    fireEvent.click(hit);
    expect(picked).toEqual(ana);
    expect(screen.getByTestId("customer-chosen").dataset.customerId).toBe("C-7KQ2MX9A");
    fireEvent.click(screen.getByTestId("customer-change"));
    expect(picked).toBeNull();
    expect(screen.getByTestId("customer-search")).toBeTruthy();
  });

  it("says when nobody matches", async () => {
    mockCommands({ search_customers: () => [] });
    render(<Harness />);
    type("zz");
    expect((await screen.findByTestId("customer-none")).textContent).toBe("No customer found.");
  });

  it("offline, says to enter the details for this order only", async () => {
    mockCommands({ search_customers: offline });
    render(<Harness />);
    type("ana");
    expect((await screen.findByTestId("customer-offline")).textContent).toContain("they go with this order only");
  });

  it("shows other errors", async () => {
    mockCommands({
      search_customers: () => {
        throw { code: "invalid_input", message: "Type at least two characters." };
      },
    });
    render(<Harness />);
    type("ab");
    expect((await screen.findByTestId("customer-search-error")).dataset.code).toBe("invalid_input");
  });

  it("creates a new customer from what was typed", async () => {
    const sent: NewCustomerInput[] = [];
    let picked: CustomerHit | null = null;
    mockCommands({
      search_customers: () => [],
      create_customer: (args) => {
        sent.push(args.customer as NewCustomerInput);
        return { customer: { ...ana, name: "Zoé Roux", id: "C-NEW00001", email: "zoe@example.com", phone: null, language: "en" }, existing: false };
      },
    });
    render(<Harness picked={(c) => (picked = c)} />);
    type("zoe@example.com");
    fireEvent.click(screen.getByTestId("customer-new"));
    expect((screen.getByTestId("new-customer-email") as HTMLInputElement).value).toBe("zoe@example.com");
    fireEvent.click(screen.getByTestId("customer-save"));
    expect(screen.getByTestId("customer-problem").textContent).toBe("Enter the customer's name.");
    fireEvent.input(screen.getByTestId("new-customer-name"), { target: { value: "Zoé Roux" } });
    fireEvent.click(screen.getByTestId("customer-save"));
    expect(await screen.findByTestId("customer-chosen")).toBeTruthy();
    expect(sent).toEqual([{ name: "Zoé Roux", email: "zoe@example.com", phone: null, language: "en" }]);
    expect(picked).toMatchObject({ id: "C-NEW00001" });
    expect(screen.queryByTestId("customer-existing")).toBeNull();
  });

  it("picks the registered customer when the e-mail address exists", async () => {
    mockCommands({ create_customer: () => ({ customer: ana, existing: true }) });
    render(<Harness />);
    fireEvent.click(screen.getByTestId("customer-new"));
    fireEvent.input(screen.getByTestId("new-customer-name"), { target: { value: "A. Martin" } });
    fireEvent.input(screen.getByTestId("new-customer-email"), { target: { value: "ANA@example.com" } });
    fireEvent.click(screen.getByTestId("customer-save"));
    expect((await screen.findByTestId("customer-existing")).textContent).toContain("Ana Martin was chosen");
    expect(screen.getByTestId("customer-chosen").dataset.customerId).toBe(ana.id);
  });

  it("cannot save a customer offline, and says why", async () => {
    mockCommands({ create_customer: offline });
    render(<Harness />);
    fireEvent.click(screen.getByTestId("customer-new"));
    fireEvent.input(screen.getByTestId("new-customer-name"), { target: { value: "Bob" } });
    fireEvent.input(screen.getByTestId("new-customer-phone"), { target: { value: "0612345678" } });
    fireEvent.click(screen.getByTestId("customer-save"));
    expect(await screen.findByTestId("customer-offline")).toBeTruthy();
    expect(screen.queryByTestId("customer-chosen")).toBeNull();
  });
});
