// Barcode scanners in keyboard-wedge mode type the code fast and press Enter.
// `useWedgeScanner` catches such bursts anywhere in the app (outside text
// fields, which receive scans as typed text), and screens may claim scans
// with `useScanHandler` (the pick list confirms items) before the default
// (open the product) runs.
import { createContext } from "preact";
import { useContext, useEffect, useRef } from "preact/hooks";

/** Longest pause between a scanner's keystrokes, in ms. */
export const SCAN_KEY_GAP_MS = 50;
/** Shortest code a scan can be. */
export const SCAN_MIN_LENGTH = 4;

/** Returns true when it used the scan. */
export type ScanHandler = (code: string) => boolean;

export interface ScanRegistry {
  push(handler: ScanHandler): () => void;
}

export const ScanContext = createContext<ScanRegistry>({ push: () => () => undefined });

/** Lets the current screen take scans first while it is mounted. */
export function useScanHandler(handler: ScanHandler) {
  const registry = useContext(ScanContext);
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => registry.push((code) => latest.current(code)), [registry]);
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

/** Listens for scanner bursts typed outside any text field. */
export function useWedgeScanner(onScan: (code: string) => void) {
  const latest = useRef(onScan);
  latest.current = onScan;
  useEffect(() => {
    let buffer = "";
    let last = 0;
    const onKey = (event: KeyboardEvent) => {
      if (isEditable(event.target) || event.ctrlKey || event.altKey || event.metaKey) return;
      const now = event.timeStamp || Date.now();
      if (now - last > SCAN_KEY_GAP_MS) buffer = "";
      last = now;
      if (event.key === "Enter") {
        if (buffer.length >= SCAN_MIN_LENGTH) {
          event.preventDefault();
          latest.current(buffer);
        }
        buffer = "";
      } else if (event.key.length === 1) {
        buffer += event.key;
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}
