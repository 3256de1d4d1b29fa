// Coach — the trainee's chat page.
//
// The reference client of the public API (/api/v1). Plain modern JS, no build step.
// Rules this file keeps:
//   * every piece of trainee or content text is rendered as text (textContent,
//     createTextNode), never parsed as HTML;
//   * the session token lives in sessionStorage (or in memory when storage is
//     unavailable, e.g. in some cross-site iframes) and only ever travels in the
//     Authorization header, never in a URL;
//   * no inline script or style: the page runs under a strict Content-Security-Policy.
"use strict";

(() => {
  // An LTI deep-linking return page carries one form: post the signed answer back to the LMS.
  const autosubmit = document.querySelector("form[data-autosubmit]");
  if (autosubmit) {
    autosubmit.submit();
    return;
  }

  const API = "/api/v1";
  const DEFAULT_LIMIT = 2000;
  const STORE_KEY = "coach.session";
  const DRAFT_KEY = "coach.draft";
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- storage

  /** sessionStorage when it works, a Map otherwise (blocked storage in iframes, privacy modes). */
  const storage = (() => {
    const memory = new Map();
    let backend = null;
    try {
      const s = window.sessionStorage;
      const probe = "coach.probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      backend = s;
    } catch {
      backend = null;
    }
    return {
      persistent: backend !== null,
      get(key) {
        try {
          return backend ? backend.getItem(key) : memory.get(key) ?? null;
        } catch {
          return memory.get(key) ?? null;
        }
      },
      set(key, value) {
        memory.set(key, value);
        try {
          if (backend) backend.setItem(key, value);
        } catch {
          /* quota or revoked access: memory keeps it */
        }
      },
      remove(key) {
        memory.delete(key);
        try {
          if (backend) backend.removeItem(key);
        } catch {
          /* ignore */
        }
      },
    };
  })();

  function savedSession() {
    const raw = storage.get(STORE_KEY);
    if (!raw) return null;
    try {
      const value = JSON.parse(raw);
      if (value && typeof value.session_id === "string" && typeof value.token === "string") return value;
    } catch {
      /* fall through */
    }
    storage.remove(STORE_KEY);
    return null;
  }

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  /** Build an element: el("p", {className: "x"}, "text", child). Strings become text nodes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "className") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else if (key in node && typeof value !== "string") node[key] = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function scrollIntoViewGently(node) {
    if (!node || typeof node.scrollIntoView !== "function") return;
    node.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "nearest" });
  }

  function focusHeading(node) {
    if (!node) return;
    node.focus({ preventScroll: true });
    window.scrollTo({ top: 0, behavior: "auto" });
  }

  /** Display names of the dimensions, as the service reports them ("Respecting autonomy"). */
  const DIMENSION_TITLES = {};
  const learnTitles = (scenario) => Object.assign(DIMENSION_TITLES, (scenario && scenario.dimension_titles) || {});
  const dimTitle = (id) => DIMENSION_TITLES[id] || humanize(id);

  /** "ask-again" → "Ask again" */
  function humanize(id) {
    const words = String(id).replace(/[-_]+/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  const VERDICT = {
    met: { label: "Shown", icon: "✓" },
    violated: { label: "Needs attention", icon: "!" },
    absent: { label: "Not shown", icon: "–" },
  };
  const KIND = {
    strength: "What worked",
    concern: "Watch this",
    tip: "Tip",
  };

  const PASS = 0.7; // the debrief's passing score (coach.domain.debrief.PASSING_SCORE)
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const percent = (score) => `${Math.round(Number(score) * 100)}%`;

  /** Code points, as the server counts them (Python str indices). */
  const codePoints = (text) => Array.from(text);

  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, title, detail, limit) {
      super(detail || title || `HTTP ${status}`);
      this.status = status;
      this.code = code;
      this.title = title;
      this.detail = detail;
      this.limit = limit;
    }
  }

  async function api(path, { method = "GET", body, auth = false, extraHeaders = {} } = {}) {
    const headers = { Accept: "application/json, application/problem+json", ...extraHeaders };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && state.token) headers.Authorization = `Bearer ${state.token}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network", "Coach can't be reached", "");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const type = data && typeof data.type === "string" ? data.type : "";
      const code = type.startsWith("/problems/") ? type.slice("/problems/".length) : `http-${response.status}`;
      throw new ApiError(response.status, code, data && data.title, data && data.detail, data && data.limit);
    }
    return data;
  }

  /** A random key for Idempotency-Key: sending the same reply again after a lost answer is safe. */
  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---------------------------------------------------------------- state

  const state = {
    scenarios: [],
    scenario: null, // GET /scenarios/{id}
    sessionId: null,
    token: null,
    status: "active",
    limit: DEFAULT_LIMIT,
    turns: [], // {seq, attempt, text, evaluation, feedback, superseded, client, bubble, after: [nodes]}
    lastClient: [],
    ending: null,
    busy: false,
    retrying: false,
    shownFeedback: null,
    pending: null, // {text, key}: the reply being sent, kept until the service answers it
  };

  function remember() {
    storage.set(
      STORE_KEY,
      JSON.stringify({
        session_id: state.sessionId,
        token: state.token,
        scenario_id: state.scenario ? state.scenario.id : null,
        title: state.scenario ? state.scenario.title : "",
      }),
    );
  }

  function forget() {
    storage.remove(STORE_KEY);
    storage.remove(DRAFT_KEY);
  }

  // ---------------------------------------------------------------- views

  const views = ["view-list", "view-play", "view-debrief"];

  function show(viewId) {
    for (const id of views) $(id).hidden = id !== viewId;
    document.body.dataset.view = viewId.replace("view-", "");
  }

  // ---------------------------------------------------------------- list

  async function showList({ focus = true } = {}) {
    show("view-list");
    document.title = "Coach — practise hard conversations";
    renderResume();
    if (focus) focusHeading($("list-heading"));
    const status = $("list-status");
    const list = $("scenario-list");
    if (state.scenarios.length === 0) {
      status.textContent = "Loading scenarios…";
      list.replaceChildren();
      try {
        const data = await api("/scenarios");
        state.scenarios = data.scenarios || [];
      } catch (error) {
        status.replaceChildren(
          el("span", { className: "notice notice--error" }, "The scenarios could not be loaded. ", describeError(error)),
          " ",
          el("button", { type: "button", className: "button button--quiet", onclick: () => showList() }, "Try again"),
        );
        return;
      }
    }
    status.textContent = state.scenarios.length ? "" : "No scenarios are installed yet.";
    list.replaceChildren(...state.scenarios.map(scenarioCard));
  }

  function renderResume() {
    const slot = $("resume-slot");
    slot.replaceChildren();
    const saved = savedSession();
    if (!saved) return;
    slot.append(
      el(
        "div",
        { className: "resume" },
        el("p", null, "You have a conversation in progress: ", el("strong", { text: saved.title || "a scenario" }), "."),
        el("button", { type: "button", className: "button button--primary", onclick: () => resume(saved) }, "Continue"),
      ),
    );
  }

  function chips(values, className) {
    return el("ul", { className: `chips ${className || ""}` }, values.map((v) => el("li", { className: "chip", text: v })));
  }

  function scenarioCard(s) {
    const headingId = nextId("scenario");
    learnTitles(s);
    const skills = (s.dimensions || []).map(dimTitle);
    return el(
      "li",
      { className: "card scenario" },
      el("h2", { className: "scenario__title", id: headingId, text: s.title }),
      el("p", { className: "scenario__summary", text: s.summary }),
      el(
        "dl",
        { className: "facts" },
        el("div", null, el("dt", { text: "Skills practised" }), el("dd", null, chips(skills, "chips--skills"))),
        (s.tags || []).length
          ? el("div", null, el("dt", { text: "Topics" }), el("dd", null, chips(s.tags, "chips--tags")))
          : null,
        el(
          "div",
          null,
          el("dt", { text: "Length" }),
          el("dd", {
            text: `About ${s.minutes} min${s.decision_points ? ` · up to ${s.decision_points} replies` : ""}`,
          }),
        ),
      ),
      el(
        "button",
        {
          type: "button",
          className: "button button--primary",
          "aria-describedby": headingId,
          onclick: (event) => start(s.id, event.currentTarget),
        },
        "Start",
      ),
    );
  }

  // ---------------------------------------------------------------- play

  async function start(scenarioId, button) {
    if (button) {
      button.disabled = true;
      button.textContent = "Starting…";
    }
    const status = $("list-status");
    try {
      const [scenario, created] = await Promise.all([
        api(`/scenarios/${encodeURIComponent(scenarioId)}`),
        api("/sessions", { method: "POST", body: { scenario_id: scenarioId } }),
      ]);
      storage.remove(DRAFT_KEY);
      beginPlay(scenario, created.session_id, created.token);
      state.status = created.status;
      state.lastClient = created.client;
      appendClient(created.client);
      remember();
      updateComposer();
      $("reply").focus();
    } catch (error) {
      status.replaceChildren(el("span", { className: "notice notice--error" }, "The conversation could not start. ", describeError(error)));
    } finally {
      if (button) {
        button.disabled = false;
        button.textContent = "Start";
      }
    }
  }

  function beginPlay(scenario, sessionId, token) {
    learnTitles(scenario);
    if (scenario && scenario.max_reply_chars) state.limit = scenario.max_reply_chars;
    Object.assign(state, {
      scenario,
      sessionId,
      token,
      status: "active",
      turns: [],
      lastClient: [],
      ending: null,
      retrying: false,
      busy: false,
      shownFeedback: null,
    });
    $("play-heading").textContent = scenario.title;
    document.title = `${scenario.title} — Coach`;
    const p = scenario.persona || {};
    const who = [p.name, p.age ? `${p.age}` : "", p.pronouns].filter(Boolean).join(", ");
    $("persona").replaceChildren(
      el("strong", { text: who }),
      p.background ? ` — ${p.background}` : "",
      scenario.setting ? el("span", { className: "persona__setting", text: ` ${scenario.setting}` }) : "",
    );
    $("transcript").replaceChildren();
    $("ending-slot").replaceChildren();
    hideError();
    renderFeedbackPlaceholder();
    $("reply").value = storage.get(DRAFT_KEY) || "";
    show("view-play");
    updateCounter();
  }

  const clientName = () => (state.scenario && state.scenario.persona && state.scenario.persona.name) || "Client";

  function clientBubble(line) {
    return el(
      "div",
      { className: "msg msg--client" },
      el("span", { className: "msg__who", text: clientName() }),
      el("p", { className: "msg__text", text: line }),
    );
  }

  function appendClient(lines) {
    const nodes = (lines || []).map(clientBubble);
    $("transcript").append(...nodes);
    return nodes;
  }

  /**
   * The reply with <mark> around the words behind each judgement. Offsets are code points.
   * With `interactive`, each mark is focusable and described by a tooltip (criterion and
   * standard); the tooltips are returned separately so the reply's own text stays exactly
   * what the trainee wrote.
   */
  function renderReplyText(text, turn, interactive) {
    const chars = codePoints(text);
    const matches = ((turn.evaluation && turn.evaluation.matches) || []).filter(
      (m) => m.start >= 0 && m.end > m.start && m.end <= chars.length,
    );
    const container = el("p", { className: "msg__text" });
    const tips = [];
    if (matches.length === 0) {
      container.textContent = text;
      return { text: container, tips };
    }
    const cuts = new Set([0, chars.length]);
    for (const m of matches) {
      cuts.add(m.start);
      cuts.add(m.end);
    }
    const points = [...cuts].sort((a, b) => a - b);
    let pending = null; // merge adjacent segments with the same covering matches
    const flush = () => {
      if (!pending) return;
      const segment = chars.slice(pending.from, pending.to).join("");
      if (pending.covering.length === 0) container.append(document.createTextNode(segment));
      else {
        const concern = pending.covering.some((m) => m.polarity === "concern");
        const mark = el("mark", {
          className: `evidence ${concern ? "evidence--concern" : "evidence--strength"}`,
          "data-criterion": pending.covering.map((m) => m.criterion).join(" "),
          text: segment,
        });
        container.append(mark);
        if (interactive) tips.push(evidenceTip(mark, pending.covering, turn));
      }
      pending = null;
    };
    for (let i = 0; i < points.length - 1; i++) {
      const from = points[i];
      const to = points[i + 1];
      const covering = matches.filter((m) => m.start <= from && m.end >= to);
      const key = covering.map((m) => `${m.criterion}:${m.start}`).join("|");
      if (pending && pending.key === key) pending.to = to;
      else {
        flush();
        pending = { from, to, covering, key };
      }
    }
    flush();
    return { text: container, tips };
  }

  function pointFor(turn, criterion) {
    const points = (turn.feedback && turn.feedback.points) || [];
    return points.find((p) => p.criterion === criterion) || null;
  }

  /** A tooltip for one mark, shown on hover and on keyboard focus; Escape dismisses it. */
  function evidenceTip(mark, covering, turn) {
    const tipId = nextId("evidence");
    mark.tabIndex = 0;
    mark.setAttribute("aria-describedby", tipId);
    const tip = el(
      "span",
      { className: "evidence-tip", role: "tooltip", id: tipId },
      covering.map((m) => {
        const point = pointFor(turn, m.criterion);
        const label = point ? point.label : humanize(m.criterion);
        return el(
          "span",
          { className: "evidence-tip__item" },
          el("span", { className: "evidence-tip__kind", text: m.polarity === "concern" ? "Watch: " : "Worked: " }),
          el("strong", { text: label }),
          el("span", { className: "evidence-tip__dim", text: ` (${dimTitle(m.dimension)})` }),
          point && point.standard ? el("span", { className: "evidence-tip__std", text: `Standard: ${point.standard}` }) : null,
        );
      }),
    );
    let hideTimer = 0;
    const open = () => {
      clearTimeout(hideTimer);
      tip.classList.add("is-open");
      place(mark, tip);
    };
    const close = () => tip.classList.remove("is-open");
    const closeSoon = () => {
      clearTimeout(hideTimer);
      hideTimer = setTimeout(() => {
        if (document.activeElement !== mark) close();
      }, 200);
    };
    mark.addEventListener("focus", open);
    mark.addEventListener("blur", close);
    mark.addEventListener("mouseenter", open);
    mark.addEventListener("mouseleave", closeSoon);
    tip.addEventListener("mouseenter", open);
    tip.addEventListener("mouseleave", closeSoon);
    // WCAG 1.4.13: content shown on hover or focus can be dismissed without moving.
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && tip.classList.contains("is-open")) {
        event.stopPropagation();
        close();
      }
    });
    return tip;
  }

  /** Put the tooltip just under its mark, inside the bubble (CSSOM positions are CSP-safe). */
  function place(mark, tip) {
    const box = tip.offsetParent;
    if (!box) return;
    const m = mark.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    const width = tip.offsetWidth;
    let left = m.left - b.left;
    const maxLeft = Math.max(0, document.documentElement.clientWidth - 8 - width - b.left);
    left = Math.min(left, maxLeft);
    left = Math.max(left, 8 - b.left);
    tip.style.left = `${Math.round(left)}px`;
    tip.style.top = `${Math.round(m.bottom - b.top + 6)}px`;
  }

  function replyBubble(turn) {
    const bubble = el("div", { className: "msg msg--own" });
    bubble.append(el("span", { className: "msg__who", text: "You" }));
    bubble.append(el("span", { className: "msg__superseded-label", text: "Taken back — first attempt" }));
    const rendered = renderReplyText(turn.text, turn, true);
    bubble.append(rendered.text);
    if (rendered.tips.length) bubble.append(el("div", { className: "evidence-tips" }, rendered.tips));
    const verdicts = verdictChips(turn.evaluation, true);
    const actions = el(
      "div",
      { className: "msg__actions" },
      verdicts,
      el(
        "button",
        {
          type: "button",
          className: "link-button",
          onclick: () => {
            renderFeedback(turn);
            $("feedback").focus({ preventScroll: true });
            scrollIntoViewGently($("feedback"));
          },
        },
        "Show feedback",
        el("span", { className: "visually-hidden", text: ` on reply ${turn.seq}${turn.attempt > 1 ? `, attempt ${turn.attempt}` : ""}` }),
      ),
    );
    bubble.append(actions);
    if (turn.superseded) bubble.classList.add("msg--superseded");
    return bubble;
  }

  function verdictChips(evaluation, compact) {
    const dims = (evaluation && evaluation.dimensions) || {};
    return el(
      "ul",
      { className: `verdicts ${compact ? "verdicts--compact" : ""}` },
      Object.entries(dims).map(([name, result]) => {
        const v = VERDICT[result.verdict] || { label: result.verdict, icon: "" };
        return el(
          "li",
          { className: `verdict verdict--${result.verdict}` },
          el("span", { className: "verdict__icon", "aria-hidden": "true", text: v.icon }),
          el("span", { className: "verdict__dim", text: `${dimTitle(name)}: ` }),
          el("span", { className: "verdict__label", text: v.label }),
          compact ? null : el("span", { className: "verdict__score", text: ` · ${percent(result.score)}` }),
        );
      }),
    );
  }

  // ---------------------------------------------------------------- feedback panel

  function renderFeedbackPlaceholder() {
    const dims = ((state.scenario && state.scenario.dimensions) || []).map(dimTitle);
    $("feedback-body").replaceChildren(
      el(
        "p",
        { className: "muted" },
        `After each reply, Coach shows what it noticed${dims.length ? ` about ${dims.join(" and ").toLowerCase()}` : ""}, ` +
          "highlights the words behind each judgement, and offers a tip.",
      ),
    );
    state.shownFeedback = null;
  }

  function latestTurn() {
    for (let i = state.turns.length - 1; i >= 0; i--) if (!state.turns[i].superseded) return state.turns[i];
    return null;
  }

  function renderFeedback(turn) {
    state.shownFeedback = turn;
    const fb = turn.feedback || { points: [] };
    const body = $("feedback-body");
    const isLatest = turn === latestTurn();
    const heading = `On your reply ${turn.seq}${turn.attempt > 1 ? ` (attempt ${turn.attempt})` : ""}`;
    const children = [
      el("p", { className: "feedback__about" }, el("strong", { text: heading }), turn.superseded ? " — taken back" : ""),
      el("blockquote", { className: "feedback__quote" }, renderReplyQuote(turn)),
      el("h3", { className: "feedback__h", text: "Verdicts" }),
      verdictChips(turn.evaluation, false),
    ];
    if (fb.note) {
      children.push(el("p", { className: "feedback__note" }, el("strong", { text: "Note: " }), fb.note));
    }
    if ((fb.points || []).length) {
      children.push(el("h3", { className: "feedback__h", text: "Coaching" }));
      children.push(el("ul", { className: "points" }, fb.points.map(pointItem)));
    }
    if (isLatest && !turn.superseded) {
      children.push(
        el(
          "div",
          { className: "feedback__retry" },
          el("p", { className: "muted", text: "Want another go at this moment? Your first attempt stays on the record." }),
          el("button", { type: "button", className: "button button--secondary", id: "retry-button", onclick: beginRetry }, "Try this reply again"),
        ),
      );
    }
    body.replaceChildren(...children);
  }

  function renderReplyQuote(turn) {
    // The panel repeats the words with plain marks; the transcript's marks carry the tooltips.
    return renderReplyText(turn.text, turn, false).text;
  }

  function pointItem(point) {
    const kind = point.kind in KIND ? point.kind : "tip";
    return el(
      "li",
      { className: `point point--${kind}` },
      el(
        "p",
        { className: "point__head" },
        el("span", { className: `badge badge--${kind}`, text: KIND[kind] }),
        point.critical ? el("span", { className: "badge badge--critical", text: "Critical" }) : null,
        el("strong", { className: "point__label", text: point.label }),
      ),
      el("p", { className: "point__message", text: point.message }),
      (point.evidence || []).length
        ? el(
            "p",
            { className: "point__evidence" },
            "Your words: ",
            point.evidence.map((e, i) => [i ? ", " : "", el("q", { text: e.text })]),
          )
        : null,
      point.better
        ? el("div", { className: "better" }, el("p", { className: "better__label", text: "You might say" }), el("p", { className: "better__text", text: point.better }))
        : null,
      el("p", { className: "point__standard", text: `${dimTitle(point.dimension)} · ${point.standard}` }),
    );
  }

  // ---------------------------------------------------------------- composer

  const reply = () => $("reply");

  function updateCounter() {
    const length = codePoints(reply().value).length;
    const counter = $("reply-count");
    counter.textContent = `${length} / ${state.limit}`;
    counter.classList.toggle("counter--over", length > state.limit);
    counter.classList.toggle("counter--near", length <= state.limit && length > state.limit * 0.9);
  }

  function updateComposer() {
    const finished = state.status === "finished" && !state.retrying;
    $("composer").hidden = finished;
    $("send").disabled = state.busy;
    $("send").textContent = state.busy ? "Sending…" : "Send";
    reply().readOnly = state.busy;
    $("composer").setAttribute("aria-busy", state.busy ? "true" : "false");
    const banner = $("retry-banner");
    banner.hidden = !state.retrying;
    if (state.retrying) {
      const t = latestTurn();
      const said = t && t.client && t.client.length ? t.client[t.client.length - 1] : "";
      $("retry-text").replaceChildren(
        el("strong", { text: "Answering again. " }),
        ...(said ? [`${clientName()} said: `, el("q", { text: said })] : []),
      );
    }
  }

  function showError(message, { invalid = false } = {}) {
    const box = $("reply-error");
    box.replaceChildren(...(Array.isArray(message) ? message : [message]));
    box.hidden = false;
    reply().setAttribute("aria-invalid", invalid ? "true" : "false");
  }

  function hideError() {
    $("reply-error").hidden = true;
    $("reply-error").replaceChildren();
    reply().removeAttribute("aria-invalid");
  }

  function describeError(error) {
    if (!(error instanceof ApiError)) return "Something unexpected went wrong.";
    switch (error.code) {
      case "network":
        return "Coach can't be reached right now. Check your connection and try again.";
      case "store-unavailable":
        return "Coach can't save replies at the moment. Please try again shortly.";
      case "invalid-token":
      case "session-not-found":
        return "This conversation can no longer be continued here.";
      default:
        if (error.status >= 500) return "Something went wrong on Coach's side. Please try again.";
        return error.detail ? `${capitalize(error.detail)}.` : "The request was refused.";
    }
  }

  const capitalize = (s) => String(s).charAt(0).toUpperCase() + String(s).slice(1).replace(/\.$/, "");

  function replyError(error) {
    const kept = " Your text is still in the box.";
    if (!(error instanceof ApiError)) return showError(`Something unexpected went wrong.${kept}`);
    switch (error.code) {
      case "reply-too-long": {
        if (Number.isInteger(error.limit)) state.limit = error.limit;
        updateCounter();
        return showError(
          `Your reply is too long for Coach: the limit is ${state.limit} characters. Shorten it and send again.${kept}`,
          { invalid: true },
        );
      }
      case "reply-empty":
        return showError(`Write what you would say to ${clientName()} first.`, { invalid: true });
      case "network":
        return showError(`Coach can't be reached right now. Check your connection and press Send again.${kept}`);
      case "store-unavailable":
        return showError(`Coach can't save your reply at the moment. Please try again shortly.${kept}`);
      case "rate-limited":
        return showError(`Coach is receiving a lot of replies right now. Wait a few seconds, then press Send again.${kept}`);
      case "session-finished":
      case "turn-conflict":
        showError(`This conversation moved on elsewhere (perhaps in another tab). It has been brought up to date.${kept}`);
        return resync();
      case "invalid-token":
      case "session-not-found":
        return showError([
          `This conversation can no longer be continued here.${kept} `,
          el("button", { type: "button", className: "link-button", onclick: () => leave() }, "Choose a scenario"),
        ]);
      default:
        return showError(`${describeError(error)}${kept}`);
    }
  }

  async function send() {
    if (state.busy) return;
    const text = reply().value;
    if (!text.trim()) {
      showError(`Write what you would say to ${clientName()} first.`, { invalid: true });
      reply().focus();
      return;
    }
    if (codePoints(text).length > state.limit) {
      showError(
        `Your reply is too long: ${codePoints(text).length} characters, and the limit is ${state.limit} characters. Shorten it and send again. Your text is still in the box.`,
        { invalid: true },
      );
      reply().focus();
      return;
    }
    hideError();
    state.busy = true;
    updateComposer();
    const typing = el("div", { className: "msg msg--client msg--typing", "aria-hidden": "true" }, el("span", { className: "dots" }, el("span"), el("span"), el("span")));
    const retrying = state.retrying;
    const path = `/sessions/${encodeURIComponent(state.sessionId)}/turns${retrying ? "/last/retry" : ""}`;
    $("transcript").append(typing);
    scrollIntoViewGently(typing);
    if (!state.pending || state.pending.text !== text || state.pending.retrying !== retrying) {
      state.pending = { text, retrying, key: randomKey() };
    }
    const extraHeaders = retrying ? {} : { "Idempotency-Key": state.pending.key };
    let result;
    try {
      result = await api(path, { method: "POST", body: { text }, auth: true, extraHeaders });
    } catch (error) {
      state.busy = false;
      updateComposer();
      replyError(error);
      reply().focus();
      return;
    } finally {
      typing.remove();
    }
    state.busy = false;
    state.pending = null;
    if (retrying) {
      const previous = latestTurn();
      if (previous) {
        previous.superseded = true;
        previous.bubble.classList.add("msg--superseded");
        for (const node of previous.after) node.remove();
        previous.after = [];
      }
      state.retrying = false;
    }
    reply().value = "";
    storage.remove(DRAFT_KEY);
    updateCounter();
    applyTurn(result);
    reply().focus({ preventScroll: true });
  }

  function applyTurn(result) {
    const turn = {
      seq: result.seq,
      attempt: result.attempt,
      text: result.text,
      evaluation: result.evaluation,
      feedback: result.feedback,
      superseded: false,
      client: state.lastClient,
      after: [],
    };
    turn.bubble = replyBubble(turn);
    $("transcript").append(turn.bubble);
    state.turns.push(turn);
    turn.after = appendClient(result.client);
    state.lastClient = result.client;
    state.status = result.status;
    state.ending = result.ending;
    renderFeedback(turn);
    $("sr-status").textContent = `Feedback: ${result.feedback.summary}`;
    updateComposer();
    renderEnding();
    scrollIntoViewGently(state.status === "finished" ? $("ending-slot") : $("composer"));
    if (state.status === "finished") {
      const heading = $("ending-heading");
      if (heading) heading.focus({ preventScroll: true });
    }
  }

  function renderEnding() {
    const slot = $("ending-slot");
    slot.replaceChildren();
    if (state.status !== "finished" || !state.ending || state.retrying) return;
    const outcome = state.ending.outcome || "mixed";
    slot.append(
      el(
        "div",
        { className: `ending ending--${outcome}` },
        el("p", { className: "eyebrow", text: "The conversation has ended" }),
        el("h2", { id: "ending-heading", tabindex: "-1", text: state.ending.title }),
        el(
          "div",
          { className: "ending__actions" },
          el("button", { type: "button", className: "button button--primary", onclick: () => showDebrief() }, "See your debrief"),
          el("button", { type: "button", className: "button button--secondary", onclick: beginRetry }, "Try the last reply again"),
        ),
      ),
    );
  }

  function beginRetry() {
    const last = latestTurn();
    if (!last || state.busy) return;
    state.retrying = true;
    hideError();
    if (!reply().value.trim()) reply().value = last.text;
    updateCounter();
    updateComposer();
    renderEnding();
    reply().focus();
    reply().select();
    scrollIntoViewGently($("composer"));
  }

  function cancelRetry() {
    state.retrying = false;
    updateComposer();
    renderEnding();
    if (state.status === "finished") {
      const heading = $("ending-heading");
      if (heading) heading.focus();
    } else reply().focus();
  }

  // ---------------------------------------------------------------- resume

  async function resume(saved) {
    state.token = saved.token;
    try {
      const transcript = await api(`/sessions/${encodeURIComponent(saved.session_id)}`, { auth: true });
      const scenario = await api(`/scenarios/${encodeURIComponent(transcript.scenario_id)}`);
      beginPlay(scenario, saved.session_id, saved.token);
      rebuild(transcript);
      remember();
      if (state.status === "finished") {
        const heading = $("ending-heading");
        if (heading) heading.focus();
      } else reply().focus();
      return true;
    } catch (error) {
      if (error instanceof ApiError && ["invalid-token", "session-not-found", "not-found"].includes(error.code)) {
        forget();
      }
      await showList({ focus: false });
      $("list-status").replaceChildren(
        el("span", { className: "notice notice--error" }, "Your earlier conversation could not be reopened. ", describeError(error)),
      );
      return false;
    }
  }

  function rebuild(transcript) {
    const log = $("transcript");
    log.replaceChildren();
    state.turns = [];
    let previousSeq = null;
    for (const t of transcript.turns) {
      if (t.seq !== previousSeq) {
        const nodes = appendClient(t.client);
        const prior = state.turns[state.turns.length - 1];
        if (prior) prior.after = nodes;
        previousSeq = t.seq;
      }
      const turn = { ...t, after: [] };
      turn.bubble = replyBubble(turn);
      log.append(turn.bubble);
      state.turns.push(turn);
    }
    const tail = appendClient(transcript.client);
    const last = state.turns[state.turns.length - 1];
    if (last) last.after = tail;
    state.lastClient = transcript.client;
    state.status = transcript.status;
    state.ending = transcript.ending;
    const latest = latestTurn();
    if (latest) renderFeedback(latest);
    else renderFeedbackPlaceholder();
    updateComposer();
    renderEnding();
  }

  async function resync() {
    try {
      const transcript = await api(`/sessions/${encodeURIComponent(state.sessionId)}`, { auth: true });
      state.retrying = false;
      rebuild(transcript);
    } catch {
      /* the error message is already shown */
    }
  }

  function leave() {
    // The conversation stays resumable from the list until a new one starts.
    saveDraft();
    state.retrying = false;
    showList();
  }

  function saveDraft() {
    if (state.sessionId) storage.set(DRAFT_KEY, reply().value);
  }

  // ---------------------------------------------------------------- debrief

  async function showDebrief() {
    const body = $("debrief-body");
    body.replaceChildren(el("p", { className: "muted", role: "status", text: "Preparing your debrief…" }));
    $("debrief-heading").textContent = state.ending ? state.ending.title : "Debrief";
    show("view-debrief");
    focusHeading($("debrief-heading"));
    let report;
    let transcript;
    try {
      [report, transcript] = await Promise.all([
        api(`/sessions/${encodeURIComponent(state.sessionId)}/report`, { auth: true }),
        api(`/sessions/${encodeURIComponent(state.sessionId)}`, { auth: true }),
      ]);
    } catch (error) {
      body.replaceChildren(
        el("p", { className: "notice notice--error", role: "alert" }, "The debrief could not be loaded. ", describeError(error)),
        el("button", { type: "button", className: "button button--secondary", onclick: () => showDebrief() }, "Try again"),
      );
      return;
    }
    renderDebrief(report, transcript);
  }

  function section(title, ...children) {
    const id = nextId("sec");
    return el("section", { className: "debrief-section", "aria-labelledby": id }, el("h2", { id, text: title }), ...children);
  }

  function renderDebrief(report, transcript) {
    $("debrief-heading").textContent = report.ending_title || "Debrief";
    $("debrief-eyebrow").textContent = `Debrief · ${report.scenario_title}`;
    document.title = `Debrief: ${report.scenario_title} — Coach`;
    const outcome = report.outcome || "mixed";
    const parts = [];
    parts.push(
      el(
        "div",
        { className: `summary card summary--${outcome}` },
        el(
          "p",
          { className: "summary__score" },
          el("span", { className: "summary__value", text: report.score === null ? "—" : percent(report.score) }),
          el("span", { className: "summary__caption", text: "overall" }),
        ),
        el(
          "div",
          null,
          el("p", { className: `badge badge--outcome badge--${outcome}`, text: `${humanize(outcome)} ending · ${report.passed ? "Passed" : "Not passed yet"}` }),
          report.debrief ? el("p", { className: "summary__text", text: report.debrief }) : null,
          el("p", { className: "muted", text: `${plural(report.turns, "reply", "replies")} · ${plural(report.questions_asked, "question", "questions")} asked` }),
        ),
      ),
    );
    parts.push(section("Scores by skill", scoreChart(report.dimensions, report.passing_score)));
    parts.push(
      section(
        "Critical incidents",
        report.critical_incidents.length
          ? el(
              "ul",
              { className: "items items--critical" },
              report.critical_incidents.map((i) =>
                el(
                  "li",
                  null,
                  el("strong", { text: i.label }),
                  ` — reply ${i.turn}: `,
                  el("q", { text: i.text }),
                  el("span", { className: "item__std", text: i.standard }),
                ),
              ),
            )
          : el("p", { className: "muted", text: "None. Nothing you wrote crossed a line that must never be crossed." }),
      ),
    );
    parts.push(
      el(
        "div",
        { className: "two-col" },
        section("Strengths", highlights(report.strengths, "Nothing stood out yet — the growth areas show where to start.")),
        section("Growth areas", highlights(report.growth_areas, "No growth areas noted in this conversation.")),
      ),
    );
    if ((report.retries || []).length) {
      parts.push(
        section(
          "Second attempts",
          el(
            "ul",
            { className: "items" },
            report.retries.map((r) =>
              el("li", null, `Reply ${r.turn}: ${percent(r.before)} → ${percent(r.after)}`, r.after > r.before ? el("span", { className: "up", text: " improved" }) : ""),
            ),
          ),
        ),
      );
    }
    parts.push(section("Your path through the conversation", scenarioMap(state.scenario, report.path)));
    parts.push(
      section(
        "Transcript",
        el(
          "div",
          { className: "transcript-actions no-print" },
          el("button", { type: "button", className: "button button--secondary", onclick: () => window.print() }, "Print transcript"),
          el("button", { type: "button", className: "button button--secondary", onclick: () => downloadJson(report, transcript) }, "Download JSON"),
        ),
        printableTranscript(transcript),
      ),
    );
    parts.push(
      el(
        "div",
        { className: "debrief-actions no-print" },
        el("button", { type: "button", className: "button button--primary", onclick: () => { forget(); showList(); } }, "Practise another conversation"),
        el("button", { type: "button", className: "button button--quiet", onclick: backToConversation }, "Back to the conversation"),
      ),
    );
    $("debrief-body").replaceChildren(...parts);
  }

  function backToConversation() {
    show("view-play");
    document.title = `${state.scenario.title} — Coach`;
    const heading = $("ending-heading") || $("play-heading");
    heading.focus();
  }

  function highlights(items, empty) {
    if (!items || !items.length) return el("p", { className: "muted", text: empty });
    return el(
      "ul",
      { className: "items" },
      items.map((h) =>
        el(
          "li",
          null,
          el("strong", { text: h.label }),
          h.count > 1 ? ` (${h.count}×)` : "",
          h.example ? [" — ", el("q", { text: h.example })] : "",
          el("span", { className: "item__advice", text: h.advice }),
          el("span", { className: "item__std", text: h.standard }),
        ),
      ),
    );
  }

  /** Horizontal bars, one per dimension, with the pass line (CSS bars; widths set through the CSSOM). */
  function passLine(pass) {
    const line = el("span", { className: "bar__pass" });
    line.style.left = percent(pass);
    return line;
  }

  function scoreChart(dimensions, passingScore) {
    const pass = typeof passingScore === "number" ? passingScore : PASS;
    const rows = dimensions.map((d) => {
      const fill = el("span", { className: `bar__fill ${d.score !== null && d.score >= pass ? "bar__fill--ok" : "bar__fill--low"}` });
      fill.style.width = `${d.score === null ? 0 : Math.max(1, Math.round(Math.min(1, d.score) * 100))}%`;
      return el(
        "li",
        { className: "bar" },
        el(
          "p",
          { className: "bar__head" },
          el("span", { className: "bar__label", text: d.title }),
          el("span", { className: "bar__value", text: d.score === null ? "not scored" : percent(d.score) }),
        ),
        el("span", { className: "bar__track", "aria-hidden": "true" }, fill, passLine(pass)),
        el(
          "span",
          { className: "bar__counts", text: `${d.met} shown · ${d.violated} needing attention · ${d.absent} not shown` },
        ),
      );
    });
    return el(
      "figure",
      { className: "chart-figure" },
      el("ul", { className: "chart" }, rows),
      el("figcaption", { className: "chart-caption", text: `The dashed line marks the passing score, ${percent(pass)}.` }),
    );
  }

  /** The scenario's map, nodes in columns by distance from the start, with the path taken highlighted. */
  function scenarioMap(scenario, path) {
    const nodes = (scenario && scenario.map && scenario.map.nodes) || [];
    const edges = (scenario && scenario.map && scenario.map.edges) || [];
    if (!nodes.length) return el("p", { className: "muted", text: "No map is available for this scenario." });
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const declared = scenario.map.start;
    const startId = byId.has(declared) ? declared : path && path.length && byId.has(path[0]) ? path[0] : nodes[0].id;
    const depth = new Map([[startId, 0]]);
    const queue = [startId];
    while (queue.length) {
      const id = queue.shift();
      for (const e of edges) {
        if (e.source === id && !depth.has(e.target)) {
          depth.set(e.target, depth.get(id) + 1);
          queue.push(e.target);
        }
      }
    }
    let maxDepth = Math.max(0, ...depth.values());
    for (const n of nodes) if (!depth.has(n.id) && !n.ending) depth.set(n.id, ++maxDepth);
    // Endings (including those no branch reaches, like running out of time) share the last column.
    const lastCol = Math.max(0, ...nodes.filter((n) => !n.ending).map((n) => depth.get(n.id))) + 1;
    for (const n of nodes) if (n.ending) depth.set(n.id, lastCol);
    const columns = [];
    for (const n of nodes) {
      const d = depth.get(n.id);
      (columns[d] = columns[d] || []).push(n);
    }
    const colW = 180;
    const rowH = 64;
    const boxW = 150;
    const boxH = 40;
    const maxRows = Math.max(...columns.filter(Boolean).map((c) => c.length));
    const width = columns.length * colW + 10;
    const height = maxRows * rowH + 20;
    const pos = new Map();
    columns.forEach((col, c) => {
      if (!col) return;
      const offset = ((maxRows - col.length) * rowH) / 2;
      col.forEach((n, r) => pos.set(n.id, { x: 10 + c * colW, y: 10 + offset + r * rowH }));
    });
    const onPath = new Set(path || []);
    const pathEdges = new Set();
    for (let i = 0; i + 1 < (path || []).length; i++) pathEdges.add(`${path[i]}→${path[i + 1]}`);
    const label = (n) => (n.ending ? n.title || humanize(n.id) : n.id === startId ? "Opening" : humanize(n.id));
    const pathWords = (path || []).map((id) => label(byId.get(id) || { id }));
    const titleId = nextId("map");
    const markerId = nextId("arrow");
    const markerPathId = nextId("arrow");
    const map = svg("svg", {
      class: "map",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-labelledby": titleId,
    });
    map.append(svg("title", { id: titleId }, `Scenario map. Your path: ${pathWords.join(", then ")}.`));
    map.append(
      svg(
        "defs",
        null,
        svg("marker", { id: markerId, viewBox: "0 0 10 10", refX: 9, refY: 5, markerUnits: "userSpaceOnUse", markerWidth: 9, markerHeight: 9, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: "map__arrow" })),
        svg("marker", { id: markerPathId, viewBox: "0 0 10 10", refX: 9, refY: 5, markerUnits: "userSpaceOnUse", markerWidth: 11, markerHeight: 11, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: "map__arrow map__arrow--path" })),
      ),
    );
    const seen = new Set();
    const edgeLayer = svg("g", null);
    const pathLayer = svg("g", null);
    for (const e of edges) {
      const key = `${e.source}→${e.target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const a = pos.get(e.source);
      const b = pos.get(e.target);
      if (!a || !b) continue;
      const taken = pathEdges.has(key);
      let d;
      if (b.x > a.x) {
        const x1 = a.x + boxW;
        const y1 = a.y + boxH / 2;
        const x2 = b.x;
        const y2 = b.y + boxH / 2;
        const mx = (x1 + x2) / 2;
        d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      } else if (b.x === a.x && Math.abs(b.y - a.y) > rowH) {
        // Same column, boxes between: bow out to the right of the column.
        const x = a.x + boxW;
        const y1 = a.y + boxH / 2;
        const y2 = b.y + boxH / 2;
        d = `M${x},${y1} C${x + 28},${y1} ${x + 28},${y2} ${x},${y2}`;
      } else if (b.x === a.x) {
        // Same column, next to each other: a short vertical link between the boxes.
        const x = a.x + boxW / 2 + (b.y > a.y ? 12 : -12);
        const y1 = b.y > a.y ? a.y + boxH : a.y;
        const y2 = b.y > a.y ? b.y : b.y + boxH;
        d = `M${x},${y1} L${x},${y2}`;
      } else {
        // Backward edge: loop above the boxes.
        const x1 = a.x + boxW / 2 + 10;
        const x2 = b.x + boxW / 2 - 10;
        const y1 = a.y;
        const y2 = b.y;
        const lift = Math.min(y1, y2) - 8 - Math.abs(a.x - b.x) / 10;
        d = `M${x1},${y1} C${x1},${lift} ${x2},${lift} ${x2},${y2}`;
      }
      (taken ? pathLayer : edgeLayer).append(
        svg("path", { d, class: `map__edge${taken ? " map__edge--path" : ""}`, "marker-end": `url(#${taken ? markerPathId : markerId})` }, svg("title", null, e.when)),
      );
    }
    map.append(edgeLayer, pathLayer);
    for (const n of nodes) {
      const p = pos.get(n.id);
      const classes = ["map__node"];
      if (onPath.has(n.id)) classes.push("map__node--path");
      if (n.ending) classes.push(`map__node--ending`, `map__node--${n.outcome || "mixed"}`);
      const text = label(n);
      const short = text.length > 19 ? `${text.slice(0, 17).trimEnd()}…` : text;
      map.append(
        svg(
          "g",
          { class: classes.join(" "), transform: `translate(${p.x},${p.y})` },
          svg("title", null, text),
          svg("rect", { width: boxW, height: boxH, rx: n.ending ? 20 : 8 }),
          svg("text", { x: boxW / 2, y: boxH / 2 + 5, "text-anchor": "middle" }, short),
        ),
      );
    }
    const scroller = el("div", { className: "map-scroll", tabindex: "0", role: "group", "aria-label": "Scenario map (scrolls sideways)" }, map);
    const legend = el(
      "p",
      { className: "map-legend" },
      el("span", { className: "key key--path", "aria-hidden": "true" }),
      " your path  ",
      el("span", { className: "key key--other", "aria-hidden": "true" }),
      " other branches",
    );
    const steps = el("ol", { className: "path-steps" }, pathWords.map((w) => el("li", { text: w })));
    return el("div", null, scroller, legend, el("p", { className: "path-label", text: "Your path:" }), steps);
  }

  function printableTranscript(transcript) {
    const list = el("ol", { className: "print-transcript" });
    let previousSeq = null;
    for (const t of transcript.turns) {
      if (t.seq !== previousSeq) {
        for (const line of t.client) list.append(el("li", { className: "pt pt--client" }, el("strong", { text: `${clientName()}: ` }), line));
        previousSeq = t.seq;
      }
      const verdicts = Object.entries(t.evaluation.dimensions)
        .map(([name, r]) => `${dimTitle(name)}: ${(VERDICT[r.verdict] || { label: r.verdict }).label}`)
        .join(" · ");
      list.append(
        el(
          "li",
          { className: `pt pt--own${t.superseded ? " pt--superseded" : ""}` },
          el("strong", { text: t.superseded ? "You (taken back): " : "You: " }),
          t.text,
          el("span", { className: "pt__verdicts", text: verdicts }),
        ),
      );
    }
    for (const line of transcript.client) list.append(el("li", { className: "pt pt--client" }, el("strong", { text: `${clientName()}: ` }), line));
    return list;
  }

  function downloadJson(report, transcript) {
    const payload = {
      exported_at: new Date().toISOString(),
      scenario: state.scenario ? { id: state.scenario.id, title: state.scenario.title, version: state.scenario.version } : null,
      transcript,
      report,
    };
    const blob = new Blob([JSON.stringify(payload, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: `coach-${transcript.scenario_id}-${transcript.session_id.slice(0, 8)}.json`, className: "visually-hidden" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    const box = reply();
    box.addEventListener("input", () => {
      updateCounter();
      saveDraft();
      if ($("reply-error").hidden === false && box.getAttribute("aria-invalid") === "true") {
        if (codePoints(box.value).length <= state.limit && box.value.trim()) hideError();
      }
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        send();
      }
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    $("retry-cancel").addEventListener("click", cancelRetry);
    $("back-to-list").addEventListener("click", leave);
    $("debrief-back").addEventListener("click", () => {
      forget();
      showList();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.retrying && document.activeElement === box) cancelRetry();
    });
    window.addEventListener("pagehide", saveDraft);
  }

  // ---------------------------------------------------------------- LTI launches

  /** The session an LTI launch handed over in the page body (never in a URL), read once. */
  function readMeta(name) {
    const meta = document.querySelector(`meta[name="${name}"]`);
    if (!meta) return null;
    let data = {};
    try {
      data = JSON.parse(meta.content || "{}");
    } catch {
      data = {};
    }
    meta.remove();
    return data;
  }

  function keep(sessionId, token) {
    storage.remove(DRAFT_KEY);
    storage.set(STORE_KEY, JSON.stringify({ session_id: sessionId, token }));
  }

  /** Inside the LMS: no way back to the scenario list, and a way out of the frame. */
  function ltiMode(windowCode) {
    document.documentElement.dataset.lti = "launch";
    for (const id of ["back-to-list", "debrief-back"]) $(id).hidden = true;
    if (!windowCode) return;
    const bar = document.querySelector(".site-header__inner");
    const link = el(
      "a",
      {
        className: "button button--quiet new-window",
        href: `/lti/resume#${encodeURIComponent(windowCode)}`,
        target: "_blank",
        rel: "noopener",
      },
      "Open in a new window",
    );
    // The new window takes the session over (its token replaces this page's).
    link.addEventListener("click", () => {
      setTimeout(() => link.replaceWith(el("p", { className: "brand__tag", role: "status" }, "Continued in a new window.")), 0);
    });
    if (bar) bar.append(link);
  }

  /** /lti/resume#<code>: exchange the one-time code for the session, then forget the code. */
  async function redeemHandoff() {
    const code = decodeURIComponent(window.location.hash.slice(1));
    history.replaceState(null, "", window.location.pathname);
    if (!code) return false;
    try {
      const response = await fetch("/lti/handoffs/redeem", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json" },
        body: JSON.stringify({ code }),
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) return false;
      const data = await response.json();
      keep(data.session_id, data.token);
      return true;
    } catch {
      return false;
    }
  }

  async function boot() {
    wire();
    updateCounter();
    document.documentElement.dataset.storage = storage.persistent ? "session" : "memory";
    const launch = readMeta("coach-launch");
    if (launch && launch.session_id && launch.token) {
      keep(launch.session_id, launch.token);
      ltiMode(launch.window_code);
    } else if (readMeta("coach-resume")) {
      ltiMode(null);
      if (!(await redeemHandoff())) {
        await showList({ focus: false });
        $("list-status").replaceChildren(
          el("span", { className: "notice notice--error" }, "This link was already used or has expired. Launch the activity again from your course."),
        );
        return;
      }
    }
    const saved = savedSession();
    if (saved) await resume(saved); // shows the list itself when the session cannot reopen
    else await showList({ focus: false });
  }

  boot();
})();
