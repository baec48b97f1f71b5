// Searchable pickers (Tom Select) for long selects marked data-picker: type to filter, Enter to
// choose, Backspace to remove the last choice. Without this script the plain select works.
"use strict";

(function searchablePickers() {
  if (typeof window.TomSelect !== "function") {
    return;
  }
  // the words the picker shows come from the page, in its language (Tom Select's are English)
  const noResults = document.currentScript.dataset.noResults;
  for (const select of document.querySelectorAll("select[data-picker]")) {
    const several = select.multiple;
    new window.TomSelect(select, {
      plugins: several ? { remove_button: { title: select.dataset.pickerRemove } } : {},
      maxOptions: null, // every match, not the first 50
      // filter at each key (the options are in the page): after a 300 ms pause by default,
      // a quick Enter chose what the list showed before the last letters
      refreshThrottle: 0,
      closeAfterSelect: !several,
      hidePlaceholder: true,
      allowEmptyOption: true, // "Any" stays a choice
      render: {
        no_results: (_data, escape) => `<div class="no-results">${escape(noResults)}</div>`,
      },
      // the next choice is typed afresh, not after the last one's name
      onItemAdd() {
        if (several) {
          this.setTextboxValue("");
          this.refreshOptions(false);
        }
      },
    });
    // the picker took over the label; the select it fills stays only for the form
    select.setAttribute("aria-hidden", "true");
    // the plain select's hint ("hold Ctrl to choose several") is for the plain select
    const hint = select.dataset.pickerHint && document.getElementById(`${select.id}-hint`);
    if (hint) {
      hint.textContent = select.dataset.pickerHint;
    }
  }
})();
