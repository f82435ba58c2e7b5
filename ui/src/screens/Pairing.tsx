// The pairing gate: on first start (or when the kept pairing no longer
// works) the device chooses its OMS server: the built-in demo server, or a
// central server with a pairing code from a manager. Once paired (or while
// the embedded server starts) it shows the app. A command answering
// `not_paired` later (token revoked on the server) brings this screen back.
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { NOT_PAIRED_EVENT, chooseEmbeddedServer, forgetDevice, pairDevice, pairingState } from "../ipc";
import { I18nContext, LANGS, makeI18n, useI18n, type Key } from "../i18n";
import type { AppError, Lang, PairingState } from "../generated/ipc";
import { Loading } from "../components/common";

function savedLang(): Lang {
  try {
    const saved = localStorage.getItem("aisle.lang");
    if (saved === "en" || saved === "fr" || saved === "de") return saved;
  } catch {
    // No storage: English.
  }
  return "en";
}

/** Client-side check of a server address, mirroring the app's (which has
 *  the last word): the i18n key of the problem, or undefined. */
export function serverUrlProblem(text: string): Key | undefined {
  const value = text.trim();
  if (!value) return "pair.urlEmpty";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "pair.urlInvalid";
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return "pair.urlInvalid";
  if (url.username || url.password || url.search || url.hash) return "pair.urlInvalid";
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const loopback = host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol === "http:" && !loopback) return "pair.urlHttps";
  return undefined;
}

type Gate = { kind: "checking" } | { kind: "pairing"; state: PairingState } | { kind: "open" } | { kind: "revoked"; error: AppError };

export function Pairing({ children }: { children: ComponentChildren }) {
  const [gate, setGate] = useState<Gate>({ kind: "checking" });
  // Only a central device can be revoked (read by the listener below).
  const central = useRef(false);
  useEffect(() => {
    let stop = false;
    pairingState().then(
      (state) => {
        if (stop) return;
        central.current = state.mode === "central";
        setGate(state.phase === "needs_pairing" ? { kind: "pairing", state } : { kind: "open" });
      },
      // Unknown: let the app show its own errors.
      () => !stop && setGate({ kind: "open" }),
    );
    return () => {
      stop = true;
    };
  }, []);
  useEffect(() => {
    const onNotPaired = (event: Event) => {
      if (!central.current) return;
      setGate({ kind: "revoked", error: (event as CustomEvent<AppError>).detail });
    };
    window.addEventListener(NOT_PAIRED_EVENT, onNotPaired);
    return () => window.removeEventListener(NOT_PAIRED_EVENT, onNotPaired);
  }, []);
  if (gate.kind === "open") return <>{children}</>;
  return (
    <Localised>
      {gate.kind === "checking" && <Loading testId="pairing-checking" />}
      {gate.kind === "pairing" && (
        <PairingScreen
          state={gate.state}
          onDone={(mode) => {
            central.current = mode === "central";
            setGate({ kind: "open" });
          }}
        />
      )}
      {gate.kind === "revoked" && <Revoked />}
    </Localised>
  );
}

/** The gate's own language context (the app's is inside the gate). */
function Localised({ children }: { children: ComponentChildren }) {
  const [lang, setLang] = useState<Lang>(savedLang);
  const i18n = useMemo(() => makeI18n(lang), [lang]);
  const choose = (next: Lang) => {
    setLang(next);
    document.documentElement.lang = next;
    try {
      localStorage.setItem("aisle.lang", next);
    } catch {
      // Not kept: fine.
    }
  };
  return (
    <I18nContext.Provider value={i18n}>
      <div class="app pairing-app">
        <header class="topbar">
          <span class="brand">Aisle</span>
          <span class="store" />
          <label class="lang">
            <span class="visually-hidden">{i18n.t("lang.label")}</span>
            <select data-testid="pairing-lang" value={lang} onChange={(event) => choose(event.currentTarget.value as Lang)}>
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {l.toUpperCase()}
                </option>
              ))}
            </select>
          </label>
        </header>
        <main class="content">{children}</main>
      </div>
    </I18nContext.Provider>
  );
}

function Revoked() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  return (
    <section aria-labelledby="revoked-title" data-testid="pairing-revoked">
      <h1 id="revoked-title">{t("pair.title")}</h1>
      <div class="error-box" role="alert">
        <p>{t("pair.revoked")}</p>
      </div>
      <button
        type="button"
        data-testid="pairing-again"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          // The app restarts on the pairing screen.
          forgetDevice().catch(() => setBusy(false));
        }}
      >
        {t("pair.again")}
      </button>
    </section>
  );
}

type Attempt = { kind: "idle" } | { kind: "busy" } | { kind: "problem"; key: Key; detail?: string };

/** What the associate reads for a failed pairing. */
function problemOf(error: AppError): { key: Key; detail?: string } {
  switch (error.code) {
    case "no_keyring":
      return { key: "pair.noKeyring" };
    case "backend_unavailable":
      return { key: "pair.unreachable", detail: error.message };
    case "forbidden":
      // The code is the credential, and the server refused it.
      return { key: "pair.wrongCode" };
    default:
      return { key: `error.${error.code}` as Key, detail: error.message };
  }
}

export function PairingScreen({ state, onDone }: { state: PairingState; onDone: (mode: "central" | "embedded") => void }) {
  const { t } = useI18n();
  const [url, setUrl] = useState(state.server_url ?? "");
  const [code, setCode] = useState("");
  const [label, setLabel] = useState(() => t("pair.labelDefault"));
  const [attempt, setAttempt] = useState<Attempt>({ kind: "idle" });
  const busy = attempt.kind === "busy";

  const pair = (event: Event) => {
    event.preventDefault();
    const urlProblem = serverUrlProblem(url);
    if (urlProblem) return setAttempt({ kind: "problem", key: urlProblem });
    if (!code.trim()) return setAttempt({ kind: "problem", key: "pair.codeEmpty" });
    if (!label.trim()) return setAttempt({ kind: "problem", key: "pair.labelEmpty" });
    setAttempt({ kind: "busy" });
    pairDevice({ server_url: url.trim(), code: code.trim(), device_label: label.trim() }).then(
      () => onDone("central"),
      (error: AppError) => setAttempt({ kind: "problem", ...problemOf(error) }),
    );
  };
  const embedded = () => {
    setAttempt({ kind: "busy" });
    chooseEmbeddedServer().then(
      () => onDone("embedded"),
      (error: AppError) => setAttempt({ kind: "problem", ...problemOf(error) }),
    );
  };

  return (
    <section aria-labelledby="pairing-title" data-testid="pairing">
      <h1 id="pairing-title">{t("pair.title")}</h1>
      <p class="muted">{t("pair.intro")}</p>
      {(state.reason || state.message) && (
        <div class="error-box" role="alert" data-testid="pairing-reason" data-reason={state.reason ?? undefined}>
          <p>{state.reason ? t(`pair.reason.${state.reason}`) : state.message}</p>
        </div>
      )}
      <div class="cards">
        <form class="card pairing-choice" onSubmit={pair} aria-labelledby="pair-central-title" noValidate>
          <h2 id="pair-central-title">{t("pair.central.title")}</h2>
          <p class="muted">{t("pair.central.text")}</p>
          <div class="pairing-fields">
            <label>
              {t("pair.url")}
              <input
                data-testid="pairing-url"
                type="url"
                inputMode="url"
                autoComplete="url"
                placeholder="https://oms.example.com"
                maxLength={300}
                value={url}
                disabled={busy}
                onInput={(event) => setUrl(event.currentTarget.value)}
              />
            </label>
            <label>
              {t("pair.code")}
              <input
                data-testid="pairing-code"
                autoComplete="one-time-code"
                autoCapitalize="characters"
                spellcheck={false}
                maxLength={64}
                value={code}
                disabled={busy}
                onInput={(event) => setCode(event.currentTarget.value)}
              />
            </label>
            <label>
              {t("pair.label")}
              <input
                data-testid="pairing-label"
                maxLength={100}
                value={label}
                disabled={busy}
                onInput={(event) => setLabel(event.currentTarget.value)}
              />
            </label>
          </div>
          <button type="submit" data-testid="pairing-submit" disabled={busy}>
            {busy ? t("pair.pairing") : t("pair.submit")}
          </button>
        </form>
        <div class="card pairing-choice">
          <h2>{t("pair.embedded.title")}</h2>
          <p class="muted">{t("pair.embedded.text")}</p>
          <button type="button" class="secondary" data-testid="pairing-embedded" disabled={busy} onClick={embedded}>
            {t("pair.embedded.button")}
          </button>
        </div>
      </div>
      {busy && (
        <p class="muted" role="status" aria-live="polite" data-testid="pairing-busy">
          {t("pair.pairing")}
        </p>
      )}
      {attempt.kind === "problem" && (
        <div class="error-box" role="alert" data-testid="pairing-error" data-key={attempt.key}>
          <p>{t(attempt.key, { message: attempt.detail ?? "" })}</p>
          {attempt.detail && attempt.key === "pair.unreachable" && <p class="muted">{attempt.detail}</p>}
        </div>
      )}
    </section>
  );
}
