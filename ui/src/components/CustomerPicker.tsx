// Find or create the customer at the checkout: type to search the core's
// customer register, pick a result, or save a new customer (an e-mail
// address already registered picks that customer instead). Offline the
// register cannot be reached: the Cart's own fields take the details for
// that order only, and this says so.
import { useEffect, useRef, useState } from "preact/hooks";
import { createCustomer, searchCustomers } from "../ipc";
import { LANGS, useI18n } from "../i18n";
import type { AppError, CustomerHit, Lang } from "../generated/ipc";
import { ErrorMessage } from "./common";

/** Wait this long after the last keystroke before searching. */
const DEBOUNCE_MS = 250;

type Search =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "ready"; hits: CustomerHit[] }
  | { kind: "error"; error: AppError };

function contact(hit: CustomerHit): string {
  return [hit.email, hit.phone].filter(Boolean).join(" · ");
}

export function CustomerPicker({
  chosen,
  onPick,
  defaultLang,
}: {
  chosen: CustomerHit | null;
  onPick: (customer: CustomerHit | null) => void;
  defaultLang: Lang;
}) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState<Search>({ kind: "idle" });
  const [creating, setCreating] = useState(false);
  const [existingNote, setExistingNote] = useState<string | undefined>();
  const latest = useRef(0);

  useEffect(() => {
    const q = query.trim();
    if (chosen || q.length < 2) {
      setSearch({ kind: "idle" });
      return undefined;
    }
    const ticket = ++latest.current;
    setSearch({ kind: "loading" });
    const timer = setTimeout(() => {
      searchCustomers(q).then(
        (hits) => {
          if (ticket === latest.current) setSearch({ kind: "ready", hits });
        },
        (error: AppError) => {
          if (ticket === latest.current) setSearch({ kind: "error", error });
        },
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, chosen]);

  if (chosen) {
    return (
      <div class="customer-chosen" data-testid="customer-chosen" data-customer-id={chosen.id}>
        <p>
          <strong>{t("customer.chosen", { name: chosen.name })}</strong>
          <span class="muted"> · {t("customer.linked")}</span>
        </p>
        {contact(chosen) && <p class="muted">{contact(chosen)}</p>}
        {existingNote && (
          <p class="muted" role="status" data-testid="customer-existing">
            {existingNote}
          </p>
        )}
        <button
          type="button"
          class="secondary"
          data-testid="customer-change"
          onClick={() => {
            setExistingNote(undefined);
            onPick(null);
          }}
        >
          {t("customer.change")}
        </button>
      </div>
    );
  }

  const offline = search.kind === "error" && search.error.code === "backend_unavailable";
  return (
    <div class="customer-picker">
      <div class="row">
        <label class="grow">
          {t("customer.find")}
          <input
            type="search"
            data-testid="customer-search"
            value={query}
            maxLength={200}
            placeholder={t("customer.findPlaceholder")}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </label>
        {!creating && (
          <button type="button" class="secondary" data-testid="customer-new" onClick={() => setCreating(true)}>
            {t("customer.new")}
          </button>
        )}
      </div>
      <div aria-live="polite">
        {search.kind === "loading" && (
          <p class="muted" role="status" data-testid="customer-searching">
            {t("customer.searching")}
          </p>
        )}
        {search.kind === "ready" && search.hits.length === 0 && (
          <p class="muted" data-testid="customer-none">
            {t("customer.none")}
          </p>
        )}
        {search.kind === "ready" && search.hits.length > 0 && (
          <ul class="plain customer-hits">
            {search.hits.map((hit) => (
              <li key={hit.id}>
                <button
                  type="button"
                  class="secondary hit"
                  data-testid="customer-hit"
                  aria-label={t("customer.pick", { name: hit.name })}
                  onClick={() => {
                    setQuery("");
                    onPick(hit);
                  }}
                >
                  <strong>{hit.name}</strong>
                  {contact(hit) && <span class="muted"> · {contact(hit)}</span>}
                </button>
              </li>
            ))}
          </ul>
        )}
        {offline && (
          <p class="offline-note" role="status" data-testid="customer-offline">
            {t("customer.offline")}
          </p>
        )}
        {search.kind === "error" && !offline && <ErrorMessage error={search.error} testId="customer-search-error" />}
      </div>
      {creating && (
        <NewCustomerForm
          seed={query.trim()}
          defaultLang={defaultLang}
          onCancel={() => setCreating(false)}
          onSaved={(customer, existing) => {
            setCreating(false);
            setQuery("");
            setExistingNote(existing ? t("customer.existing", { name: customer.name }) : undefined);
            onPick(customer);
          }}
        />
      )}
    </div>
  );
}

/** What was typed in the search, put in the field it looks like. */
function seedFields(seed: string): { name: string; email: string; phone: string } {
  if (seed.includes("@")) return { name: "", email: seed, phone: "" };
  if (/^[+\d][\d\s.()-]*$/.test(seed)) return { name: "", email: "", phone: seed };
  return { name: seed, email: "", phone: "" };
}

function NewCustomerForm({
  seed,
  defaultLang,
  onCancel,
  onSaved,
}: {
  seed: string;
  defaultLang: Lang;
  onCancel: () => void;
  onSaved: (customer: CustomerHit, existing: boolean) => void;
}) {
  const { t } = useI18n();
  const initial = seedFields(seed);
  const [name, setName] = useState(initial.name);
  const [email, setEmail] = useState(initial.email);
  const [phone, setPhone] = useState(initial.phone);
  const [language, setLanguage] = useState<Lang>(defaultLang);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [failure, setFailure] = useState<AppError | undefined>();

  const save = (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    setFailure(undefined);
    if (!name.trim()) return setProblem(t("cart.nameNeeded"));
    if (!email.trim() && !phone.trim()) return setProblem(t("cart.contactNeeded"));
    setSaving(true);
    createCustomer({ name: name.trim(), email: email.trim() || null, phone: phone.trim() || null, language }).then(
      (saved) => {
        setSaving(false);
        onSaved(saved.customer, saved.existing);
      },
      (error: AppError) => {
        setSaving(false);
        setFailure(error);
      },
    );
  };

  return (
    <form class="new-customer" data-testid="customer-form" onSubmit={save}>
      <div class="row">
        <label>
          {t("cart.name")}
          <input data-testid="new-customer-name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          {t("cart.email")}
          <input type="email" data-testid="new-customer-email" value={email} maxLength={200} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          {t("cart.phone")}
          <input type="tel" data-testid="new-customer-phone" value={phone} maxLength={40} onInput={(e) => setPhone(e.currentTarget.value)} />
        </label>
        <label>
          {t("cart.language")}
          <select value={language} onChange={(e) => setLanguage(e.currentTarget.value as Lang)}>
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {l.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="row">
        <button type="submit" data-testid="customer-save" disabled={saving}>
          {saving ? t("customer.saving") : t("customer.save")}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          {t("customer.cancel")}
        </button>
      </div>
      {problem && (
        <p class="error" role="alert" data-testid="customer-problem">
          {problem}
        </p>
      )}
      {failure?.code === "backend_unavailable" && (
        <p class="offline-note" role="alert" data-testid="customer-offline">
          {t("customer.offline")}
        </p>
      )}
      {failure && failure.code !== "backend_unavailable" && <ErrorMessage error={failure} testId="customer-save-error" />}
    </form>
  );
}
