// Taking a selection elsewhere: a CSV (point index, test image, label, class, metadata columns,
// then x and y at every step) saved as a download, and the point indices on the clipboard.
import { app } from './state.js';
import { className } from './pointer.js';

function csvField(value) {
  const text = String(value);
  return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

export function selectionCsv(members) {
  const columns = (app.header.metadata && app.header.metadata.columns) || [];
  const head = ['index', 'test_index', 'label', 'class', ...columns.map((c) => c.name)];
  for (const frame of app.frames) head.push('x_' + frame.step, 'y_' + frame.step);
  const lines = [head.map(csvField).join(',')];
  for (const i of members) {
    const row = [i, app.testIndices[i], app.labels[i], className(app.labels[i]), ...columns.map((c) => c.values[i])];
    for (const frame of app.frames) row.push(frame.positions[2 * i], frame.positions[2 * i + 1]);
    lines.push(row.map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Saves `parts` as a download named `<run><suffix>`. */
export function download(parts, type, suffix) {
  const blob = new Blob(parts, { type });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = app.header.run + suffix;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the blob after click() returns: keep its URL alive a while.
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

export function downloadCsv(members) {
  download([selectionCsv(members)], 'text/csv', '-selection.csv');
}

export async function copyIndices(members) {
  const text = members.join(',');
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (some file:// pages): the old way, through a selected text field.
    const field = document.createElement('textarea');
    field.value = text;
    document.body.append(field);
    field.select();
    document.execCommand('copy');
    field.remove();
  }
  const button = document.getElementById('selCopy');
  button.textContent = 'Copied ' + members.length;
  setTimeout(() => (button.textContent = 'Copy indices'), 1500);
}
