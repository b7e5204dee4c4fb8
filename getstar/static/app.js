// getstar web page: one search box for a name or a position, answers from GET /v1/stars (JSON).
// Plain DOM (no framework, no build step); every text from the service goes in through
// textContent, never innerHTML.
"use strict";

(function () {
  const CATALOGUE = JSON.parse(document.getElementById("catalogue").textContent || "[]");
  const SECTIONS = [];
  for (const p of CATALOGUE) if (!SECTIONS.includes(p.section)) SECTIONS.push(p.section);
  const NEIGHBOURS = 50;
  const VERSION = document.body.dataset.version || "";

  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  // ---- what was typed: a position (numbers only) or a name -------------------------------

  // Only digits, signs, separators and sexagesimal marks: "101.28 -16.7", "06 45 08.9 -16 42 58",
  // "06:45:08.9 -16:42:58", "6h45m8.9s -16d42m58s". Names ("61 Cyg", "2MASS J06...") have letters.
  const POSITION = /^[0-9+\-\u2212.,:\s°'"′″hmsd]+$/i;

  function splitPosition(text) {
    const s = text.trim().replace(/\u2212/g, "-");
    if (!POSITION.test(s) || !/\d/.test(s)) return null;
    if (s.includes(",")) {
      const i = s.indexOf(",");
      return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
    }
    const tokens = s.split(/\s+/);
    if (tokens.length < 2) return null;
    const signed = tokens.findIndex((t, i) => i > 0 && /^[+-]/.test(t));
    if (signed > 0) return [tokens.slice(0, signed).join(" "), tokens.slice(signed).join(" ")];
    if (tokens.length % 2 === 0) {
      const half = tokens.length / 2;
      return [tokens.slice(0, half).join(" "), tokens.slice(half).join(" ")];
    }
    return null;
  }

  function apiUrl(params, format) {
    const q = new URLSearchParams(params);
    q.set("format", format);
    return "/v1/stars?" + q.toString();
  }

  // ---- showing things -----------------------------------------------------------------------

  function setStatus(text) { $("status").textContent = text || ""; }

  function clearError() { $("error").hidden = true; $("error").replaceChildren(); }

  function showError(title, detail, suggestions) {
    const box = $("error");
    box.replaceChildren(el("div", { class: "title" }, title));
    if (detail) box.append(el("div", { class: "detail" }, detail));
    if (suggestions && suggestions.length) {
      const line = el("div", { class: "suggestions" }, "Did you mean: ");
      for (const s of suggestions) {
        line.append(el("button", { type: "button", class: "suggestion", onclick: () => search(s) }, s));
      }
      box.append(line);
    }
    box.hidden = false;
    $("result").hidden = true;
  }

  function formatValue(v) {
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      return String(Number(v.toPrecision(9)));
    }
    if (typeof v === "boolean") return v ? "true" : "false";
    return String(v);
  }

  // origins get a stable colour each, so the eye groups values by catalogue
  function originColour(origin) {
    let h = 0;
    for (const c of origin) h = (h * 31 + c.charCodeAt(0)) % 360;
    return `hsl(${h}, 55%, 92%)`;
  }

  function originBadge(origin) {
    if (!origin) return el("span", { class: "badge" }, "—");
    const b = el("span", { class: "badge origin", title: "origin: " + origin }, origin);
    b.style.background = originColour(origin);
    return b;
  }

  function confidenceBadge(conf) {
    const c = conf || "none";
    return el("span", { class: "conf conf-" + c, title: "confidence" }, conf || "—");
  }

  function showStar(result, params) {
    $("star").hidden = false;
    $("main-id").textContent = result.main_id || result.query;
    $("queried").textContent = result.separation_arcsec != null
      ? `${result.separation_arcsec.toFixed(2)}″ from the position`
      : (result.query && result.query !== result.main_id ? `(${result.query})` : "");
    const own = params || { name: result.main_id || result.query };
    for (const fmt of ["json", "votable", "votable11", "csv"]) $("link-" + fmt).href = apiUrl(own, fmt);
    // SAMP: ASPRO2 gets GetStar's answer for the name typed (its target takes that name), TOPCAT VOTable 1.4
    const name = params ? (result.main_id || result.query) : (result.query || result.main_id);
    $("samp-aspro").dataset.url = "/sclwsGetStarProxy.php?star=" + encodeURIComponent(name);
    $("samp-aspro").dataset.table = name;
    $("samp-topcat").dataset.url = apiUrl({ name }, "votable");
    $("samp-topcat").dataset.table = name;

    const ra = result.properties && result.properties.RA && result.properties.RA.value;
    const dec = result.properties && result.properties.DEC && result.properties.DEC.value;
    const around = $("around-link");
    around.replaceChildren();
    if (typeof ra === "number" && typeof dec === "number" && !params) {
      around.append(" · ", el("a", { href: "?q=" + encodeURIComponent(`${ra} ${dec}`), onclick: (e) => {
        e.preventDefault(); search(`${ra.toFixed(6)} ${dec >= 0 ? "+" : ""}${dec.toFixed(6)}`);
      } }, "stars around it"));
    }

    const ids = result.identifiers || [];
    $("identifier-count").textContent = String(ids.length);
    $("identifiers").replaceChildren(...ids.map((i) => el("li", {}, i)));

    const props = result.properties || {};
    const box = $("props");
    box.replaceChildren();
    for (const section of SECTIONS) {
      const rows = CATALOGUE.filter((p) => p.section === section && props[p.name]);
      if (!rows.length) continue;
      const body = el("tbody");
      for (const p of rows) {
        const v = props[p.name];
        // an estimate (origin "computed": Gaia relations, colour tables, SearchCal's diameters) says so
        const estimated = v.origin === "computed";
        const value = el("td", { class: "value" }, formatValue(v.value));
        if (estimated) {
          value.prepend(el("span", { class: "est-mark", title: "estimated value (origin: computed)" }, "≈ "));
        }
        body.append(el("tr", { "data-property": p.name, class: estimated ? "estimated" : "",
                               title: estimated ? "estimated value (computed by getstar), not a catalogue measurement" : "" },
          el("td", { class: "name", title: p.description }, p.name),
          value,
          el("td", { class: "err" }, v.error != null ? "± " + formatValue(v.error) : ""),
          el("td", { class: "unit" }, p.unit || ""),
          el("td", {}, originBadge(v.origin)),
          el("td", {}, confidenceBadge(v.confidence))));
      }
      box.append(el("h3", {}, section), el("table", { class: "props" },
        el("thead", {}, el("tr", {}, ...["property", "value", "error", "unit", "origin", "confidence"]
          .map((h) => el("th", {}, h)))), body));
    }
  }

  // ---- the sky plot: offsets from the centre, north up, east left ---------------------------

  function skyPlot(results, ra0, dec0, radiusArcsec, onPick) {
    const plot = $("skyplot");
    plot.replaceChildren();
    const size = 320, c = size / 2, r = c - 22;
    const scale = r / radiusArcsec;
    const cosd = Math.cos(dec0 * Math.PI / 180);
    plot.append(svg("circle", { class: "ring", cx: c, cy: c, r: r }));
    plot.append(svg("line", { class: "cross", x1: c - 8, y1: c, x2: c + 8, y2: c }));
    plot.append(svg("line", { class: "cross", x1: c, y1: c - 8, x2: c, y2: c + 8 }));
    const n = svg("text", { x: c - 3, y: 12 }); n.textContent = "N"; plot.append(n);
    const e = svg("text", { x: 4, y: c + 4 }); e.textContent = "E"; plot.append(e);
    const label = svg("text", { x: size - 6, y: size - 6, "text-anchor": "end" });
    label.textContent = `r = ${radiusArcsec >= 60 ? (radiusArcsec / 60).toPrecision(3) + "′" : radiusArcsec.toPrecision(3) + "″"}`;
    plot.append(label);
    const dots = [];
    results.forEach((res, i) => {
      const p = res.properties || {};
      if (!p.RA || !p.DEC) return;
      const dra = ((p.RA.value - ra0 + 540) % 360) - 180;
      const dx = dra * cosd * 3600, dy = (p.DEC.value - dec0) * 3600;
      const x = c - dx * scale, y = c - dy * scale;
      const mag = (p.V || p.G || p.Hp || {}).value;
      const rad = typeof mag === "number" ? Math.max(2, Math.min(9, 8 - 0.55 * mag)) : 2.5;
      const dot = svg("circle", { class: "star", cx: x.toFixed(1), cy: y.toFixed(1), r: rad.toFixed(1),
                                  "data-index": i });
      const title = svg("title");
      title.textContent = `${res.main_id} — ${res.separation_arcsec != null ? res.separation_arcsec.toFixed(1) + "″" : ""}`;
      dot.append(title);
      dot.addEventListener("click", () => onPick(i));
      plot.append(dot);
      dots.push(dot);
      if (i < 6) {
        const right = x > size * 0.55; // labels on the right half go leftwards, inside the plot
        const t = svg("text", { x: (right ? x - rad - 2 : x + rad + 2).toFixed(1), y: (y - rad).toFixed(1),
                                "text-anchor": right ? "end" : "start" });
        t.textContent = res.main_id || "";
        plot.append(t);
      }
    });
    return dots;
  }

  function showNeighbourhood(results, pos, radiusText, params) {
    $("neighbourhood").hidden = false;
    $("centre").textContent = `${pos[0]} ${pos[1]} (radius ${radiusText})`;
    $("cone-votable").href = apiUrl(params, "votable");
    $("samp-cone-topcat").dataset.url = apiUrl(params, "votable");
    $("samp-cone-topcat").dataset.table = `getstar ${pos[0]} ${pos[1]} r=${radiusText}`;
    const body = $("neighbours").querySelector("tbody");
    let dots = [];
    const pick = (i) => {
      body.querySelectorAll("tr").forEach((tr, k) => tr.classList.toggle("selected", k === i));
      dots.forEach((d) => d.classList.toggle("selected", Number(d.getAttribute("data-index")) === i));
      showStar(results[i], params);
    };
    body.replaceChildren(...results.map((res, i) => {
      const p = res.properties || {};
      return el("tr", { onclick: () => pick(i) },
        el("td", {}, String(i + 1)), el("td", {}, res.main_id || ""),
        el("td", {}, res.separation_arcsec != null ? res.separation_arcsec.toFixed(2) + "″" : ""),
        el("td", {}, p.V ? formatValue(p.V.value) : ""), el("td", {}, p.SpType ? String(p.SpType.value) : ""));
    }));
    return { pick, setDots: (d) => { dots = d; } };
  }

  // ---- one search --------------------------------------------------------------------------

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    let doc = null;
    try { doc = await response.json(); } catch (e) { doc = null; }
    return { response, doc };
  }

  function problem(response, doc, what) {
    if (doc && doc.detail) {
      const title = response.status === 404 ? "Not found" : response.status === 400 ? "Cannot read the query"
        : (doc.title || "Error");
      showError(title, doc.detail, doc.suggestions || doc.candidates);
    } else {
      showError("Error", `${what}: the service answered HTTP ${response.status}`);
    }
  }

  let current = 0;

  async function search(text, push = true) {
    text = (text || "").trim();
    $("q").value = text;
    if (!text) return;
    const token = ++current;
    clearError();
    setStatus("Searching…");
    if (push) history.pushState({ q: text }, "", "?q=" + encodeURIComponent(text));
    const pos = splitPosition(text);
    const radiusText = ($("radius").value || "1arcmin").trim();
    const params = pos ? { ra: pos[0], dec: pos[1], radius: radiusText, limit: String(NEIGHBOURS) } : { name: text };
    let got;
    try {
      got = await fetchJson(apiUrl(params, "json"));
    } catch (e) {
      if (token === current) { setStatus(""); showError("The service cannot be reached", String(e)); }
      return;
    }
    if (token !== current) return; // a newer search is on its way
    setStatus("");
    const { response, doc } = got;
    if (!response.ok || !doc) { problem(response, doc, text); return; }
    $("result").hidden = false;
    $("neighbourhood").hidden = true;
    $("star").hidden = true;
    const results = (doc.results || []).filter((r) => r.status === "ok");
    if (!pos) {
      const r = doc.results && doc.results[0];
      if (!r || r.status !== "ok") {
        showError(r && r.status === "ambiguous" ? "Ambiguous name" : "Not found",
                  r && r.message ? r.message : `No star called “${text}”.`, r && (r.suggestions || r.candidates));
        return;
      }
      showStar(r, null);
      return;
    }
    if (!results.length) {
      showError("No star there", `No star of the snapshot within ${radiusText} of ${pos[0]} ${pos[1]}.`);
      return;
    }
    const view = showNeighbourhood(results, pos, radiusText, params);
    // the centre as the service read it (results carry it as "RA DEC" in degrees)
    const centre = (results[0].query || "").split(/\s+/).map(Number);
    const radiusArcsec = parseRadiusArcsec(radiusText)
      || Math.max(...results.map((r) => r.separation_arcsec || 0), 1) * 1.1;
    view.setDots(skyPlot(results, centre[0], centre[1], radiusArcsec, view.pick));
    view.pick(0);
  }

  function parseRadiusArcsec(text) {
    const m = /^\s*([0-9.]+)\s*(arcsec|as|"|arcmin|am|'|deg|d|°|mas)?\s*$/i.exec(text);
    if (!m) return null;
    const v = Number(m[1]);
    const u = (m[2] || "arcsec").toLowerCase();
    if (u === "arcmin" || u === "am" || u === "'") return v * 60;
    if (u === "deg" || u === "d" || u === "°") return v * 3600;
    if (u === "mas") return v / 1000;
    return v;
  }

  // ---- SAMP: send a table (by URL) to ASPRO2 or TOPCAT -------------------------------------

  async function sendOverSamp(button, who, label) {
    const box = $("samp-status");
    if (!button.dataset.url) return;
    const url = new URL(button.dataset.url, location.href).href;
    box.textContent = `Sending to ${label}…`;
    try {
      const sent = await window.GetstarSamp.sendTable(who, url, button.dataset.table || "getstar", VERSION);
      box.textContent = sent.length ? `Sent to ${sent.join(", ")}.`
        : `${label} is not connected to the SAMP hub: start it, then try again.`;
    } catch (e) {
      box.textContent = `Not sent: ${e.message}`;
    }
  }

  $("samp-aspro").addEventListener("click", (e) => sendOverSamp(e.currentTarget, /^aspro/i, "ASPRO2"));
  $("samp-topcat").addEventListener("click", (e) => sendOverSamp(e.currentTarget, /^topcat/i, "TOPCAT"));
  $("samp-cone-topcat").addEventListener("click", (e) => sendOverSamp(e.currentTarget, /^topcat/i, "TOPCAT"));

  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value); });
  window.addEventListener("popstate", (e) => { if (e.state && e.state.q) search(e.state.q, false); });
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) search(initial, false);
})();
