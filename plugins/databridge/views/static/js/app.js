// Entry point of every DataBridge page: marks the current nav link and draws the screen named by <body data-page>.

import { errorMessage, replace } from "./dom.js";

const PAGES = {
  wizard: () => import("./wizard.js"),
  reports: () => import("./reports.js"),
  connections: () => import("./connections.js"),
  monitor: () => import("./monitor.js"),
};

async function start() {
  const page = document.body.dataset.page;
  for (const link of document.querySelectorAll(".topbar nav a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
  }
  const root = document.getElementById("page");
  try {
    const module = await PAGES[page]();
    await module.render(root, new URLSearchParams(location.search));
  } catch (err) {
    replace(root, errorMessage(err));
  }
}

start();
