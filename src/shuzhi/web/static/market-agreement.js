// The agreement form's resource choice: narrows the list as the filter is typed. The form
// works without it (the filter button asks the server); chosen resources always stay shown.
document.addEventListener('DOMContentLoaded', () => {
  const input = document.getElementById('resource-filter');
  const count = document.getElementById('resource-shown');
  if (!input) return;
  const key = (text) => text.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
  const narrow = () => {
    const wanted = key(input.value);
    let shown = 0;
    document.querySelectorAll('#resource-choice details.resource-unit').forEach((group) => {
      let inGroup = 0;
      group.querySelectorAll('label.resource').forEach((label) => {
        const box = label.querySelector('input[type=checkbox]');
        const hit = !wanted || box.checked || key(label.dataset.search || '').includes(wanted);
        label.style.display = hit ? '' : 'none';
        if (hit) inGroup += 1;
      });
      group.style.display = inGroup === 0 ? 'none' : '';
      if (wanted && inGroup) group.open = true;
      shown += inGroup;
    });
    if (count) count.textContent = String(shown);
  };
  input.addEventListener('input', narrow);
});
