"use strict";
// Placeholder list until the full chat page lands.
fetch("/api/v1/scenarios").then((r) => r.json()).then((data) => {
  const list = document.createElement("ul");
  for (const s of data.scenarios) {
    const li = document.createElement("li");
    li.textContent = `${s.title} — ${s.summary}`;
    list.append(li);
  }
  document.getElementById("scenarios").append(list);
});
