// The IPC payload types are generated from Rust into generated/ipc.ts; this
// module re-exports them for the screens.
export type * from "./generated/ipc";
