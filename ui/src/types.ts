// Payload and error types of the app's IPC commands. They mirror the Rust
// types in crates/oms-api/src/wire.rs and src-tauri/src/error.rs.

export type Currency = string;

export interface Money {
  amount_minor: number;
  currency: Currency;
}

export interface Product {
  sku: string;
  name: string;
  brand: string;
  product_type: "standard" | "bulky" | "fragile" | string;
  barcodes: string[];
  price: Money;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

export type ErrorCode =
  | "backend_starting"
  | "backend_unavailable"
  | "invalid_input"
  | "internal";

export interface AppError {
  code: ErrorCode;
  message: string;
}
