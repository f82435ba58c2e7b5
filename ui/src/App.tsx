import { Search } from "./screens/Search";

export function App() {
  return (
    <div class="app">
      <header class="topbar">
        <span class="brand">Aisle</span>
      </header>
      <main class="content">
        <Search />
      </main>
    </div>
  );
}
