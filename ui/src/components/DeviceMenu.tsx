// "This device" in the status bar: which OMS server the device works with,
// and "forget this device / pair again" (with what would be lost).
import { useState } from "preact/hooks";
import { forgetDevice, pairingState } from "../ipc";
import { useI18n } from "../i18n";
import type { AppError, PairingState } from "../generated/ipc";

export function DeviceMenu({ pending }: { pending: number }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<PairingState | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<AppError | undefined>();
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    if (open) {
      setOpen(false);
      setConfirming(false);
      return;
    }
    setOpen(true);
    pairingState().then(setState, () => setState(undefined));
  };
  const forget = () => {
    setBusy(true);
    setError(undefined);
    // On success the app restarts on the pairing screen.
    forgetDevice().catch((e: AppError) => {
      setBusy(false);
      setError(e);
    });
  };
  return (
    <span class="device-menu">
      <button type="button" class="link device-button" data-testid="device-menu" aria-expanded={open} onClick={toggle}>
        {t("device.button")}
      </button>
      {open && (
        <div class="device-panel" data-testid="device-panel">
          <p data-testid="device-server">
            {state?.server_url ? t("device.central", { url: state.server_url }) : t("device.embedded")}
          </p>
          {!confirming && (
            <button type="button" class="secondary" data-testid="device-forget" onClick={() => setConfirming(true)}>
              {t("device.forget")}
            </button>
          )}
          {confirming && (
            <div role="alertdialog" aria-labelledby="forget-text">
              <p id="forget-text">{t("device.forgetConfirm")}</p>
              {pending > 0 && (
                <p class="error" data-testid="device-forget-pending">
                  {t("device.forgetPending", { n: pending })}
                </p>
              )}
              <div class="row">
                <button type="button" data-testid="device-forget-yes" disabled={busy} onClick={forget}>
                  {t("device.forgetYes")}
                </button>
                <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(false)}>
                  {t("device.cancel")}
                </button>
              </div>
            </div>
          )}
          {error && (
            <p class="error" role="alert" data-testid="device-error">
              {error.message}
            </p>
          )}
        </div>
      )}
    </span>
  );
}
