// A keyword's own ways, in a panel under it that opens on demand: its pace, only the big
// stories, surge notices and its sources. Each choice is saved as soon as it is made, and the
// panel shows what the server then says (the controls stay in place, so focus stays too).
"use strict";

window.RasdWays = (function () {
  function element(name, properties, children) {
    const made = document.createElement(name);
    Object.assign(made, properties || {});
    made.append(...(children || []));
    return made;
  }

  function labelled(words, control) {
    return element("label", {}, [element("span", { textContent: words }), control]);
  }

  function choices(select, values) {
    select.replaceChildren(
      ...values.map(([value, words]) => element("option", { value: String(value), textContent: words })),
    );
  }

  function build(keyword, ctx) {
    const { text } = ctx;
    const options = ctx.options();
    const form = element("form", { className: "ways-form", noValidate: true });
    form.addEventListener("submit", (event) => event.preventDefault());
    const pace = element("select", { name: "pace" });
    const outlets = element("select", { name: "outlets" });
    choices(outlets, options.outlets.map((o) => [o.value, o.label]));
    const windowHours = element("select", { name: "window_hours" });
    choices(windowHours, options.windows.map((o) => [o.value, o.label]));
    const surges = element("select", { name: "surges" });
    const state = element("p", { className: "hint sources-state" });
    const readsNone = element("p", { className: "warning reads-none", hidden: true });
    readsNone.textContent = text("app_reads_none");
    const sites = element("ul", { className: "sites" });
    const feeds = element("div", { className: "feeds" });
    const every = element("button", { type: "button", className: "quiet every" });
    every.textContent = text("app_sources_all");
    const sources = element("fieldset", { className: "sources" }, [
      element("legend", { textContent: text("app_sources") }),
      state,
      readsNone,
      sites,
      element("p", { className: "hint", textContent: text("app_sources_hint") }),
      feeds,
      every,
    ]);
    const problem = element("p", { className: "error", hidden: true });
    problem.setAttribute("role", "alert");
    const saved = element("p", { className: "note", hidden: true });
    saved.setAttribute("aria-live", "polite");
    form.append(
      labelled(text("app_pace"), pace),
      element("div", { className: "pair" }, [
        labelled(text("app_big"), outlets),
        labelled(text("app_window"), windowHours),
      ]),
      labelled(text("app_surges"), surges),
      sources,
      problem,
      saved,
    );
    return { form, pace, outlets, windowHours, surges, state, readsNone, sites, feeds, every, problem, saved };
  }

  function showSources(parts, ways, ctx) {
    const { text } = ctx;
    parts.state.textContent = text(ways.scoped ? "app_sources_some" : "app_sources_all");
    parts.readsNone.hidden = !ways.reads_none;
    parts.every.hidden = !ways.scoped;
    const titles = new Map(ways.sources.map((source) => [source.id, source.title]));
    const list = new Intl.ListFormat(document.documentElement.lang, { type: "conjunction" });
    parts.sites.replaceChildren(
      ...ways.sites.map((site) => {
        const covered = list.format(site.feeds.map((id) => titles.get(id)));
        const words = covered
          ? text("app_site_covers", { host: site.host, feeds: covered })
          : text("app_site_none", { host: site.host });
        return element("li", { textContent: words });
      }),
    );
    if (parts.feeds.childElementCount !== ways.sources.length) {
      parts.feeds.replaceChildren(
        ...ways.sources.map((source) => {
          const box = element("input", { type: "checkbox", name: "feed", value: String(source.id) });
          const via = element("span", { className: "hint via", textContent: text("app_by_site") });
          return element("label", { className: "inline" }, [box, element("span", { textContent: source.title }), via]);
        }),
      );
    }
    ways.sources.forEach((source, index) => {
      const line = parts.feeds.children[index];
      line.querySelector("input").checked = source.ticked;
      line.querySelector(".via").hidden = !source.by_site;
    });
  }

  function show(parts, ways, ctx) {
    const { text } = ctx;
    const options = ctx.options();
    const own = options.paces.filter((pace) => pace !== "chat");
    const chat = text("app_pace_chat", { mode: text("mode_" + ways.chat_pace) });
    choices(parts.pace, [["chat", chat], ...own.map((pace) => [pace, text("mode_" + pace)])]);
    parts.pace.value = ways.pace;
    parts.outlets.value = String(ways.outlets);
    parts.windowHours.value = String(ways.window_hours);
    parts.windowHours.disabled = ways.outlets === 1;
    const automatic = text("app_surges_default", { state: text(ways.surges_default ? "app_on" : "app_off") });
    choices(parts.surges, [["default", automatic], ["on", text("app_on")], ["off", text("app_off")]]);
    parts.surges.value = ways.surges === null ? "default" : ways.surges ? "on" : "off";
    showSources(parts, ways, ctx);
  }

  function panel(keyword, ctx) {
    const { text } = ctx;
    const details = element("details", { className: "ways" }, [
      element("summary", { textContent: text("app_ways") }),
    ]);
    let parts = null;
    let shown = null;
    let loading = null;

    async function change(way, body) {
      parts.problem.hidden = true;
      parts.saved.hidden = true;
      try {
        shown = await ctx.api("PUT", "keywords/" + keyword.id + "/" + way, body);
        parts.saved.textContent = text("settings_saved");
        parts.saved.hidden = false;
      } catch (error) {
        parts.problem.textContent = ctx.messageOf(error);
        parts.problem.hidden = false;
      }
      show(parts, shown, ctx); // what is stored now, the refused choice undone
    }

    function listen() {
      parts.pace.addEventListener("change", () => change("pace", { pace: parts.pace.value }));
      const big = () =>
        change("big", { outlets: Number(parts.outlets.value), window_hours: Number(parts.windowHours.value) });
      parts.outlets.addEventListener("change", big);
      parts.windowHours.addEventListener("change", big);
      parts.surges.addEventListener("change", () => {
        const value = parts.surges.value;
        change("surges", { surges: value === "default" ? null : value === "on" });
      });
      parts.feeds.addEventListener("change", () => {
        const ticked = [...parts.feeds.querySelectorAll("input:checked")].map((box) => Number(box.value));
        change("sources", { feeds: ticked });
      });
      parts.every.addEventListener("click", () => change("sources", { all: true }));
    }

    details.addEventListener("toggle", async () => {
      if (!details.open || parts) return;
      if (loading) loading.remove(); // an earlier try that failed
      loading = element("p", { className: "hint", textContent: text("app_loading") });
      details.append(loading);
      try {
        shown = await ctx.api("GET", "keywords/" + keyword.id + "/ways");
      } catch (error) {
        loading.textContent = ctx.messageOf(error);
        loading.setAttribute("role", "alert");
        return;
      }
      parts = build(keyword, ctx);
      show(parts, shown, ctx);
      listen();
      loading.replaceWith(parts.form);
      details.dataset.ready = "true";
    });
    return details;
  }

  return { panel };
})();
