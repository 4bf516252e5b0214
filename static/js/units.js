// The managers' units on the sign-in accounts page. The forms work without
// this; it adds a filter box to long unit lists, and ticking a unit
// chooses "Only these units" (ticks under "Whole organisation" would be
// ignored).
"use strict";
(function () {
  const fold = s => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  for (const box of document.querySelectorAll("[data-units-filter]")) {
    const wrap = box.closest(".units-filter");
    const list = document.getElementById(box.dataset.unitsFilter);
    const none = wrap.querySelector("[data-units-none]");
    wrap.hidden = false;
    box.addEventListener("input", () => {
      const q = fold(box.value.trim());
      let shown = 0;
      for (const row of list.querySelectorAll(".check")) {
        const hit = fold(row.textContent).includes(q);
        row.hidden = !hit; // a hidden ticked unit stays ticked and is saved
        if (hit) shown++;
      }
      none.hidden = shown > 0;
    });
    // Enter in the filter filters; it does not save the form.
    box.addEventListener("keydown", e => { if (e.key === "Enter") e.preventDefault(); });
  }
  for (const unit of document.querySelectorAll(".units-choice input[name=unit]")) {
    unit.addEventListener("change", () => {
      const only = unit.form.querySelector("input[name=scope][value=units]");
      if (unit.checked && only) only.checked = true;
    });
  }
})();
