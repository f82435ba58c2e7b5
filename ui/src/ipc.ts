// Typed wrappers over the app's IPC commands: the only place the UI calls
// `invoke`. Every rejection is normalised to an AppError.
import { invoke } from "@tauri-apps/api/core";
import type { AppError, ErrorCode, Page, Product } from "./types";

const ERROR_CODES: readonly ErrorCode[] = [
  "backend_starting",
  "backend_unavailable",
  "invalid_input",
  "internal",
];

export function toAppError(error: unknown): AppError {
  if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code)) {
      return { code: code as ErrorCode, message: String(message) };
    }
  }
  return { code: "internal", message: String(error) };
}

async function call<T>(command: string, args: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toAppError(error);
  }
}

export function searchProducts(query: string, cursor?: string): Promise<Page<Product>> {
  return call<Page<Product>>("search_products", { query, cursor: cursor ?? null });
}
