// The staff sign-in gate: until a member of this store's staff signs in with
// their PIN (checked by the OMS core through this device's token), the app
// shows the store's staff and a PIN pad instead of its screens. After a sign
// out, or IDLE_MS without a touch or key, it comes back. The signed-in
// member is given to the shell through StaffContext (top bar, sign out).
import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { currentStaff, staffList, staffSignIn, staffSignOut } from "../ipc";
import { LANGS, useI18n } from "../i18n";
import { useScanHandler } from "../scan";
import type { AppError, Lang, SignedInStaff, StaffList, StaffMemberView } from "../generated/ipc";
import { ErrorMessage, Loading } from "./common";

/** Signed out after this long without a touch or a key (10 minutes). */
export const IDLE_MS = 10 * 60 * 1000;

export interface StaffState {
  staff: SignedInStaff | undefined;
  signOut: () => void;
}

export const StaffContext = createContext<StaffState>({ staff: undefined, signOut: () => undefined });

export function useStaff(): StaffState {
  return useContext(StaffContext);
}

/** The signed-in member and the sign-out button, for the top bar. */
export function StaffBadge() {
  const { t } = useI18n();
  const { staff, signOut } = useStaff();
  if (!staff) return null;
  return (
    <span class="staff-badge" data-testid="staff-badge">
      <span data-testid="staff-name" title={t("signin.signedIn", { name: staff.member.name })}>
        <span class="visually-hidden">{t("signin.signedIn", { name: "" })}</span>
        {staff.member.name}
      </span>
      {staff.offline && <span class="muted"> · {t("signin.offlineBadge")}</span>}
      <button type="button" class="secondary" data-testid="sign-out" onClick={signOut}>
        {t("signin.signOut")}
      </button>
    </span>
  );
}

export function SignInGate({
  children,
  setLang,
  idleMs = IDLE_MS,
}: {
  children: ComponentChildren;
  setLang: (lang: Lang) => void;
  idleMs?: number;
}) {
  const [staff, setStaff] = useState<SignedInStaff | undefined>();
  const [checked, setChecked] = useState(false);

  useEffect(() => {
    currentStaff().then(
      (found) => {
        setStaff(found ?? undefined);
        setChecked(true);
      },
      () => setChecked(true),
    );
  }, []);

  const signOut = useCallback(() => {
    setStaff(undefined);
    staffSignOut().catch(() => undefined);
  }, []);

  // Idle timeout while signed in: any touch, click or key counts as activity.
  useEffect(() => {
    if (!staff) return;
    let last = Date.now();
    const touch = () => {
      last = Date.now();
    };
    const events = ["pointerdown", "keydown", "wheel"] as const;
    for (const e of events) document.addEventListener(e, touch, true);
    const timer = setInterval(() => {
      if (Date.now() - last >= idleMs) signOut();
    }, Math.min(15_000, Math.max(50, idleMs / 4)));
    return () => {
      for (const e of events) document.removeEventListener(e, touch, true);
      clearInterval(timer);
    };
  }, [staff, idleMs, signOut]);

  const value = useMemo(() => ({ staff, signOut }), [staff, signOut]);
  if (!checked) return <Loading testId="signin-checking" />;
  if (!staff) return <SignIn setLang={setLang} onSignedIn={setStaff} />;
  return <StaffContext.Provider value={value}>{children}</StaffContext.Provider>;
}

type ListState = { kind: "loading" } | { kind: "ready"; list: StaffList } | { kind: "error"; error: AppError };

/** The sign-in screen: staff, PIN pad, language. */
export function SignIn({ setLang, onSignedIn }: { setLang: (lang: Lang) => void; onSignedIn: (staff: SignedInStaff) => void }) {
  const { t, lang } = useI18n();
  const [state, setState] = useState<ListState>({ kind: "loading" });
  const [attempt, setAttempt] = useState(0);
  const [chosen, setChosen] = useState<StaffMemberView | undefined>();

  useEffect(() => {
    let stale = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    staffList().then(
      (list) => !stale && setState({ kind: "ready", list }),
      (error: AppError) => {
        if (stale) return;
        setState({ kind: "error", error });
        // The core may still be starting (first run seeds the demo): retry.
        // Soon: at a restart the device is ready a few hundred ms after the
        // window, and a 1 s wait was most of the cold start (BENCHMARKS.md).
        if (error.code === "backend_starting") timer = setTimeout(() => setAttempt((n) => n + 1), 150);
      },
    );
    return () => {
      stale = true;
      if (timer) clearTimeout(timer);
    };
  }, [attempt]);

  // Scans are not products here: nobody is signed in.
  useScanHandler(() => true);

  return (
    <main class="signin" aria-labelledby="signin-title" data-testid="signin">
      <div class="row spread">
        <h1 id="signin-title">{t("signin.title")}</h1>
        <div class="choices" role="group" aria-label={t("lang.label")}>
          {LANGS.map((l) => (
            <button
              type="button"
              key={l}
              class={l === lang ? "secondary lang-choice active" : "secondary lang-choice"}
              aria-pressed={l === lang}
              data-testid={`signin-lang-${l}`}
              onClick={() => setLang(l)}
            >
              {l.toUpperCase()}
            </button>
          ))}
        </div>
      </div>
      {state.kind === "loading" && <Loading testId="signin-loading" />}
      {state.kind === "error" && (
        <ErrorMessage error={state.error} testId="signin-error" onRetry={() => setAttempt((n) => n + 1)} />
      )}
      {state.kind === "ready" && state.list.members.length === 0 && (
        <p class="muted" data-testid="signin-empty">
          {t("signin.empty")}
        </p>
      )}
      {state.kind === "ready" && state.list.members.length > 0 && (
        <>
          {state.list.offline && (
            <p class="error-box offline" role="status" data-testid="signin-offline">
              {t("signin.offlineList")}
            </p>
          )}
          {!chosen && <p class="muted">{t("signin.intro")}</p>}
          {!chosen && (
            <ul class="staff-list" data-testid="staff-list">
              {state.list.members.map((m) => (
                <li key={m.id}>
                  <button
                    type="button"
                    class="result staff-member"
                    data-testid="staff-member"
                    data-id={m.id}
                    disabled={state.list.offline && !m.offline_ok}
                    onClick={() => setChosen(m)}
                  >
                    <span class="result-name">{m.name}</span>
                    <span class="result-meta">{m.role === "store_manager" ? t("signin.manager") : t("signin.associate")}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {chosen && (
            <PinEntry
              title={t("signin.pinFor", { name: chosen.name })}
              submitLabel={t("signin.ok")}
              onCancel={() => setChosen(undefined)}
              cancelLabel={t("signin.other")}
              submit={(pin) =>
                staffSignIn(chosen.id, pin).then((outcome) => {
                  if (outcome.outcome === "signed_in") {
                    onSignedIn(outcome.staff);
                    return undefined;
                  }
                  return outcomeText(outcome, chosen.name, t);
                })
              }
            />
          )}
        </>
      )}
    </main>
  );
}

type T = ReturnType<typeof useI18n>["t"];

/** What to tell staff about a refused PIN. */
export type PinRefusal =
  | { outcome: "wrong_pin"; attempts_left: number | null }
  | { outcome: "locked_out"; minutes: number | null }
  | { outcome: "offline_not_allowed" };

export function outcomeText(outcome: PinRefusal, name: string, t: T): { text: string; code: string } {
  switch (outcome.outcome) {
    case "wrong_pin":
      return outcome.attempts_left == null
        ? { text: t("signin.wrong"), code: "wrong_pin" }
        : { text: t("signin.wrongLeft", { n: outcome.attempts_left }), code: "wrong_pin" };
    case "locked_out":
      return outcome.minutes == null
        ? { text: t("signin.lockedNoTime"), code: "locked_out" }
        : { text: t("signin.locked", { n: outcome.minutes }), code: "locked_out" };
    case "offline_not_allowed":
      return { text: t("signin.offlineNo", { name }), code: "offline_not_allowed" };
  }
}

/** A PIN pad: 44 px+ keys, and digits, Backspace and Enter on a keyboard.
 *  `submit` answers a refusal to show (or undefined when done). */
export function PinEntry({
  title,
  submitLabel,
  submit,
  onCancel,
  cancelLabel,
}: {
  title: string;
  submitLabel: string;
  submit: (pin: string) => Promise<{ text: string; code: string } | undefined>;
  onCancel?: () => void;
  cancelLabel?: string;
}) {
  const { t } = useI18n();
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<{ text: string; code: string } | undefined>();
  const [error, setError] = useState<AppError | undefined>();
  const latest = useRef({ pin, busy });
  latest.current = { pin, busy };
  // While a PIN is typed, nothing is a scan (a fast typist is not a scanner).
  useScanHandler(() => true);

  const send = useCallback(() => {
    const { pin: current, busy: sending } = latest.current;
    if (sending || current.length < 4) return;
    setBusy(true);
    setRefusal(undefined);
    setError(undefined);
    submit(current).then(
      (refused) => {
        setBusy(false);
        setPin("");
        if (refused) setRefusal(refused);
      },
      (e: AppError) => {
        setBusy(false);
        setPin("");
        setError(e);
      },
    );
  }, [submit]);

  const press = useCallback((key: string) => {
    if (latest.current.busy) return;
    if (key === "erase") setPin((p) => p.slice(0, -1));
    else if (key === "clear") setPin("");
    else setPin((p) => (p.length < 8 ? p + key : p));
  }, []);

  // Typing on a keyboard works too (outside other fields).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (/^[0-9]$/.test(event.key)) {
        event.preventDefault();
        press(event.key);
      } else if (event.key === "Backspace") {
        event.preventDefault();
        press("erase");
      } else if (event.key === "Enter") {
        event.preventDefault();
        send();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [press, send]);

  return (
    <div class="pin-entry card" data-testid="pin-entry">
      <h2 id="pin-title">{title}</h2>
      <output class="pin-dots" aria-label={t("signin.pinLabel")} aria-live="polite" data-testid="pin-dots" data-length={pin.length}>
        {pin.length === 0 ? " " : "•".repeat(pin.length)}
      </output>
      <div class="pin-pad" role="group" aria-labelledby="pin-title">
        {["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => (
          <button type="button" key={d} class="pin-key" aria-label={t("signin.digit", { d })} data-testid={`pin-key-${d}`} onClick={() => press(d)}>
            {d}
          </button>
        ))}
        <button type="button" class="pin-key secondary" data-testid="pin-clear" onClick={() => press("clear")}>
          {t("signin.clear")}
        </button>
        <button type="button" class="pin-key" aria-label={t("signin.digit", { d: "0" })} data-testid="pin-key-0" onClick={() => press("0")}>
          0
        </button>
        <button type="button" class="pin-key secondary" data-testid="pin-erase" aria-label={t("signin.erase")} onClick={() => press("erase")}>
          ⌫
        </button>
      </div>
      {refusal && (
        <p class="error-box" role="alert" data-testid="pin-refused" data-code={refusal.code}>
          {refusal.text}
        </p>
      )}
      {error && <ErrorMessage error={error} testId="pin-error" />}
      <div class="row">
        {onCancel && (
          <button type="button" class="secondary" data-testid="pin-cancel" onClick={onCancel}>
            {cancelLabel}
          </button>
        )}
        <button type="button" data-testid="pin-submit" disabled={busy || pin.length < 4} onClick={send}>
          {busy ? t("signin.checking") : submitLabel}
        </button>
      </div>
    </div>
  );
}
