// A keyword's last two weeks as a small bar chart, drawn here as inline SVG (no other script):
// one bar a day, its height the day's stories against the keyword's busiest day; a day a surge
// was noticed has its bar in the surge colour and a mark above it. The chart's words (from the
// API, in the reader's language) are its text alternative and its visible caption.
"use strict";

window.RasdChart = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const BAR = 10; // a day's width in the drawing's units (it stretches to the line's width)
  const GAP = 2;
  const HEIGHT = 30; // the busiest day's bar
  const MARK = 5; // the band above the bars where surge marks go

  function shape(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    return element;
  }

  // Time runs with the reading direction: in Arabic today is at the left end.
  function drawing(picture, rightToLeft) {
    const days = picture.counts.length;
    const width = days * BAR;
    const full = HEIGHT + MARK;
    const svg = shape("svg", {
      class: "chart",
      viewBox: `0 0 ${width} ${full}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": picture.label,
    });
    const title = shape("title", {});
    title.textContent = picture.label;
    svg.append(title);
    const top = Math.max(1, ...picture.counts);
    const surged = new Set(picture.surges);
    picture.counts.forEach((count, day) => {
      const x = (rightToLeft ? days - 1 - day : day) * BAR + GAP / 2;
      const height = (count / top) * HEIGHT;
      const bar = shape("rect", { class: "bar", x, y: full - height, width: BAR - GAP, height });
      bar.dataset.day = String(day);
      bar.dataset.count = String(count);
      if (surged.has(day)) {
        bar.classList.add("surge");
        const mark = shape("rect", { class: "surge-mark", x, y: 0, width: BAR - GAP, height: 3 });
        mark.dataset.day = String(day);
        svg.append(mark);
      }
      svg.append(bar);
    });
    svg.append(shape("line", { class: "baseline", x1: 0, y1: full, x2: width, y2: full }));
    return svg;
  }

  function figure(picture, rightToLeft) {
    const box = document.createElement("figure");
    box.className = "picture";
    const caption = document.createElement("figcaption");
    caption.textContent = picture.label;
    caption.setAttribute("aria-hidden", "true"); // the drawing says it already, as its label
    box.append(drawing(picture, rightToLeft), caption);
    return box;
  }

  return { figure };
})();
