// SAMP Web Profile client (IVOA SAMP 1.3, section 5): the page registers with the user's SAMP hub
// at http://localhost:21012/ (TOPCAT and ASPRO2 run one; the hub asks the user to accept the page),
// finds the applications subscribed to table.load.votable and sends them a table by URL: they
// fetch it from this service themselves.  XML-RPC over fetch(); nothing but strings, maps and
// lists travel, as the Web Profile needs.  Exposed as window.GetstarSamp.
"use strict";

window.GetstarSamp = (function () {
  const HUB = "http://localhost:21012/";
  const MTYPE = "table.load.votable";

  // ---- XML-RPC ------------------------------------------------------------------------------

  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function encode(v) {
    if (Array.isArray(v)) return "<value><array><data>" + v.map(encode).join("") + "</data></array></value>";
    if (v !== null && typeof v === "object") {
      return "<value><struct>" + Object.entries(v).map(([k, x]) =>
        "<member><name>" + esc(k) + "</name>" + encode(x) + "</member>").join("") + "</struct></value>";
    }
    return "<value><string>" + esc(v === null || v === undefined ? "" : v) + "</string></value>";
  }

  function decode(valueNode) {
    const typed = valueNode.firstElementChild;
    if (!typed) return valueNode.textContent; // <value>text</value> is a string
    switch (typed.localName) {
      case "struct": {
        const out = {};
        for (const m of typed.children) {
          const name = m.querySelector(":scope > name");
          const v = m.querySelector(":scope > value");
          if (name && v) out[name.textContent] = decode(v);
        }
        return out;
      }
      case "array": {
        const data = typed.querySelector(":scope > data");
        return data ? Array.from(data.children).map(decode) : [];
      }
      case "int": case "i4": case "double": return Number(typed.textContent);
      case "boolean": return typed.textContent.trim() === "1";
      default: return typed.textContent;
    }
  }

  class HubError extends Error {}

  async function call(method, params) {
    const body = '<?xml version="1.0"?><methodCall><methodName>' + method + "</methodName><params>" +
      params.map((p) => "<param>" + encode(p) + "</param>").join("") + "</params></methodCall>";
    let response;
    try {
      response = await fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body });
    } catch (e) {
      throw new HubError("no SAMP hub is running: start TOPCAT or ASPRO2 (each runs one), then try again");
    }
    if (!response.ok) throw new HubError("the SAMP hub answered HTTP " + response.status);
    const doc = new DOMParser().parseFromString(await response.text(), "text/xml");
    const fault = doc.querySelector("methodResponse > fault > value");
    if (fault) {
      const f = decode(fault);
      throw new HubError("the SAMP hub refused: " + ((f && f.faultString) || "no reason given"));
    }
    const v = doc.querySelector("methodResponse > params > param > value");
    return v ? decode(v) : null;
  }

  // ---- a session with the hub -------------------------------------------------------------

  let session = null;

  async function register(version) {
    if (session) return session;
    const reg = await call("samp.webhub.register", [{ "samp.name": "getstar" }]);
    if (!reg || !reg["samp.private-key"]) throw new HubError("the SAMP hub did not register this page");
    session = { key: reg["samp.private-key"] };
    // ASPRO2 reads a table from an application called "getstar" as a GetStar answer
    await call("samp.webhub.declareMetadata", [session.key, {
      "samp.name": "getstar",
      "samp.description.text": "getstar star resolver (GetStar-compatible): sends star properties as VOTables",
      "home.page": location.origin + "/",
      "x-samp.release.version": version || "",
    }]);
    window.addEventListener("pagehide", () => {
      if (!session) return;
      const body = '<?xml version="1.0"?><methodCall><methodName>samp.webhub.unregister</methodName><params>' +
        "<param>" + encode(session.key) + "</param></params></methodCall>";
      fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body, keepalive: true }).catch(() => {});
    }, { once: true });
    return session;
  }

  async function recipients(key) {
    const subscribed = (await call("samp.webhub.getSubscribedClients", [key, MTYPE])) || {};
    const out = [];
    for (const id of Object.keys(subscribed)) {
      const meta = (await call("samp.webhub.getMetadata", [key, id])) || {};
      out.push({ id, name: String(meta["samp.name"] || id) });
    }
    return out;
  }

  // Send the VOTable at `url` (absolute) to the applications whose SAMP name matches `who`
  // (a RegExp); returns their names.  A hub that forgot this page (restarted) is asked again once.
  async function sendTable(who, url, tableName, version) {
    for (let attempt = 0; ; attempt++) {
      try {
        const s = await register(version);
        const targets = (await recipients(s.key)).filter((c) => who.test(c.name));
        if (!targets.length) return [];
        const message = { "samp.mtype": MTYPE, "samp.params": { url, name: tableName, "table-id": url } };
        for (const t of targets) await call("samp.webhub.notify", [s.key, t.id, message]);
        return targets.map((t) => t.name);
      } catch (e) {
        if (attempt === 0 && session && e instanceof HubError && /refused/.test(e.message)) {
          session = null;
          continue;
        }
        throw e;
      }
    }
  }

  return { sendTable, HubError };
})();
