// Runs once when the sources panel loads (gr.HTML js_on_load, `element` is the panel):
// opening a document scrolls its viewer to the cited passage. `toggle` does not bubble,
// hence the capturing listener on the panel.
element.addEventListener('toggle', (event) => {
  const details = event.target;
  if (!details.matches || !details.matches('details.qa-document') || !details.open) return;
  const box = details.querySelector('.qa-document-text');
  const passage = box && box.querySelector('.qa-in-document');
  if (!passage) return;
  const offset = passage.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += offset - box.clientHeight / 3;
  passage.scrollIntoView({block: 'nearest'});
}, true);
