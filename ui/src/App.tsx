// The shell: top bar (store, navigation, language, scan field), the current
// screen, and the sync status bar. Navigation is a small state machine; the
// cart lives here so it survives moving between screens.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { appInfo, searchProducts } from "./ipc";
import { I18nContext, LANGS, makeI18n } from "./i18n";
import { ScanContext, type ScanHandler, type ScanRegistry, useWedgeScanner } from "./scan";
import type { AppInfo, Lang, ProductSummary } from "./generated/ipc";
import { Search } from "./screens/Search";
import { Product } from "./screens/Product";
import { Cart, type CartLine } from "./screens/Cart";
import { Queue } from "./screens/Queue";
import { Fulfilment } from "./screens/Fulfilment";
import { Orders } from "./screens/Orders";
import { OrderView } from "./screens/OrderView";
import { StatusBar } from "./components/StatusBar";
import { SignInGate, StaffBadge } from "./components/SignIn";

export type Route =
  | { name: "search"; query?: string }
  | { name: "product"; sku: string }
  | { name: "cart" }
  | { name: "queue" }
  | { name: "fulfilment"; id: string }
  | { name: "orders" }
  | { name: "order"; id: string };

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem("aisle.lang");
    if (saved === "en" || saved === "fr" || saved === "de") return saved;
  } catch {
    // No storage: English.
  }
  return "en";
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const i18n = useMemo(() => makeI18n(lang), [lang]);
  const { t } = i18n;
  const [route, setRoute] = useState<Route>({ name: "search" });
  const [info, setInfo] = useState<AppInfo | undefined>();
  const [cart, setCart] = useState<CartLine[]>([]);
  const [scanText, setScanText] = useState("");

  useEffect(() => {
    document.documentElement.lang = lang;
    try {
      localStorage.setItem("aisle.lang", lang);
    } catch {
      // Not kept: fine.
    }
  }, [lang]);

  useEffect(() => {
    let stop = false;
    const load = (attempt: number) => {
      appInfo().then(
        (found) => !stop && setInfo(found),
        () => {
          if (!stop) setTimeout(() => load(attempt + 1), Math.min(5000, 500 * (attempt + 1)));
        },
      );
    };
    load(0);
    return () => {
      stop = true;
    };
  }, []);

  // Screens claim scans first (the pick list); otherwise open the product.
  const handlers = useRef<ScanHandler[]>([]);
  const registry = useMemo<ScanRegistry>(
    () => ({
      push(handler) {
        handlers.current.push(handler);
        return () => {
          handlers.current = handlers.current.filter((h) => h !== handler);
        };
      },
    }),
    [],
  );
  const onScan = (raw: string) => {
    const code = raw.trim();
    if (!code) return;
    for (const handler of [...handlers.current].reverse()) {
      if (handler(code)) return;
    }
    searchProducts(code).then(
      (page) => {
        const only = page.items.length === 1 ? page.items[0] : undefined;
        setRoute(only ? { name: "product", sku: only.sku } : { name: "search", query: code });
      },
      () => setRoute({ name: "search", query: code }),
    );
  };
  useWedgeScanner(onScan);

  const addToCart = (product: ProductSummary, quantity: number) => {
    setCart((lines) => {
      const existing = lines.find((l) => l.product.sku === product.sku);
      if (existing) {
        return lines.map((l) => (l === existing ? { ...l, quantity: Math.min(999, l.quantity + quantity) } : l));
      }
      return [...lines, { product, quantity }];
    });
  };

  const tabs: { route: Route; label: string; id: string }[] = [
    { route: { name: "search" }, label: t("nav.search"), id: "search" },
    { route: { name: "cart" }, label: `${t("nav.cart")}${cart.length ? ` (${cart.reduce((n, l) => n + l.quantity, 0)})` : ""}`, id: "cart" },
    { route: { name: "queue" }, label: t("nav.queue"), id: "queue" },
    { route: { name: "orders" }, label: t("nav.orders"), id: "orders" },
  ];
  const section = (r: Route) =>
    r.name === "product" ? "search" : r.name === "fulfilment" ? "queue" : r.name === "order" ? "orders" : r.name;

  return (
    <I18nContext.Provider value={i18n}>
      <ScanContext.Provider value={registry}>
        <SignInGate setLang={setLang}>
        <div class="app">
          <header class="topbar">
            <span class="brand">Aisle</span>
            <span class="store" data-testid="store-name">
              {info ? info.store.name : t("store.loading")}
            </span>
            <nav class="tabs" aria-label="sections">
              {tabs.map((tab) => (
                <button
                  type="button"
                  key={tab.id}
                  class={section(route) === tab.id ? "tab active" : "tab"}
                  aria-current={section(route) === tab.id ? "page" : undefined}
                  data-testid={`nav-${tab.id}`}
                  onClick={() => setRoute(tab.route)}
                >
                  {tab.label}
                </button>
              ))}
            </nav>
            <form
              class="scan"
              onSubmit={(event) => {
                event.preventDefault();
                onScan(scanText);
                setScanText("");
              }}
            >
              <label>
                <span class="visually-hidden">{t("scan.label")}</span>
                <input
                  data-testid="scan-input"
                  placeholder={t("scan.placeholder")}
                  value={scanText}
                  autoComplete="off"
                  maxLength={200}
                  onInput={(event) => setScanText(event.currentTarget.value)}
                />
              </label>
            </form>
            <label class="lang">
              <span class="visually-hidden">{t("lang.label")}</span>
              <select
                data-testid="lang-select"
                value={lang}
                onChange={(event) => setLang(event.currentTarget.value as Lang)}
              >
                {LANGS.map((l) => (
                  <option key={l} value={l}>
                    {l.toUpperCase()}
                  </option>
                ))}
              </select>
            </label>
            <StaffBadge />
          </header>
          <main class="content">
            {route.name === "search" && (
              <Search initialQuery={route.query ?? ""} onOpen={(sku) => setRoute({ name: "product", sku })} />
            )}
            {route.name === "product" && (
              <Product sku={route.sku} onAdd={addToCart} onBack={() => setRoute({ name: "search" })} />
            )}
            {route.name === "cart" && (
              <Cart
                lines={cart}
                setLines={setCart}
                stores={info?.stores ?? []}
                onOpenOrder={(id) => setRoute({ name: "order", id })}
              />
            )}
            {route.name === "queue" && <Queue onOpen={(id) => setRoute({ name: "fulfilment", id })} />}
            {route.name === "fulfilment" && <Fulfilment id={route.id} onBack={() => setRoute({ name: "queue" })} />}
            {route.name === "orders" && <Orders onOpen={(id) => setRoute({ name: "order", id })} />}
            {route.name === "order" && <OrderView id={route.id} onBack={() => setRoute({ name: "orders" })} />}
          </main>
          <StatusBar />
        </div>
        </SignInGate>
      </ScanContext.Provider>
    </I18nContext.Provider>
  );
}
