// Rasd's Mini App: keywords and settings, over the bot's own API (/app/api/).
// initData comes from the #tgWebAppData fragment Telegram opens the page with; every call sends
// it as "Authorization: tma <initData>", and the server checks Telegram's signature.
"use strict";

(function () {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const initData = fragment.get("tgWebAppData") || "";
  const TRIAL_DELAY_MS = 500; // a keyword is tried once typing pauses this long
  let texts = {};
  let options = {};
  let trialTimer = 0;
  let trialAbort = null;
  // What the keyword panels (ways.js) use of this page.
  const waysContext = {
    api: (...args) => api(...args),
    text: (...args) => text(...args),
    options: () => options,
    messageOf: (error) => (error instanceof ApiError ? error.message : text("app_network")),
  };

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  function text(id, params) {
    let value = texts[id] || "";
    for (const [name, given] of Object.entries(params || {})) {
      value = value.split("{" + name + "}").join(String(given));
    }
    return value;
  }

  function applyTheme(theme) {
    for (const [key, value] of Object.entries(theme || {})) {
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        document.documentElement.style.setProperty("--tg-" + key.replace(/_/g, "-"), value);
      }
    }
  }

  function startTheme() {
    try {
      applyTheme(JSON.parse(fragment.get("tgWebAppThemeParams") || "{}"));
    } catch (ignored) {
      // no theme given: the page's own light colours
    }
    // Telegram tells an open app when the user switches theme: phones call
    // Telegram.WebView.receiveEvent, Telegram Web posts a message to the frame.
    const receive = (type, data) => {
      if (type === "theme_changed" && data) applyTheme(data.theme_params);
    };
    window.Telegram = window.Telegram || {};
    window.Telegram.WebView = window.Telegram.WebView || { receiveEvent: receive };
    window.addEventListener("message", (event) => {
      try {
        const message = JSON.parse(event.data);
        receive(message.eventType, message.eventData);
      } catch (ignored) {
        // not Telegram's message
      }
    });
  }

  function postEvent(type) {
    // Tells Telegram the page is ready (its loader goes) and may take the whole height.
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(type, "{}");
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: {} }), "*");
      }
    } catch (ignored) {
      // not inside Telegram: nothing to tell
    }
  }

  async function api(method, path, body, signal) {
    const headers = { Authorization: "tma " + initData };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch("api/" + path, {
        method,
        headers,
        signal,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(text("app_network"), 0);
    }
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (ignored) {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError((data && data.error) || text("app_network"), response.status);
    return data;
  }

  function showError(error) {
    if (error && error.name === "AbortError") return;
    const box = $("error");
    box.textContent = error instanceof ApiError ? error.message : text("app_network");
    box.hidden = false;
    if (!(error instanceof ApiError)) console.warn(error);
  }

  function clearError() {
    $("error").hidden = true;
  }

  function flash(id, message) {
    const note = $(id);
    note.textContent = message;
    note.hidden = false;
  }

  // ---- keywords

  function keywordItem(keyword, picture) {
    const item = document.createElement("li");
    item.dataset.id = String(keyword.id);
    item.classList.toggle("paused", keyword.paused);
    const row = document.createElement("div");
    row.className = "row";
    const word = document.createElement("span");
    word.className = "word";
    word.textContent = keyword.keyword;
    row.append(word);
    if (keyword.paused) {
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = text("app_paused");
      row.append(state);
    }
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "quiet";
    toggle.textContent = text(keyword.paused ? "app_resume" : "app_pause");
    toggle.addEventListener("click", () =>
      run(() => api("PATCH", "keywords/" + keyword.id, { paused: !keyword.paused }).then(loadKeywords)),
    );
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = text("app_delete");
    remove.addEventListener("click", () =>
      run(() => api("DELETE", "keywords/" + keyword.id).then(loadKeywords)),
    );
    row.append(toggle, remove);
    item.append(row);
    if (picture) item.append(window.RasdChart.figure(picture, options.direction === "rtl"));
    item.append(window.RasdWays.panel(keyword, waysContext));
    return item;
  }

  async function loadKeywords() {
    const [data, history] = await Promise.all([api("GET", "keywords"), api("GET", "history")]);
    const pictures = new Map(history.keywords.map((picture) => [picture.id, picture]));
    $("keywords").replaceChildren(...data.keywords.map((k) => keywordItem(k, pictures.get(k.id))));
    $("keywords-empty").hidden = data.keywords.length > 0;
  }

  async function addKeyword(event) {
    event.preventDefault();
    const input = $("add-input");
    const keyword = input.value.trim();
    if (!keyword) return;
    await run(async () => {
      const added = await api("POST", "keywords", { keyword });
      input.value = "";
      $("trial").hidden = true;
      flash("added", text("app_added", { keyword: added.keyword }));
      await loadKeywords();
    });
  }

  function scheduleTrial() {
    clearTimeout(trialTimer);
    $("added").hidden = true;
    const keyword = $("add-input").value.trim();
    if (!keyword) {
      $("trial").hidden = true;
      return;
    }
    trialTimer = setTimeout(() => tryKeyword(keyword), TRIAL_DELAY_MS);
  }

  async function tryKeyword(keyword) {
    if (trialAbort) trialAbort.abort();
    trialAbort = new AbortController();
    const box = $("trial");
    box.hidden = false;
    box.textContent = text("app_trying");
    try {
      const result = await api("POST", "test", { keyword }, trialAbort.signal);
      const params = { count: result.count, total: result.total, days: result.days };
      const heading = document.createElement("p");
      heading.textContent = text(result.count ? "app_would_match" : "app_no_match", params);
      const titles = document.createElement("ul");
      for (const title of result.titles) {
        const line = document.createElement("li");
        line.textContent = title;
        titles.append(line);
      }
      box.replaceChildren(heading, titles);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error instanceof ApiError && error.status === 429) {
        // The previous try is still running: try this one again in a moment, if still typed.
        trialTimer = setTimeout(() => {
          if ($("add-input").value.trim() === keyword) tryKeyword(keyword);
        }, 1000);
        return;
      }
      box.textContent = error instanceof ApiError ? error.message : text("app_network");
    }
  }

  // ---- settings

  function fillSelect(select, values, label) {
    select.replaceChildren(
      ...values.map((value) => {
        const option = document.createElement("option");
        option.value = String(value);
        option.textContent = label(value);
        return option;
      }),
    );
  }

  function buildSettingsForm() {
    const form = $("settings-form");
    const hours = Array.from({ length: 24 }, (_, hour) => hour);
    for (const select of form.querySelectorAll("select[data-hours]")) {
      fillSelect(select, hours, (hour) => String(hour).padStart(2, "0") + ":00");
    }
    fillSelect(form.delivery_mode, options.modes, (mode) => text("mode_" + mode));
    fillSelect(form.quiet_mode, options.quiet_modes, (mode) => text("quiet_" + mode));
    fillSelect(form.link_previews, options.previews, (mode) => text("preview_" + mode));
    $("timezones").replaceChildren(
      ...options.timezones.map((name) => {
        const option = document.createElement("option");
        option.value = name;
        return option;
      }),
    );
    form.timezone.placeholder = text("app_timezone_search");
    const languages = $("languages");
    for (const code of options.languages) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "language";
      box.value = code;
      const name = document.createElement("span");
      name.textContent = text(code === "*" ? "language_all" : "language_" + code);
      label.append(box, name);
      languages.append(label);
    }
    form.quiet_off.addEventListener("change", showQuiet);
  }

  function showQuiet() {
    const form = $("settings-form");
    form.quiet_start.disabled = form.quiet_end.disabled = form.quiet_off.checked;
  }

  function showSettings(settings) {
    const form = $("settings-form");
    form.delivery_mode.value = settings.delivery_mode;
    form.digest_hour.value = String(settings.digest_hour);
    const off = settings.quiet_start === null || settings.quiet_end === null;
    form.quiet_off.checked = off;
    form.quiet_start.value = String(off ? 22 : settings.quiet_start);
    form.quiet_end.value = String(off ? 7 : settings.quiet_end);
    form.quiet_mode.value = settings.quiet_mode;
    form.timezone.value = settings.timezone;
    form.link_previews.value = settings.link_previews;
    form.silent.checked = settings.silent;
    for (const box of form.querySelectorAll("input[name=language]")) {
      box.checked = settings.article_languages.includes(box.value);
    }
    showQuiet();
  }

  async function saveSettings(event) {
    event.preventDefault();
    const form = $("settings-form");
    const off = form.quiet_off.checked;
    const languages = [...form.querySelectorAll("input[name=language]:checked")].map((b) => b.value);
    const settings = {
      delivery_mode: form.delivery_mode.value,
      digest_hour: Number(form.digest_hour.value),
      quiet_start: off ? null : Number(form.quiet_start.value),
      quiet_end: off ? null : Number(form.quiet_end.value),
      quiet_mode: form.quiet_mode.value,
      timezone: form.timezone.value.trim(),
      link_previews: form.link_previews.value,
      silent: form.silent.checked,
      article_languages: languages.includes("*") ? ["*"] : languages,
    };
    await run(async () => {
      showSettings(await api("PUT", "settings", settings));
      flash("saved", text("settings_saved"));
    });
  }

  // ---- start

  async function run(action) {
    clearError();
    try {
      await action();
    } catch (error) {
      showError(error);
    }
  }

  function showTexts(me) {
    texts = me.texts;
    options = me;
    document.documentElement.lang = me.language;
    document.documentElement.dir = me.direction;
    document.title = text("app_title");
    $("title").textContent = text("app_title");
    $("keywords-title").textContent = text("app_keywords");
    $("settings-title").textContent = text("app_settings");
    $("keywords-empty").textContent = text("app_empty");
    $("add-button").textContent = text("app_add");
    $("add-input").placeholder = text("app_add_placeholder");
    $("add-input").maxLength = me.keyword_max_length;
    for (const element of document.querySelectorAll("[data-text]")) {
      element.textContent = text(element.dataset.text);
    }
  }

  async function start() {
    startTheme();
    if (!initData) {
      $("outside").hidden = false;
      return;
    }
    $("app").hidden = false;
    await run(async () => {
      showTexts(await api("GET", "me"));
      buildSettingsForm();
      $("add-form").addEventListener("submit", addKeyword);
      $("add-input").addEventListener("input", scheduleTrial);
      $("settings-form").addEventListener("submit", saveSettings);
      await loadKeywords();
      showSettings(await api("GET", "settings"));
      document.body.dataset.ready = "true";
    });
    postEvent("web_app_ready");
    postEvent("web_app_expand");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
