import { render } from "preact";
import { App } from "./App";
import { Pairing } from "./screens/Pairing";
import "./styles.css";

const root = document.getElementById("app");
if (root)
  render(
    <Pairing>
      <App />
    </Pairing>,
    root,
  );
